"""`Month`: a calendar month of the practice, the one value every month-shaped rule goes through.

Reading `YYYY-MM`, the local month's UTC range, the previous and next month, the month of a day or
an instant, the label in a language, and the one window of months the practice accepts (`FIRST`
to `LAST`, the calendar of `clinic_time.EARLIEST_DATE`..`LATEST_DATE`) all live here, so a screen,
a report, the survey and the CLI agree on what a month is and which months exist.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask_babel import lazy_gettext as _l

from admin_app.services.platform.clinic_time import EARLIEST_DATE, LATEST_DATE, from_local, to_local
from admin_app.services.platform.errors import RuleViolation

# Four digits, a dash, the month's one or two digits (surrounding blanks are forgiven: a pasted value).
_PATTERN = re.compile(r"(\d{4})-(\d{1,2})", re.ASCII)


@dataclasses.dataclass(frozen=True, order=True)
class Month:
    """A calendar month (`str()` is `YYYY-MM`, the form stored and shown); ordered by time."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, got {self.month}")

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @classmethod
    def parse(cls, text: str | None, *, field: str = "month") -> Month:
        """Read `YYYY-MM` within the practice's window; a wrong value is a rule violation naming `field`."""
        found = _PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
        if found is None or not 1 <= int(found[2]) <= 12:
            raise RuleViolation(
                _l("%(field)s: expected a month as YYYY-MM, got %(value)s", field=field, value=text), field=field
            )
        month = cls(int(found[1]), int(found[2]))
        if not month.in_window:
            raise RuleViolation(
                _l(
                    "%(field)s: choose a month from the years %(first)d to %(last)d, got %(value)s",
                    field=field,
                    first=FIRST.year,
                    last=LAST.year,
                    value=text,
                ),
                field=field,
            )
        return month

    @classmethod
    def containing(cls, moment: dt.date | dt.datetime, zone: ZoneInfo | None = None) -> Month:
        """The month of a local date, or of a stored instant's clinic-local date (naive instants are UTC)."""
        if isinstance(moment, dt.datetime):
            moment = to_local(moment, zone)
        return cls(moment.year, moment.month)

    @classmethod
    def of_year(cls, year: int) -> list[Month]:
        """January to December of `year`."""
        return [cls(year, number) for number in range(1, 13)]

    @property
    def in_window(self) -> bool:
        return FIRST <= self <= LAST

    def shift(self, steps: int) -> Month:
        """The month `steps` months away (negative: earlier)."""
        index = self.year * 12 + self.month - 1 + steps
        return Month(index // 12, index % 12 + 1)

    def previous(self) -> Month:
        return self.shift(-1)

    def next(self) -> Month:
        return self.shift(1)

    def count_to(self, last: Month) -> int:
        """How many months from this one to `last`, both included (0 when `last` is earlier)."""
        return max(0, (last.year - self.year) * 12 + last.month - self.month + 1)

    def until(self, last: Month) -> list[Month]:
        """Every month from this one to `last` included, oldest first (empty when `last` is earlier)."""
        return [self.shift(steps) for steps in range(self.count_to(last))]

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def utc_range(self, zone: ZoneInfo | None = None) -> tuple[dt.datetime, dt.datetime]:
        """UTC [start, end) between the local midnights that open this month and the next (a
        daylight-saving change inside the month makes it an hour shorter or longer, never moves it)."""
        following = self.next()
        return (
            from_local(dt.datetime(self.year, self.month, 1), zone),
            from_local(dt.datetime(following.year, following.month, 1), zone),
        )

    def label(self, locale: str) -> str:
        """ "October 2026", "octubre de 2026", "octobre 2026"."""
        return format_skeleton("yMMMM", dt.datetime(self.year, self.month, 1), locale=locale)


# The months the practice works with (reports, survey, filters): its calendar, wide enough for any
# history, narrow enough that a month, its neighbours and its local boundaries always exist.
FIRST = Month.containing(EARLIEST_DATE)
LAST = Month.containing(LATEST_DATE)


def check_year(year: int, *, field: str = "--year", label=None) -> int:
    """`year`, when its months are in the window; `label` names the field in the message."""
    if not FIRST.year <= year <= LAST.year:
        raise _year_refused(year, field, label)
    return year


def parse_year(text: str, *, field: str = "year", label=None) -> int:
    """Read a year typed as digits, within the window (one message for any wrong value)."""
    raw = text.strip()
    if not (raw.isascii() and raw.isdigit()):
        raise _year_refused(raw, field, label)
    return check_year(int(raw), field=field, label=label)


def _year_refused(value, field: str, label) -> RuleViolation:
    return RuleViolation(
        _l(
            "%(field)s: expected a year from %(first)s to %(last)s, got %(value)s",
            field=label or field,
            first=FIRST.year,
            last=LAST.year,
            value=value,
        ),
        field=field,
    )
