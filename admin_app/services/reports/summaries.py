"""Month-end outputs built on `services.stats`: the new clients of a period, and the monthly and
yearly figures as machine-readable JSON and CSV (schemas in the README)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from admin_app.models import Appointment, Attendance, Client, Participant, Therapist
from admin_app.models.base import UTCDateTime
from admin_app.services.platform import documents
from admin_app.services.platform.clinic_time import clinic_zone, day_start, to_local
from admin_app.services.platform.documents.spreadsheets import csv_text
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month, check_year
from admin_app.services.reports import figures as stats

NEW_CLIENT_COLUMNS = ("name", "client_number", "national_id", "email", "phone", "first_session", "first_therapist")


@dataclasses.dataclass(frozen=True)
class NewClient:
    name: str
    client_number: str
    national_id: str | None
    email: str | None
    phone: str | None
    first_session: dt.date  # local
    first_therapist: str


def new_clients(session: Session, first_day: dt.date, last_day: dt.date) -> list[NewClient]:
    """Clients whose first ever attended session falls on a local day from `first_day` to
    `last_day` included, with that session's therapist (one query)."""
    if last_day < first_day:
        raise RuleViolation(_l("%(field)s: the end date is before the start date", field=_l("To")), field="to")
    check_year(first_day.year, field="from", label=_l("From"))
    check_year(last_day.year, field="to", label=_l("To"))
    rows = session.execute(
        _new_clients_query(), {"start": day_start(first_day), "end": day_start(last_day + dt.timedelta(days=1))}
    )
    return [
        NewClient(
            name=name,
            client_number=number,
            national_id=national_id,
            email=email,
            phone=phone,
            first_session=to_local(first_at).date(),
            first_therapist=therapist_name,
        )
        for name, number, national_id, email, phone, first_at, therapist_name in rows
    ]


@functools.cache
def _new_clients_query():
    """Each new client of the period (`start`, `end` bound) with the therapist of a session starting
    at their first attended instant (the first by name where two start then); built once. The
    therapist is read per client, from the client's own participants (a few, by index): joined,
    PostgreSQL went from the instant to every appointment starting then (40 at a time in a network
    of 200) and read 26,000 participants for a month's 654 new clients."""
    new = stats.first_attended_in(bindparam("start", type_=UTCDateTime), bindparam("end", type_=UTCDateTime))
    first_therapist = (
        select(Therapist.full_name)
        .join(Appointment, Appointment.therapist_id == Therapist.id)
        .join(Participant, Participant.appointment_id == Appointment.id)
        .where(
            Participant.client_id == Client.id,
            Participant.attendance == Attendance.ATTENDED,
            Appointment.starts_at == Client.first_attended_at,
        )
        .order_by(Therapist.full_name)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            Client.full_name,
            Client.client_number,
            Client.national_id,
            Client.email,
            Client.phone,
            Client.first_attended_at,
            first_therapist,
        )
        .where(new)
        .order_by(Client.first_attended_at, Client.full_name, Client.id)
    )


def new_clients_csv(session: Session, first_day: dt.date, last_day: dt.date) -> documents.Document:
    """The period's new clients as CSV, recorded as an export of clients (it carries their contacts)."""
    rows = new_clients(session, first_day, last_day)
    return documents.csv_document(
        session,
        NEW_CLIENT_COLUMNS,
        (
            (c.name, c.client_number, c.national_id, c.email, c.phone, c.first_session.isoformat(), c.first_therapist)
            for c in rows
        ),
        filename=documents.file_name("new-clients", first_day.isoformat(), last_day.isoformat(), extension="csv"),
        export=documents.Export(Client.__tablename__),
    )


# Month and year reports, as plain JSON-ready dicts. Amounts are strings with two decimals, so a
# reader gets the exact figure of the screen and the PDF rather than a binary float; a currency is
# listed only where its amount is not zero, and currencies are never added together.

MONTHLY_COLUMNS = ("month", "email", "name", "sessions", "currency", "gross", "commission")
YEARLY_COLUMNS = (
    "month",
    "sessions",
    "responses",
    "nps",
    "new_clients",
    "recurrent_clients",
    "virtual_clients",
    "onsite_clients",
)
ZERO = Decimal("0.00")


def therapist_by_email(session: Session, email: str, *, field: str = "--therapist") -> Therapist:
    """The therapist with this email (any case), or a rule violation naming `field`."""
    therapist = session.scalar(select(Therapist).where(func.lower(Therapist.email) == email.strip().lower()))
    if therapist is None:
        raise RuleViolation(
            _l("%(field)s: no therapist has the email %(email)s", field=field, email=email), field=field
        )
    return therapist


def _nonzero(per_currency: dict[str, Decimal]) -> dict[str, Decimal]:
    return {currency: amount for currency, amount in sorted(per_currency.items()) if amount}


def _amounts(per_currency: dict[str, Decimal]) -> dict[str, str]:
    return {currency: f"{amount:.2f}" for currency, amount in _nonzero(per_currency).items()}


def _month_totals(session: Session, month: Month, therapist_email: str | None) -> stats.MonthTotals:
    therapist_id = None if therapist_email is None else therapist_by_email(session, therapist_email).id
    return stats.month_totals(session, month, therapist_id)


def monthly_report(session: Session, month: Month, therapist_email: str | None = None) -> dict:
    """The month-end table of `month` (clinic time) as a JSON-ready dict: one entry per
    therapist with a counted session (only `therapist_email`'s when given), and the totals."""
    totals = _month_totals(session, month, therapist_email)
    return {
        "month": str(totals.month),
        "timezone": clinic_zone().key,
        "therapists": [
            {
                "email": line.email,
                "name": line.name,
                "sessions": line.sessions,
                "gross": _amounts(line.gross),
                "commission": _amounts(line.commission),
            }
            for line in totals.therapists
        ],
        "totals": {
            "sessions": totals.sessions,
            "gross": _amounts(totals.gross),
            "commission": _amounts(totals.commission),
        },
    }


def monthly_report_csv(session: Session, month: Month, therapist_email: str | None = None) -> str:
    """The month-end table as CSV: one row per therapist and currency, then one total row per
    currency (total rows have an empty email and the name TOTAL).

    `sessions` is the therapist's (or the total's) count for the month, repeated on each of its
    currency rows, because a session is not in one currency (a couple may pay in two); a
    therapist or total without any amount still has one row, with an empty currency. Amounts
    are numbers with two decimals, 0.00 where the other amount of the currency is not zero.
    """
    totals = _month_totals(session, month, therapist_email)
    rows = []
    for email, name, sessions, gross, commission in [
        *((line.email, line.name, line.sessions, line.gross, line.commission) for line in totals.therapists),
        ("", "TOTAL", totals.sessions, totals.gross, totals.commission),
    ]:
        gross, commission = _nonzero(gross), _nonzero(commission)
        currencies = sorted(gross.keys() | commission.keys()) or [""]
        for currency in currencies:
            rows.append(
                (
                    str(totals.month),
                    email,
                    name,
                    sessions,
                    currency,
                    gross.get(currency, ZERO) if currency else None,
                    commission.get(currency, ZERO) if currency else None,
                )
            )
    return csv_text(MONTHLY_COLUMNS, rows)


def yearly_report(session: Session, year: int) -> dict:
    """The twelve months of `year` as a JSON-ready dict; `nps` is a number with one decimal, or
    None (JSON null) for a month without survey responses (no answer is not a score of zero)."""
    check_year(year)
    return {
        "year": year,
        "timezone": clinic_zone().key,
        "months": [
            {
                "month": line.month,
                "sessions": line.sessions,
                "responses": line.responses,
                "nps": None if line.nps is None else float(line.nps),
                "new_clients": line.new_clients,
                "recurrent_clients": line.recurrent_clients,
                "virtual_clients": line.virtual_clients,
                "onsite_clients": line.onsite_clients,
                "gross": _amounts(line.gross),
            }
            for line in stats.year_figures(session, year)
        ],
    }


def yearly_report_csv(session: Session, year: int) -> str:
    """One row per month; a `gross_<CUR>` column for each currency with income in the year
    (0.00 in a month without it); `nps` empty for a month without responses."""
    check_year(year)
    months = stats.year_figures(session, year)
    currencies = sorted({currency for line in months for currency, amount in line.gross.items() if amount})
    return csv_text(
        (*YEARLY_COLUMNS, *(f"gross_{currency}" for currency in currencies)),
        (
            (
                *(getattr(line, column) for column in YEARLY_COLUMNS),
                *(line.gross.get(currency, ZERO) for currency in currencies),
            )
            for line in months
        ),
    )
