"""The import's date and date-time cells: a cell in one of the accepted shapes is read; one in the
right shape naming a day the calendar does not have says so; anything else names the format."""

from __future__ import annotations

import datetime as dt

import pytest

from admin_app.services.imports import values
from admin_app.services.imports.values import CellError

NOT_A_DATE = "is not a date as YYYY-MM-DD (or DD/MM/YYYY)"
NOT_A_DATETIME = "is not a date and time as YYYY-MM-DD HH:MM (or DD/MM/YYYY HH:MM)"


@pytest.fixture
def lima(practice_in):
    with practice_in(CLINIC_TIMEZONE="America/Lima"):
        yield


def refusal(parse, value: str) -> str:
    with pytest.raises(CellError) as refused:
        parse(value)
    return str(refused.value.reason)


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("2026-02-28", dt.date(2026, 2, 28)),
        ("28/02/2026", dt.date(2026, 2, 28)),
        ("29/02/2024", dt.date(2024, 2, 29)),  # a leap year
        ("2026-2-3", dt.date(2026, 2, 3)),
        ("2026-12-31 00:00", dt.date(2026, 12, 31)),  # an Excel date cell
    ],
)
def test_a_date_in_an_accepted_shape_is_read(practice, cell, day):
    assert values.local_date(cell) == day


@pytest.mark.parametrize(
    "cell",
    ["31/02/2026", "29/02/2025", "2026-13-01", "2026-04-31", "00/01/2026", "32/01/2026", "2026-02-30 00:00"],
)
def test_a_date_of_the_right_shape_that_is_no_day_says_so(practice, cell):
    assert refusal(values.local_date, cell) == f"{cell.removesuffix(' 00:00')} is not a day of the calendar"


@pytest.mark.parametrize("cell", ["tomorrow", "2026/02/28", "28-02-2026", "02/28/26", "2026-02-31 10:00", "31.02.2026"])
def test_a_date_in_another_shape_names_the_format(practice, cell):
    assert refusal(values.local_date, cell) == f"{cell} {NOT_A_DATE}"


def test_a_date_outside_the_practice_calendar_gives_its_bounds(practice):
    assert refusal(values.local_date, "1850-01-01").startswith("a date from 1900-01-01")


def test_an_empty_date_is_required(practice):
    assert refusal(values.local_date, "") == "a value is required"


@pytest.mark.parametrize(
    ("cell", "instant"),
    [
        ("2026-10-05 10:00", dt.datetime(2026, 10, 5, 15, 0, tzinfo=dt.UTC)),
        ("05/10/2026 10:00", dt.datetime(2026, 10, 5, 15, 0, tzinfo=dt.UTC)),
        ("2026-10-05T10:00", dt.datetime(2026, 10, 5, 15, 0, tzinfo=dt.UTC)),
        ("2026-10-05 10:00:00", dt.datetime(2026, 10, 5, 15, 0, tzinfo=dt.UTC)),
    ],
)
def test_a_date_and_time_in_an_accepted_shape_is_read_in_the_clinic_zone(lima, cell, instant):
    assert values.local_datetime(cell) == instant


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("31/02/2026 10:00", "31/02/2026"),
        ("2025-02-29 09:30", "2025-02-29"),
        ("2026-13-01T10:00", "2026-13-01"),
        ("2026-04-31 10:00:00", "2026-04-31"),
    ],
)
def test_a_date_and_time_on_no_day_says_so(lima, cell, day):
    assert refusal(values.local_datetime, cell) == f"{day} is not a day of the calendar"


@pytest.mark.parametrize("cell", ["2026-10-05", "10:00", "2026-10-05 10h00", "31/02/2026 at 10:00", "2026-10-05 25:00"])
def test_a_date_and_time_in_another_shape_names_the_format(lima, cell):
    assert refusal(values.local_datetime, cell) == f"{cell} {NOT_A_DATETIME}"
