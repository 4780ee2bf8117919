"""`Month`: reading YYYY-MM, the local month's UTC range in Lima (no DST) and Vancouver (DST),
neighbours, labels, and the one window of months the practice accepts."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from admin_app.services.platform.clinic_time import EARLIEST_DATE, LATEST_DATE, from_local
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import FIRST, LAST, Month, check_year, parse_year

LIMA = ZoneInfo("America/Lima")
VANCOUVER = ZoneInfo("America/Vancouver")


def utc(*parts) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def in_month(instant: dt.datetime, month: Month, zone: ZoneInfo) -> bool:
    start, end = month.utc_range(zone)
    return start <= instant < end


# --- the UTC range: Lima, UTC-5 all year -------------------------------------------------------


def test_a_lima_month_runs_from_local_midnight_to_local_midnight():
    assert Month(2026, 1).utc_range(LIMA) == (utc(2026, 1, 1, 5), utc(2026, 2, 1, 5))
    assert Month(2026, 12).utc_range(LIMA) == (utc(2026, 12, 1, 5), utc(2027, 1, 1, 5))  # the year rolls over


def test_an_appointment_at_2330_on_the_last_day_of_a_month_belongs_to_that_month_in_lima():
    late = from_local(dt.datetime(2026, 1, 31, 23, 30), LIMA)
    assert late == utc(2026, 2, 1, 4, 30)  # already February in UTC
    assert in_month(late, Month(2026, 1), LIMA)
    assert not in_month(late, Month(2026, 2), LIMA)
    assert Month.containing(late, LIMA) == Month(2026, 1)

    new_year_eve = from_local(dt.datetime(2026, 12, 31, 23, 30), LIMA)
    assert in_month(new_year_eve, Month(2026, 12), LIMA)
    assert Month.containing(new_year_eve, LIMA) == Month(2026, 12)


def test_consecutive_lima_months_neither_overlap_nor_leave_a_gap():
    ranges = [month.utc_range(LIMA) for month in Month.of_year(2026)]
    for (_, end), (next_start, _) in zip(ranges, ranges[1:], strict=False):
        assert end == next_start


# --- the UTC range: Vancouver, PST / PDT; 2026-03-08 02:00 → 03:00, 2026-11-01 02:00 → 01:00 --------


def test_a_vancouver_month_spanning_a_change_has_its_real_length():
    march = Month(2026, 3).utc_range(VANCOUVER)
    november = Month(2026, 11).utc_range(VANCOUVER)

    assert march == (utc(2026, 3, 1, 8), utc(2026, 4, 1, 7))
    assert march[1] - march[0] == dt.timedelta(days=31, hours=-1)
    assert november == (utc(2026, 11, 1, 7), utc(2026, 12, 1, 8))
    assert november[1] - november[0] == dt.timedelta(days=30, hours=1)


def test_an_appointment_at_2330_on_the_last_day_of_a_month_belongs_to_that_month_in_vancouver():
    october = from_local(dt.datetime(2026, 10, 31, 23, 30), VANCOUVER)  # PDT
    february = from_local(dt.datetime(2026, 2, 28, 23, 30), VANCOUVER)  # PST

    assert october == utc(2026, 11, 1, 6, 30)
    assert in_month(october, Month(2026, 10), VANCOUVER) and not in_month(october, Month(2026, 11), VANCOUVER)
    assert Month.containing(october, VANCOUVER) == Month(2026, 10)
    assert february == utc(2026, 3, 1, 7, 30)
    assert in_month(february, Month(2026, 2), VANCOUVER) and not in_month(february, Month(2026, 3), VANCOUVER)


def test_the_first_minute_of_a_month_belongs_to_it():
    first = from_local(dt.datetime(2026, 11, 1, 0, 0), VANCOUVER)
    assert in_month(first, Month(2026, 11), VANCOUVER)
    assert not in_month(first, Month(2026, 10), VANCOUVER)
    assert Month.containing(first, VANCOUVER) == Month(2026, 11)


def test_the_months_of_a_year_cover_it_without_gaps_across_both_changes():
    ranges = [month.utc_range(VANCOUVER) for month in Month.of_year(2026)]
    assert ranges[0][0] == utc(2026, 1, 1, 8) and ranges[-1][1] == utc(2027, 1, 1, 8)
    assert all(end == next_start for (_, end), (next_start, _) in zip(ranges, ranges[1:], strict=False))


def test_the_range_uses_the_practice_zone_by_default():
    app = Flask(__name__)
    for zone, expected in (("America/Lima", utc(2026, 3, 1, 5)), ("America/Vancouver", utc(2026, 3, 1, 8))):
        app.config["CLINIC_TIMEZONE"] = zone
        with app.app_context():
            assert Month(2026, 3).utc_range()[0] == expected
            assert Month.containing(utc(2026, 3, 1, 4, 59)) == Month(2026, 2)


# --- neighbours, days, order, text -------------------------------------------------------------


def test_previous_and_next_cross_the_year():
    assert Month(2026, 1).previous() == Month(2025, 12)
    assert Month(2026, 12).next() == Month(2027, 1)
    assert Month(2026, 10).shift(-22) == Month(2024, 12)
    assert Month(2026, 10).shift(0) == Month(2026, 10)


def test_a_month_knows_its_days_and_the_months_until_another():
    assert (Month(2028, 2).first_day, Month(2028, 2).last_day) == (dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    assert Month.containing(dt.date(2026, 10, 31)) == Month(2026, 10)
    assert Month(2025, 11).until(Month(2026, 2)) == [Month(2025, 11), Month(2025, 12), Month(2026, 1), Month(2026, 2)]
    assert Month(2026, 2).until(Month(2025, 11)) == []
    assert Month(2025, 11).count_to(Month(2026, 2)) == 4
    assert Month(2026, 2).count_to(Month(2025, 11)) == 0


def test_months_are_ordered_and_written_as_yyyy_mm():
    assert Month(2025, 12) < Month(2026, 1) < Month(2026, 10)
    assert str(Month(2026, 3)) == "2026-03"
    assert Month.parse(str(Month(1987, 7))) == Month(1987, 7)


def test_the_label_is_in_the_language_asked_for():
    assert Month(2026, 10).label("en") == "October 2026"
    assert Month(2026, 10).label("es") == "octubre de 2026"
    assert Month(2026, 10).label("fr") == "octobre 2026"


def test_a_month_number_outside_1_to_12_is_a_programming_error():
    with pytest.raises(ValueError):
        Month(2026, 13)


# --- reading YYYY-MM, and the window -----------------------------------------------------------


def test_a_month_as_yyyy_mm_is_read():
    assert Month.parse(" 2026-02 ") == Month(2026, 2)
    assert Month.parse("2026-2") == Month(2026, 2)  # as strptime("%Y-%m") read it


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-01", "January", "", "2026/01", "2026-10-01", None])
def test_a_month_that_is_not_yyyy_mm_is_refused_naming_the_field(text):
    with pytest.raises(RuleViolation) as refused:
        Month.parse(text, field="--month")

    assert refused.value.field == "--month"
    assert str(refused.value) == f"--month: expected a month as YYYY-MM, got {text}"


def test_the_window_is_the_practice_calendar():
    assert (Month(1900, 1), Month(2099, 12)) == (FIRST, LAST)
    assert FIRST.first_day == EARLIEST_DATE and LAST.last_day == LATEST_DATE
    assert Month.parse("1900-01") == FIRST and Month.parse("2099-12") == LAST


@pytest.mark.parametrize("text", ["1899-12", "2100-01", "9999-12", "0000-01"])
def test_a_month_outside_the_window_is_refused_with_the_window_in_the_message(text):
    with pytest.raises(RuleViolation) as refused:
        Month.parse(text)

    assert refused.value.field == "month"
    assert str(refused.value) == f"month: choose a month from the years 1900 to 2099, got {text}"


def test_the_neighbours_of_the_window_edges_are_outside_it():
    assert FIRST.in_window and not FIRST.previous().in_window
    assert LAST.in_window and not LAST.next().in_window


def test_a_year_is_checked_against_the_same_window():
    assert check_year(1900) == 1900 and check_year(2099) == 2099
    assert parse_year(" 2026 ") == 2026
    for year in ("1899", "2100", "20x6", "２０２６", ""):
        with pytest.raises(RuleViolation) as refused:
            parse_year(year, label="Year")
        assert str(refused.value) == f"Year: expected a year from 1900 to 2099, got {year.strip()}"
        assert refused.value.field == "year"
