"""Clinic-local time: the practice's zone for display, input and every day or month boundary.

Instants are stored in UTC; a day or a month (`months.Month`) is the range between two local
midnights converted to UTC with `from_local`, so reports never group on UTC dates.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l

from admin_app.models.base import utcnow
from admin_app.services.platform.errors import RuleViolation

# The calendar a practice uses: plain dates (birth dates, care start and end) and every date or
# month a list filter reads stay within it, so no arithmetic on them leaves what Python can hold.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CLINIC_TIMEZONE"])


def to_local(instant: dt.datetime, zone: ZoneInfo | None = None) -> dt.datetime:
    """The wall-clock time at the clinic for a stored instant (naive values are UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(zone or clinic_zone())


def today(zone: ZoneInfo | None = None) -> dt.date:
    """The clinic's date now: "today", "this month" and "last month" start here, never from a UTC date."""
    return to_local(utcnow(), zone).date()


def day_start(day: dt.date, zone: ZoneInfo | None = None) -> dt.datetime:
    """The UTC instant a clinic day begins: local days [first, last] are `day_start(first)` up to,
    not including, `day_start(last + 1 day)`."""
    return from_local(dt.datetime.combine(day, dt.time()), zone)


def from_local(wall_time: dt.datetime, zone: ZoneInfo | None = None, *, field: str | None = None) -> dt.datetime:
    """The UTC instant for a clinic wall-clock time.

    A time skipped by a daylight-saving jump does not exist and is refused; a repeated one
    (the autumn hour) is read as its first occurrence.
    """
    zone = zone or clinic_zone()
    if wall_time.tzinfo is not None:
        return wall_time.astimezone(dt.UTC)
    candidate = wall_time.replace(tzinfo=zone, fold=0)
    instant = candidate.astimezone(dt.UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall_time:
        raise RuleViolation(
            _l(
                "%(time)s does not exist in %(zone)s (the clocks skip it for daylight saving).",
                time=wall_time.strftime("%Y-%m-%d %H:%M"),
                zone=zone.key,
            ),
            field=field,
        )
    return instant
