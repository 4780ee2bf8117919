"""Cell parsers shared by the import kinds: each returns the value or raises CellError with a
reason written for the person who fixes the spreadsheet (translatable)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l

from admin_app.services.platform import bounds, contact
from admin_app.services.platform.clinic_time import from_local
from admin_app.services.platform.errors import RuleViolation

DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S")
# A date alone; an Excel date cell reads as its midnight (`reading._cell_text`).
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d 00:00")
# What each directive of the formats above matches whatever its value: a cell of the right shape
# whose day does not exist (31/02/2026) is told so, instead of being called the wrong format.
SHAPES = {
    "%Y": r"(?P<year>\d{4})",
    "%m": r"(?P<month>\d{1,2})",
    "%d": r"(?P<day>\d{1,2})",
    "%H": r"\d{1,2}",
    "%M": r"\d{1,2}",
    "%S": r"\d{1,2}",
}


class CellError(ValueError):
    """A cell's value is wrong; `reason` says why (no row or column: the caller adds them)."""

    def __init__(self, reason) -> None:
        super().__init__(str(reason))
        self.reason = reason


def required(text: str):
    if not text:
        raise CellError(_l("a value is required"))
    return text


def text(value: str, *, max_length: int, is_required: bool = True) -> str | None:
    if not value:
        if is_required:
            raise CellError(_l("a value is required"))
        return None
    reason = bounds.length_problem(value, max_length)
    if reason is not None:
        raise CellError(reason)
    return value


def email(value: str, *, is_required: bool = False) -> str | None:
    try:
        return contact.normalise_email(value, required=is_required)
    except RuleViolation:
        if not value:
            raise CellError(_l("a value is required")) from None
        raise CellError(_l("%(value)s is not a valid email address", value=value)) from None


def phone(value: str) -> str | None:
    try:
        return contact.normalise_phone(value)
    except RuleViolation:
        raise CellError(_l("%(value)s is not a valid phone number", value=value)) from None


def _out_of_bounds(reason, value: str) -> CellError:
    return CellError(_l("%(reason)s, got %(value)s", reason=reason, value=value))


def amount(value: str, *, is_required: bool = True, problem=bounds.amount_problem) -> Decimal | None:
    """`150`, `150.50` or `150,50`: an amount within `bounds` (never negative, at most two decimals,
    no more than the column holds)."""
    if not value:
        if is_required:
            raise CellError(_l("a value is required"))
        return None
    cleaned = value.replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise CellError(_l("%(value)s is not an amount (e.g. 150.00)", value=value)) from None
    if not number.is_finite():
        raise CellError(_l("%(value)s is not an amount (e.g. 150.00)", value=value))
    reason = problem(number)
    if reason is not None:
        raise _out_of_bounds(reason, value)
    return number.quantize(bounds.CENT)


def percent(value: str) -> Decimal | None:
    return amount(value, is_required=False, problem=bounds.percent_problem)


def currency(value: str) -> str:
    code = required(value).upper()
    allowed = current_app.config["CURRENCIES"]
    if code not in allowed:
        raise CellError(
            _l(
                "%(value)s is not one of the practice's currencies (%(allowed)s)",
                value=value,
                allowed=", ".join(allowed),
            )
        )
    return code


def _shape(pattern: str) -> re.Pattern:
    """The `strptime` pattern as a regular expression of its shape: digits where it reads numbers,
    whatever they are."""
    parts = re.split(r"(%[A-Za-z])", pattern)
    return re.compile("".join(SHAPES[part] if part in SHAPES else re.escape(part) for part in parts))


def _read(value: str, patterns: Iterable[str]) -> dt.datetime | None:
    """The value read by the first pattern it fits; None when it fits none. Raises CellError when
    it has the shape of one but names a day the calendar does not have (31/02/2026, 2026-13-01)."""
    for pattern in patterns:
        try:
            return dt.datetime.strptime(value, pattern)
        except ValueError:
            continue
    for pattern in patterns:
        found = _shape(pattern).fullmatch(value)
        if found is None:
            continue
        try:
            dt.date(int(found["year"]), int(found["month"]), int(found["day"]))
        except ValueError:
            parts = ("year", "month", "day")
            day = value[min(map(found.start, parts)) : max(map(found.end, parts))]
            raise CellError(_l("%(value)s is not a day of the calendar", value=day)) from None
    return None


def local_datetime(value: str) -> dt.datetime:
    """Clinic wall-clock time to the UTC instant; a time the clocks skip is refused."""
    wall = _read(required(value), DATETIME_FORMATS)
    if wall is None:
        raise CellError(_l("%(value)s is not a date and time as YYYY-MM-DD HH:MM (or DD/MM/YYYY HH:MM)", value=value))
    reason = bounds.date_problem(wall)
    if reason is not None:
        raise _out_of_bounds(reason, value)
    try:
        return from_local(wall)
    except RuleViolation as error:
        raise CellError(error.message) from None


def local_date(value: str) -> dt.date:
    """A clinic date (a day, no time), within the calendar a practice uses."""
    read = _read(required(value), DATE_FORMATS)
    if read is None:
        raise CellError(_l("%(value)s is not a date as YYYY-MM-DD (or DD/MM/YYYY)", value=value))
    day = read.date()
    reason = bounds.date_problem(day)
    if reason is not None:
        raise _out_of_bounds(reason, value)
    return day


def whole_number(value: str, *, minimum: int = 1, maximum: int = bounds.MAX_RECORD_ID) -> int:
    try:
        number = int(required(value))
    except ValueError:
        raise CellError(_l("%(value)s is not a whole number", value=value)) from None
    if number < minimum:
        raise CellError(_l("must be at least %(min)d, got %(value)s", min=minimum, value=value))
    if number > maximum:
        raise CellError(_l("must be at most %(max)d, got %(value)s", max=maximum, value=value))
    return number


def choice(value: str, aliases: Mapping[str, str], *, default=None):
    """`aliases` maps accepted spellings (lower case) to the value; empty gives `default`."""
    if not value:
        if default is None:
            raise CellError(_l("a value is required"))
        return default
    found = aliases.get(value.strip().lower())
    if found is None:
        raise CellError(
            _l("%(value)s is not one of: %(allowed)s", value=value, allowed=", ".join(sorted(set(aliases))))
        )
    return found
