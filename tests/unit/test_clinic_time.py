"""Clinic-local time: input and display in Lima (no DST) and Vancouver (DST); months are in test_months."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from admin_app.services.platform import clinic_time
from admin_app.services.platform.clinic_time import from_local, to_local
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month

LIMA = ZoneInfo("America/Lima")
VANCOUVER = ZoneInfo("America/Vancouver")
UTC = dt.UTC


def utc(*parts) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


# --- Lima: UTC-5 all year ----------------------------------------------------------------------


def test_lima_wall_time_is_five_hours_behind_utc():
    assert from_local(dt.datetime(2026, 3, 10, 18, 30), LIMA) == utc(2026, 3, 10, 23, 30)
    assert to_local(utc(2026, 3, 10, 23, 30), LIMA).replace(tzinfo=None) == dt.datetime(2026, 3, 10, 18, 30)


# --- Vancouver: PST (UTC-8) / PDT (UTC-7); 2026-03-08 02:00 → 03:00, 2026-11-01 02:00 → 01:00 -----


def test_vancouver_wall_time_follows_daylight_saving():
    assert from_local(dt.datetime(2026, 1, 15, 9, 0), VANCOUVER) == utc(2026, 1, 15, 17)  # PST
    assert from_local(dt.datetime(2026, 7, 15, 9, 0), VANCOUVER) == utc(2026, 7, 15, 16)  # PDT


def test_a_time_skipped_by_the_spring_change_is_refused_naming_the_field():
    with pytest.raises(RuleViolation) as refused:
        from_local(dt.datetime(2026, 3, 8, 2, 30), VANCOUVER, field="starts_at")

    assert refused.value.field == "starts_at"
    assert str(refused.value) == (
        "2026-03-08 02:30 does not exist in America/Vancouver (the clocks skip it for daylight saving)."
    )


def test_the_times_around_the_spring_change_are_kept():
    assert from_local(dt.datetime(2026, 3, 8, 1, 59), VANCOUVER) == utc(2026, 3, 8, 9, 59)
    assert from_local(dt.datetime(2026, 3, 8, 3, 0), VANCOUVER) == utc(2026, 3, 8, 10, 0)


def test_a_time_repeated_by_the_autumn_change_is_read_as_its_first_occurrence():
    first = from_local(dt.datetime(2026, 11, 1, 1, 30), VANCOUVER)

    assert first == utc(2026, 11, 1, 8, 30)  # 01:30 PDT, not 01:30 PST (09:30 UTC)
    assert to_local(first, VANCOUVER).replace(tzinfo=None) == dt.datetime(2026, 11, 1, 1, 30)
    assert to_local(utc(2026, 11, 1, 9, 30), VANCOUVER).replace(tzinfo=None) == dt.datetime(2026, 11, 1, 1, 30)


def test_every_half_hour_of_the_change_days_survives_the_round_trip():
    for day in (dt.date(2026, 3, 8), dt.date(2026, 11, 1)):
        for minutes in range(0, 24 * 60, 30):
            wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)
            if day.month == 3 and wall.hour == 2:
                continue  # does not exist
            assert to_local(from_local(wall, VANCOUVER), VANCOUVER).replace(tzinfo=None) == wall


# --- inputs that are already instants; the zone from the settings --------------


def test_an_aware_datetime_is_already_an_instant():
    aware = dt.datetime(2026, 3, 8, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
    assert from_local(aware, VANCOUVER) == utc(2026, 3, 8, 10, 30)


def test_a_naive_stored_value_is_read_as_utc():
    assert to_local(dt.datetime(2026, 1, 1, 5, 0), LIMA) == dt.datetime(2026, 1, 1, 0, 0, tzinfo=LIMA)


def test_the_practice_zone_comes_from_clinic_timezone(practice_in):
    for zone, expected in (("America/Lima", utc(2026, 1, 1, 5)), ("America/Vancouver", utc(2026, 1, 1, 8))):
        with practice_in(CLINIC_TIMEZONE=zone):
            assert Month(2026, 1).utc_range()[0] == expected
            assert from_local(dt.datetime(2026, 1, 1)) == expected


@pytest.mark.parametrize(
    ("zone", "now", "today"),
    [
        ("America/Lima", "2026-12-01T03:00Z", dt.date(2026, 11, 30)),  # a 1st in UTC, still the 30th in Lima
        ("America/Lima", "2026-12-01T05:00Z", dt.date(2026, 12, 1)),
        ("America/Vancouver", "2026-03-08T09:59Z", dt.date(2026, 3, 8)),  # 01:59 PST, just before the spring change
        ("America/Vancouver", "2026-03-09T06:59Z", dt.date(2026, 3, 8)),  # 23:59 PDT
        ("America/Vancouver", "2026-11-01T06:59Z", dt.date(2026, 10, 31)),  # 23:59 PDT on the last day of October
        ("America/Vancouver", "2026-11-02T07:59Z", dt.date(2026, 11, 1)),  # 23:59 PST after the autumn change
    ],
)
def test_today_is_the_clinics_date_not_utcs(clock, practice_in, zone, now, today):
    clock.set(now)
    with practice_in(CLINIC_TIMEZONE=zone):
        assert clinic_time.today() == today
