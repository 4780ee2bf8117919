"""`sql_time.local_date`: the clinic-local date of a stored instant, worked out by the database
(PostgreSQL's zone database, or the function each SQLite connection is given), agrees with
`clinic_time.to_local` at the edges of a day and across the changes of clock; `sql_time.epoch_seconds`
gives the seconds Python gives."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import literal, select

from admin_app.extensions import db
from admin_app.models.base import UTCDateTime
from admin_app.services.platform import clinic_time
from admin_app.services.platform.sql_time import epoch_seconds, local_date

VANCOUVER = ZoneInfo("America/Vancouver")
LIMA = ZoneInfo("America/Lima")


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        (utc(2026, 11, 1, 4, 59), LIMA, dt.date(2026, 10, 31)),  # 23:59 in Lima
        (utc(2026, 11, 1, 5, 0), LIMA, dt.date(2026, 11, 1)),  # midnight in Lima
        (utc(2026, 3, 8, 7, 59), VANCOUVER, dt.date(2026, 3, 7)),  # 23:59 PST, the night the clocks go forward
        (utc(2026, 3, 9, 6, 59), VANCOUVER, dt.date(2026, 3, 8)),  # 23:59 PDT, the day after
        (utc(2026, 3, 9, 7, 0), VANCOUVER, dt.date(2026, 3, 9)),
        (utc(2026, 11, 1, 8, 30), VANCOUVER, dt.date(2026, 11, 1)),  # 01:30 PDT, before the clocks go back
        (utc(2026, 11, 2, 7, 59), VANCOUVER, dt.date(2026, 11, 1)),  # 23:59 PST
        (utc(2026, 11, 2, 8, 0), VANCOUVER, dt.date(2026, 11, 2)),
    ],
)
def test_the_database_gives_the_clinic_date_python_gives(app, instant, zone, expected):
    stored = literal(instant, UTCDateTime())
    assert db.session.scalar(select(local_date(stored, zone))) == expected
    assert clinic_time.to_local(instant, zone).date() == expected


def test_the_clinic_zone_is_the_default_and_null_stays_null(app):
    instant = utc(2026, 11, 1, 4, 59)
    assert (
        db.session.scalar(select(local_date(literal(instant, UTCDateTime())))) == clinic_time.to_local(instant).date()
    )
    assert db.session.scalar(select(local_date(literal(None, UTCDateTime())))) is None


def test_epoch_seconds_are_pythons_and_a_session_length_comes_out_whole(app):
    starts, ends = utc(2026, 11, 1, 8, 30), utc(2026, 11, 1, 9, 20)  # across Vancouver's change of clock
    seconds = db.session.execute(
        select(epoch_seconds(literal(starts, UTCDateTime())), epoch_seconds(literal(ends, UTCDateTime())))
    ).one()
    assert seconds == (int(starts.timestamp()), int(ends.timestamp()))
    assert (seconds[1] - seconds[0]) // 60 == 50
