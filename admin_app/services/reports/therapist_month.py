"""Therapists' month reports as PDFs: every counted session line of the month and its totals.

The lines come from `stats.session_lines` and the totals from `stats.month_totals`, the figures
the monthly totals screen shows; both round per line, so a month report adds up to the screen.
A month report is written in the language asked for (the reader's), amounts as on the screens
(the template's `money` filter in that language, never a total across currencies), times in clinic time.
Each PDF or ZIP is made by the documents service, which records it as an export of therapists'
data (the ZIP: of every therapist's).

(Not the payout statement: that is what the practice owes a therapist, from billing.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.config import SUPPORTED_LOCALES
from admin_app.models import AppointmentKind, CompensationModel, CompensationTerms, Modality, Therapist
from admin_app.models.base import utcnow
from admin_app.services.people import compensation
from admin_app.services.platform import documents
from admin_app.services.platform.clinic_time import clinic_zone, to_local
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.labels import choice_label
from admin_app.services.platform.money import format_money
from admin_app.services.platform.months import Month
from admin_app.services.reports import figures as stats

TEMPLATE = "pdf/therapist_month.html"
AUDITED_ENTITY = "therapist"  # a month report exports one therapist's month (the ZIP: every therapist's)


@dataclasses.dataclass(frozen=True)
class MonthReport:
    """One therapist's month: the session lines, the totals they add up to, and the compensation
    terms in force during the month (oldest first) that explain the commissions."""

    month: Month
    therapist: Therapist
    lines: list[stats.SessionLine]
    totals: stats.TherapistMonth
    terms: list[CompensationTerms]


def month_report_filename(month: Month, therapist_name: str) -> str:
    """ "2026-10-ana-ruiz.pdf": ASCII only, whatever the name holds."""
    return documents.file_name(str(month), therapist_name, extension="pdf", placeholder="therapist")


def therapist_month_report(session: Session, month: Month, therapist_id: int) -> MonthReport:
    """The therapist's month (zero lines when nothing was attended); NotFound for an unknown id."""
    therapist = session.get(Therapist, therapist_id)
    if therapist is None:
        raise NotFound(_l("This therapist does not exist (any more)."))
    found = stats.month_totals(session, month, therapist_id=therapist_id).therapists
    totals = found[0] if found else stats.TherapistMonth(therapist.id, therapist.full_name, therapist.email)
    terms = compensation.terms_during(session, [therapist_id], *month.utc_range())[therapist_id]
    return MonthReport(month, therapist, stats.session_lines(session, month, therapist_id), totals, terms)


def month_reports(session: Session, month: Month) -> list[MonthReport]:
    """The month report of every therapist with sessions in the month, in the screen's order
    (a query per therapist for the lines: next to a PDF render each, they cost nothing)."""
    totals = stats.month_totals(session, month).therapists
    ids = [line.therapist_id for line in totals]
    therapists = {
        therapist.id: therapist for therapist in session.scalars(select(Therapist).where(Therapist.id.in_(ids)))
    }
    terms = compensation.terms_during(session, ids, *month.utc_range())
    return [
        MonthReport(
            month,
            therapists[line.therapist_id],
            stats.session_lines(session, month, line.therapist_id),
            line,
            terms[line.therapist_id],
        )
        for line in totals
    ]


def month_report_pdf(
    session: Session, month: Month, therapist_id: int, *, language: str, now: dt.datetime | None = None
) -> documents.Document:
    """The therapist's month report as a PDF in `language`, recorded as an export of the therapist."""
    report = therapist_month_report(session, month, therapist_id)
    return documents.pdf_document(
        session,
        month_report_html(report, language=language, now=now),
        filename=month_report_filename(month, report.therapist.full_name),
        export=documents.Export(AUDITED_ENTITY, therapist_id),
    )


def month_reports_zip(
    session: Session, month: Month, *, language: str, now: dt.datetime | None = None
) -> documents.Document:
    """A ZIP holding the month report PDF of every therapist with sessions in the month.

    A month without sessions is refused (a ZIP with nothing in it would only puzzle).
    """
    now = now or utcnow()
    reports = month_reports(session, month)
    if not reports:
        raise RuleViolation(
            _l(
                "No attended sessions in %(month)s: there are no month reports to download.",
                month=month.label(_language(language)),
            )
        )
    files: list[tuple[str, str]] = []
    names: set[str] = set()
    for report in reports:
        name = month_report_filename(month, report.therapist.full_name)
        while name in names:  # two therapists of the same name
            name = name.removesuffix(".pdf") + f"-{report.therapist.id}.pdf"
        names.add(name)
        files.append((name, month_report_html(report, language=language, now=now)))
    return documents.pdf_zip_document(
        session,
        files,
        filename=documents.file_name(str(month), "month-reports", extension="zip"),
        export=documents.Export(AUDITED_ENTITY),
        now=now,
    )


def month_report_html(report: MonthReport, *, language: str, now: dt.datetime | None = None) -> str:
    """The month report as a complete HTML document for the PDF writer, every value escaped."""
    language = _language(language)
    generated = to_local(now or utcnow())
    with force_locale(language):
        return render_template(
            TEMPLATE,
            language=language,
            practice_name=current_app.config["PRACTICE_NAME"],
            therapist_name=report.therapist.full_name,
            month=report.month.label(language),
            compensation=_compensation(report.terms, report.therapist, language),
            lines=[_line(line) for line in report.lines],
            sessions=report.totals.sessions,
            totals=_totals(report.totals),
            generated_at=generated.strftime("%Y-%m-%d %H:%M"),
            zone=clinic_zone().key,
        )


def _language(language: str) -> str:
    return language if language in SUPPORTED_LOCALES else current_app.config["DEFAULT_LOCALE"]


def _line(line: stats.SessionLine) -> dict[str, object]:
    local = to_local(line.starts_at)
    return {
        "date": local.strftime("%Y-%m-%d"),
        "time": local.strftime("%H:%M"),
        "client": line.client_name,
        "kind": str(choice_label(AppointmentKind(line.kind))),
        "modality": str(choice_label(Modality(line.modality))),
        "fee": line.fee,
        "currency": line.currency,
        "commission": line.commission,
    }


def _totals(line: stats.TherapistMonth) -> list[dict[str, object]]:
    """Gross and commission per currency, one row each; never a figure across currencies."""
    currencies = sorted(set(line.gross) | set(line.commission))
    return [
        {
            "currency": currency,
            "gross": line.gross.get(currency, Decimal(0)),
            "commission": line.commission.get(currency, Decimal(0)),
        }
        for currency in currencies
    ]


def _compensation(terms: list[CompensationTerms], therapist: Therapist, language: str) -> list[str]:
    """How the commission column is worked out, in the current language: one line per terms in
    force during the month, each with the date it starts when the terms changed within it (a
    service fee is shown in the therapist's default currency, the one their fee is set in)."""
    lines = [_terms_text(one, therapist.default_currency, language) for one in terms]
    if len(terms) < 2:
        return lines
    return [
        gettext("%(terms)s (from %(date)s)", terms=text, date=one.effective_from.isoformat())
        for text, one in zip(lines, terms, strict=True)
    ]


def _terms_text(terms: CompensationTerms, currency: str, language: str) -> str:
    if terms.compensation_model == CompensationModel.COMMISSION:
        percent = terms.commission_percent or Decimal(0)
        return gettext("Commission: %(percent)s %% of each fee", percent=f"{percent.normalize():f}")
    return gettext(
        "Commission: each fee less the practice's service fee of %(amount)s",
        amount=format_money(terms.service_fee or Decimal(0), currency, language),
    )
