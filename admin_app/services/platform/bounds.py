"""The bounds of what a person may type: amounts the database can hold, texts that fit their
column, dates a practice would use, and numbers a query can carry.

One owner for every entry path: the model screens (a check over the record's columns, and the
form validators built from the same functions), the import's cell parsers, the CLI and the
query arguments of the screens. Each `*_problem` function returns the reason a value is out of
bounds (translatable, without the field's name) or None; the `check_*` functions raise the
`RuleViolation` that names the field.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Numeric, String, inspect

from admin_app.models.base import Money, Percent, UTCDateTime, utcnow
from admin_app.services.platform import clinic_time
from admin_app.services.platform.clinic_time import EARLIEST_DATE, LATEST_DATE, to_local
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import field_label

CENT = Decimal("0.01")
# What Numeric(12, 2) holds: ten digits before the point, two after.
MAX_AMOUNT = Decimal(10 ** (Money.precision - Money.scale)) - CENT
MAX_PERCENT = Decimal(100)
# An appointment is entered or moved from two years before today (sessions recorded late) to four
# years after it (a two-year series may start up to two years ahead): a start outside is a typo
# (1999, 2062). It bounds what the screens, series and attendance write through
# `scheduling.rules.prepare_appointment`; the spreadsheet import, which brings a practice's older
# history, is bounded by the calendar only.
APPOINTMENT_WINDOW_PAST = dt.timedelta(days=2 * 366)
APPOINTMENT_WINDOW_FUTURE = dt.timedelta(days=4 * 366)
# A session lasts at most this long (the form's duration, a series' duration, a typed end time).
MAX_APPOINTMENT_MINUTES = 24 * 60
# Record ids are INTEGER columns: 32-bit on PostgreSQL.
MAX_RECORD_ID = 2**31 - 1
# A number of a series (client numbers) is counted in a BIGINT.
MAX_SERIES_NUMBER = 2**63 - 1


def amount_problem(value: Decimal | None):
    """Why an amount cannot be stored: not a number, negative, over the column, more than cents."""
    if value is None:
        return None
    if not isinstance(value, Decimal):
        try:
            value = Decimal(str(value))
        except InvalidOperation:
            return _l("not an amount (e.g. 150.00)")
    if not value.is_finite():
        return _l("not an amount (e.g. 150.00)")
    if value < 0:
        return _l("must not be negative")
    if value > MAX_AMOUNT:
        return _l("at most %(max)s", max=f"{MAX_AMOUNT:,.2f}")
    if value != value.quantize(CENT):
        return _l("at most two decimals")
    return None


def series_number_problem(value: str | None):
    """A number typed for a numbered series (a client no.) that its counter could not hold."""
    if value and value.isdigit() and int(value) > MAX_SERIES_NUMBER:
        return _l("at most %(max)s", max=MAX_SERIES_NUMBER)
    return None


def percent_problem(value: Decimal | None):
    reason = amount_problem(value)
    if reason is None and value is not None and Decimal(str(value)) > MAX_PERCENT:
        return _l("a percentage from 0 to 100")
    return reason


def length_problem(value: str | None, max_length: int | None):
    if value is None or max_length is None or len(value) <= max_length:
        return None
    return _l("at most %(max)d characters (%(count)d given)", max=max_length, count=len(value))


def date_problem(value: dt.date | None):
    """A plain date outside the calendar a practice uses (1900 to 2099)."""
    if value is None:
        return None
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        return _l(
            "a date from %(earliest)s to %(latest)s",
            earliest=EARLIEST_DATE.isoformat(),
            latest=LATEST_DATE.isoformat(),
        )
    return None


def birth_date_problem(value: dt.date | None, *, today: dt.date | None = None):
    if value is None:
        return None
    if value > (today or clinic_time.today()):
        return _l("a birth date cannot be in the future")
    return date_problem(value)


def appointment_window(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The UTC [earliest, latest] start of an appointment entered now."""
    now = now or utcnow()
    return now - APPOINTMENT_WINDOW_PAST, now + APPOINTMENT_WINDOW_FUTURE


def appointment_start_problem(starts_at: dt.datetime | None, *, now: dt.datetime | None = None):
    if starts_at is None:
        return None
    earliest, latest = appointment_window(now)
    if not earliest <= starts_at <= latest:
        return _l(
            "an appointment starts between %(earliest)s and %(latest)s",
            earliest=to_local(earliest).date().isoformat(),
            latest=to_local(latest).date().isoformat(),
        )
    return None


def duration_problem(starts_at: dt.datetime | None, ends_at: dt.datetime | None):
    if starts_at is None or ends_at is None:
        return None
    if ends_at - starts_at > dt.timedelta(minutes=MAX_APPOINTMENT_MINUTES):
        return _l("an appointment lasts at most %(minutes)d minutes", minutes=MAX_APPOINTMENT_MINUTES)
    return None


def refuse(reason, field: str) -> None:
    """Raise the RuleViolation for `reason` (when there is one), naming the field."""
    if reason is not None:
        raise RuleViolation(_l("%(field)s: %(reason)s", field=field_label(field), reason=reason), field=field)


def column_problem(column, value):
    """The bound a column's type sets on a value: length of a String(n), an amount for Money,
    0–100 for Percent, the calendar for dates."""
    if value is None:
        return None
    column_type = column.type
    if isinstance(column_type, String) and isinstance(value, str):
        if "\x00" in value:
            return _l("contains a character that cannot be stored")
        return length_problem(value, column_type.length)
    if isinstance(column_type, Numeric) and (column_type.precision, column_type.scale) == (
        Percent.precision,
        Percent.scale,
    ):
        return percent_problem(value)
    if isinstance(column_type, Numeric) and column_type.scale == Money.scale:
        return amount_problem(value)
    if isinstance(column_type, Date):
        return date_problem(value)
    return None


def check_record(record) -> None:
    """Refuse a record whose typed values do not fit their columns (first problem, by field).

    Only what is being written is judged: an older value of a stored record, bounded or not
    when it was saved, does not block an unrelated change."""
    state = inspect(record)
    mapper = state.mapper
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if column.table is not mapper.local_table or isinstance(column.type, UTCDateTime):
            continue
        if state.persistent and not state.attrs[attr.key].history.has_changes():
            continue
        refuse(column_problem(column, getattr(record, attr.key)), attr.key)


def check_changed_records(session) -> None:
    """`check_record` over every record a save is about to write (a form's inline rows included)."""
    for record in [*session.new, *session.dirty]:
        check_record(record)


def record_id(raw) -> int | None:
    """A record id read from a URL or a form: None unless it is a whole number an id column holds."""
    text = str(raw).strip() if raw is not None else ""
    if not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_RECORD_ID else None


def calendar_day(text: str) -> dt.date:
    """A YYYY-MM-DD read from a URL, within the calendar; ValueError otherwise."""
    day = dt.date.fromisoformat(text.strip())
    if date_problem(day) is not None:
        raise ValueError(text)
    return day


def query_value_refused(value) -> bool:
    """Whether a cleaned filter value is one the database cannot compare (True: refuse it)."""
    if isinstance(value, list | tuple):
        return any(query_value_refused(item) for item in value)
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        return abs(value) > MAX_RECORD_ID
    if isinstance(value, float):
        return not math.isfinite(value) or abs(value) > float(MAX_AMOUNT)
    if isinstance(value, Decimal):
        return not value.is_finite() or abs(value) > MAX_AMOUNT
    if isinstance(value, dt.date):
        return date_problem(value) is not None
    if isinstance(value, str):
        return "\x00" in value
    return False
