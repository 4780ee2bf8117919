"""Therapists' monthly statements as PDFs: every counted session line of the month and its totals.

The lines come from `stats.session_lines` and the totals from `stats.month_totals`, the figures
the monthly totals screen shows; both round per line, so a statement adds up to the screen.
A statement is written in the language asked for (the reader's), amounts as on the screens
(two decimals and the currency code, never a total across currencies), times in clinic time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import unicodedata
import zipfile
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
from admin_app.services.platform.clinic_time import clinic_zone, month_label, month_range, parse_month, to_local
from admin_app.services.platform.documents import pdf
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.labels import choice_label
from admin_app.services.reports import figures as stats

TEMPLATE = "pdf/therapist_month.html"
# Months a report may be asked for: wide enough for any practice's history, narrow enough that
# a month's local boundaries always exist as datetimes.
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclasses.dataclass(frozen=True)
class Statement:
    """One therapist's month: the session lines, the totals they add up to, and the compensation
    terms in force during the month (oldest first) that explain the commissions."""

    year: int
    month: int
    therapist: Therapist
    lines: list[stats.SessionLine]
    totals: stats.TherapistMonth
    terms: list[CompensationTerms]


def report_month(text: str, *, field: str) -> tuple[int, int]:
    """Read a "YYYY-MM" month a report may be made for; a wrong value is refused, naming `field`."""
    year, month = parse_month(text, field=field)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise RuleViolation(
            _l(
                "%(field)s: choose a month from the years %(first)d to %(last)d, got %(value)s",
                field=field,
                first=FIRST_YEAR,
                last=LAST_YEAR,
                value=text,
            ),
            field=field,
        )
    return year, month


def statement_filename(year: int, month: int, therapist_name: str) -> str:
    """ "2026-10-ana-ruiz.pdf": ASCII only, whatever the name holds."""
    ascii_name = unicodedata.normalize("NFKD", therapist_name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-") or "therapist"
    return f"{year:04d}-{month:02d}-{slug}.pdf"


def zip_filename(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}-statements.zip"


def therapist_statement(session: Session, year: int, month: int, therapist_id: int) -> Statement:
    """The therapist's month (zero lines when nothing was attended); NotFound for an unknown id."""
    therapist = session.get(Therapist, therapist_id)
    if therapist is None:
        raise NotFound(_l("This therapist does not exist (any more)."))
    found = stats.month_totals(session, year, month, therapist_id=therapist_id).therapists
    totals = found[0] if found else stats.TherapistMonth(therapist.id, therapist.full_name, therapist.email)
    terms = compensation.terms_during(session, [therapist_id], *month_range(year, month))[therapist_id]
    return Statement(year, month, therapist, stats.session_lines(session, year, month, therapist_id), totals, terms)


def month_statements(session: Session, year: int, month: int) -> list[Statement]:
    """The statement of every therapist with sessions in the month, in the screen's order
    (a query per therapist for the lines: next to a PDF render each, they cost nothing)."""
    totals = stats.month_totals(session, year, month).therapists
    ids = [line.therapist_id for line in totals]
    therapists = {
        therapist.id: therapist for therapist in session.scalars(select(Therapist).where(Therapist.id.in_(ids)))
    }
    terms = compensation.terms_during(session, ids, *month_range(year, month))
    return [
        Statement(
            year,
            month,
            therapists[line.therapist_id],
            stats.session_lines(session, year, month, line.therapist_id),
            line,
            terms[line.therapist_id],
        )
        for line in totals
    ]


def therapist_month_pdf(
    session: Session, year: int, month: int, therapist_id: int, *, language: str, now: dt.datetime | None = None
) -> bytes:
    """The therapist's statement for the month as a PDF in `language`."""
    return statement_pdf(therapist_statement(session, year, month, therapist_id), language=language, now=now)


def statement_pdf(statement: Statement, *, language: str, now: dt.datetime | None = None) -> bytes:
    return pdf.render_pdf(statement_html(statement, language=language, now=now))


def month_pdfs_zip(session: Session, year: int, month: int, *, language: str, now: dt.datetime | None = None) -> bytes:
    """A ZIP holding the statement PDF of every therapist with sessions in the month.

    A month without sessions is refused (a ZIP with nothing in it would only puzzle).
    """
    now = now or utcnow()
    statements = month_statements(session, year, month)
    if not statements:
        raise RuleViolation(
            _l(
                "No attended sessions in %(month)s: there are no statements to download.",
                month=month_label(year, month, _language(language)),
            )
        )
    documents = pdf.render_pdfs([statement_html(statement, language=language, now=now) for statement in statements])
    stamp = to_local(now).timetuple()[:6]
    names: set[str] = set()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for statement, document in zip(statements, documents, strict=True):
            name = statement_filename(year, month, statement.therapist.full_name)
            while name in names:  # two therapists of the same name
                name = name.removesuffix(".pdf") + f"-{statement.therapist.id}.pdf"
            names.add(name)
            bundle.writestr(zipfile.ZipInfo(name, date_time=stamp), document, compress_type=zipfile.ZIP_DEFLATED)
    return archive.getvalue()


def statement_html(statement: Statement, *, language: str, now: dt.datetime | None = None) -> str:
    """The statement as a complete HTML document for `pdf.render_pdf`, every value escaped."""
    language = _language(language)
    generated = to_local(now or utcnow())
    with force_locale(language):
        return render_template(
            TEMPLATE,
            language=language,
            practice_name=current_app.config["PRACTICE_NAME"],
            therapist_name=statement.therapist.full_name,
            month=month_label(statement.year, statement.month, language),
            compensation=_compensation(statement.terms),
            lines=[_line(line) for line in statement.lines],
            sessions=statement.totals.sessions,
            totals=_totals(statement.totals),
            generated_at=generated.strftime("%Y-%m-%d %H:%M"),
            zone=clinic_zone().key,
        )


def _language(language: str) -> str:
    return language if language in SUPPORTED_LOCALES else current_app.config["DEFAULT_LOCALE"]


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _line(line: stats.SessionLine) -> dict[str, str]:
    local = to_local(line.starts_at)
    return {
        "date": local.strftime("%Y-%m-%d"),
        "time": local.strftime("%H:%M"),
        "client": line.client_name,
        "kind": str(choice_label(AppointmentKind(line.kind))),
        "modality": str(choice_label(Modality(line.modality))),
        "fee": _amount(line.fee),
        "currency": line.currency,
        "commission": _amount(line.commission),
    }


def _totals(line: stats.TherapistMonth) -> list[dict[str, str]]:
    """Gross and commission per currency, one row each; never a figure across currencies."""
    currencies = sorted(set(line.gross) | set(line.commission))
    return [
        {
            "currency": currency,
            "gross": _amount(line.gross.get(currency, Decimal(0))),
            "commission": _amount(line.commission.get(currency, Decimal(0))),
        }
        for currency in currencies
    ]


def _compensation(terms: list[CompensationTerms]) -> list[str]:
    """How the commission column is worked out, in the current language: one line per terms in
    force during the month, each with the date it starts when the terms changed within it."""
    lines = [_terms_text(one) for one in terms]
    if len(terms) < 2:
        return lines
    return [
        gettext("%(terms)s (from %(date)s)", terms=text, date=one.effective_from.isoformat())
        for text, one in zip(lines, terms, strict=True)
    ]


def _terms_text(terms: CompensationTerms) -> str:
    if terms.compensation_model == CompensationModel.COMMISSION:
        percent = terms.commission_percent or Decimal(0)
        return gettext("Commission: %(percent)s %% of each fee", percent=f"{percent.normalize():f}")
    return gettext(
        "Commission: each fee less the practice's service fee of %(amount)s",
        amount=_amount(terms.service_fee or Decimal(0)),
    )
