"""Payout statements as files: one statement as a PDF, every statement of a month in one ZIP.

The figures come from `statements.statement_detail` (the ZIP: the same details, loaded for the whole
month at once), the very lines and totals the statement screen shows, so the PDF adds up to the
screen. A statement is written in the language asked for (the reader's for a download, the
therapist's for the email), amounts as on the screens (`format_money` in that language, never a
total across currencies). Each download is recorded as an export by the documents service that makes
it; the PDF attached to the statement's email is recorded by its sending instead (services.payouts.emails).
"""

from __future__ import annotations

from decimal import Decimal

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin_app.config import SUPPORTED_LOCALES
from admin_app.models import CompensationModel, HeldReason, PayoutLine, PayoutStatus
from admin_app.models.audit import Actor
from admin_app.models.base import utcnow
from admin_app.services.payouts.statements import StatementDetail, month_details, statement_detail
from admin_app.services.platform import documents
from admin_app.services.platform.documents.pdf import render_pdf
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import choice_label
from admin_app.services.platform.money import format_money
from admin_app.services.platform.months import Month
from admin_app.services.platform.progress import Progress, ignore

TEMPLATE = "pdf/payout_statement.html"
AUDITED_ENTITY = "payout_statement"  # a statement carries its therapist's earnings and clients' names


def statement_pdf(
    session: Session, statement_id: int, *, language: str, actor: Actor | None = None
) -> documents.Document:
    """One statement as a PDF in `language`, recorded as an export of that statement."""
    detail = statement_detail(session, statement_id)
    return documents.pdf_document(
        session,
        statement_html(detail, language=language),
        filename=statement_file_name(detail),
        export=documents.Export(AUDITED_ENTITY, statement_id),
        actor=actor,
    )


def statement_pdf_bytes(session: Session, statement_id: int, *, language: str) -> tuple[str, bytes]:
    """The same PDF's file name and content, for the email's attachment (not an export: the sending
    that attaches it is its record)."""
    detail = statement_detail(session, statement_id)
    return statement_file_name(detail), render_pdf(statement_html(detail, language=language))


def month_zip(
    session: Session, month: Month | str, *, language: str, actor: Actor | None = None, progress: Progress = ignore
) -> documents.Document:
    """A ZIP of every statement of the month, one PDF each (`progress` counts them), named as each
    one's own download, in the order of the therapists' names. A month without statements is refused (an empty ZIP would
    only puzzle)."""
    month = month if isinstance(month, Month) else Month.parse(month)
    details = month_details(session, month)
    if not details:
        raise RuleViolation(
            _l(
                "No payout statements for %(month)s: run the month's payouts first.",
                month=month.label(_language(language)),
            ),
            field="month",
        )
    files: list[tuple[str, str]] = []
    names: set[str] = set()
    for detail in details:
        name = statement_file_name(detail)
        while name in names:  # two drafts of therapists of the same name
            name = name.removesuffix(".pdf") + f"-{detail.statement.id}.pdf"
        names.add(name)
        files.append((name, statement_html(detail, language=language)))
    return documents.pdf_zip_document(
        session,
        files,
        filename=documents.file_name(str(month), "payout-statements", extension="zip"),
        export=documents.Export(AUDITED_ENTITY),
        now=utcnow(),
        actor=actor,
        progress=progress,
    )


def statement_file_name(detail: StatementDetail) -> str:
    """ "2026-10-ana-ruiz-ps-000001.pdf" ("...-draft.pdf" before approval): ASCII only, whatever the name holds."""
    statement = detail.statement
    return documents.file_name(
        statement.month,
        statement.therapist.full_name,
        statement.number or "draft",
        extension="pdf",
        placeholder="therapist",
    )


def statement_html(detail: StatementDetail, *, language: str) -> str:
    """The statement as a complete HTML document for the PDF writer, every value escaped."""
    language = _language(language)
    statement = detail.statement
    with force_locale(language):
        return render_template(
            TEMPLATE,
            language=language,
            practice_name=current_app.config["PRACTICE_NAME"],
            practice_address=current_app.config["PRACTICE_ADDRESS"],
            therapist_name=statement.therapist.full_name,
            month=detail.month.label(language),
            number=statement.number or gettext("Draft"),
            status=str(choice_label(PayoutStatus(statement.status))),
            cut_off=statement.cut_off.isoformat(),
            paid_on=statement.paid_on.isoformat() if statement.paid_on else None,
            paid_reference=statement.paid_reference,
            lines=[_line(line, language) for line in detail.lines],
            held_lines=[_line(line, language) for line in detail.held_lines],
            adjustments=[
                {"reason": item.reason, "amount": format_money(item.amount, item.currency, language)}
                for item in detail.adjustments
            ],
            totals=_totals(detail, language),
        )


def terms_text(line: PayoutLine, language: str) -> str:
    """The terms a line was worked out with, in the current language: "40 %" or "service fee 30.00"."""
    if line.compensation_model == CompensationModel.COMMISSION:
        return f"{(line.commission_percent or Decimal(0)).normalize():f} %"
    return gettext(
        "service fee %(amount)s", amount=format_money(line.service_fee or Decimal(0), line.currency, language)
    )


def _line(line: PayoutLine, language: str) -> dict[str, object]:
    return {
        "date": line.date_of_service.isoformat(),
        "client": line.client.full_name,
        "payer": line.payer.name if line.payer is not None else gettext("Self-pay"),
        "amount": format_money(line.amount, line.currency, language),
        "collected": format_money(line.collected, line.currency, language),
        "terms": terms_text(line, language),
        "earning": format_money(line.earning, line.currency, language),
        "why_held": str(choice_label(HeldReason(line.held_reason))) if line.held_reason else "",
    }


def _totals(detail: StatementDetail, language: str) -> list[dict[str, str]]:
    """Earned, adjustments, due and held per currency, one row each; never a figure across currencies."""
    earned, adjusted, due, held = detail.earned, detail.adjusted, detail.due, detail.held
    currencies = sorted(set(earned) | set(adjusted) | set(due) | set(held))
    zero = Decimal(0)
    return [
        {
            "currency": currency,
            "earned": format_money(earned.get(currency, zero), currency, language),
            "adjustments": format_money(adjusted.get(currency, zero), currency, language),
            "due": format_money(due.get(currency, zero), currency, language),
            "held": format_money(held.get(currency, zero), currency, language),
        }
        for currency in currencies
    ]


def _language(language: str) -> str:
    return language if language in SUPPORTED_LOCALES else current_app.config["DEFAULT_LOCALE"]
