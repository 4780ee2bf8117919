"""Room use (issue 19, DESIGN.md "Room use"), figured by hand, in Vancouver (clocks go back an hour at
02:00 on Sunday 1 November 2026; local times of a reservation hold on both sides).

November 2026 has five Sundays (1, 8, 15, 22, 29) and five Mondays (2, 9, 16, 23, 30).
Site Broadway, rooms A and B; site Kitsilano, room 1.

Ana Ruiz
- reserves A on Sundays 09:00-12:00 from 18 Oct: October 18, 25 = 6 h; November, five Sundays = 15 h.
  - 25 Oct 11:00-12:00 attended (summer time): 1 h used.
  - 1 Nov 11:00-12:00 attended (the day of the change, winter time by then): 1 h used.
  - 8 Nov 11:30-12:30 attended: 0.5 h used inside, 0.5 h unreserved.
  - 15 Nov 09:00-10:00 no-show: 1 h booked and no-show, not used.
  - 22 Nov 09:00-10:00 cancelled: 1 h cancelled, not booked.
  - 29 Nov 10:00-11:00 still expected: 1 h booked.
  November in A: reserved 15, used 1.5, no-show 1, cancelled 1, booked 3.5 (used, no-show and
  expected), unreserved 0.5, use 0.100.
- reserves B on Mondays 14:00-17:00 from 1 Nov until 16 Nov (ends mid-month): 2, 9, 16 Nov = 9 h.
  - 9 Nov 14:00-16:00 attended: 2 h used.   - 23 Nov 14:00-15:00 attended, after it ended: 1 h unreserved.
  November in B: reserved 9, used 2, unreserved 1, use 0.222.
  November, Ana: reserved 24, used 3.5, unreserved 1.5, use 0.1458 -> 0.146.
Ben Cho
- reserves A on Mondays 09:00-12:00 from 1 Oct (two therapists in one room, on different days):
  October 5, 12, 19, 26 = 12 h, nothing used; November, five Mondays = 15 h.
  - 2 Nov 09:00-11:00 attended and 30 Nov 09:00-12:00 attended: 5 h used.
  - 29 Nov (a Sunday) 13:00-14:00 in A attended: his, outside his reservations: 1 h unreserved.
  - 4 Nov 10:00-11:00 in Kitsilano 1, no reservation there: 1 h unreserved.
  - 3 Nov 10:00-11:00 virtual: no room, no figure.
  November, Ben: reserved 15, used 5, unreserved 2, use 0.333.
November, room A: reserved 30, used 6.5, use 0.217; Broadway: reserved 39, used 8.5, use 0.218.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Attendance, AuditAction, AuditEvent
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month
from admin_app.services.rooms.room_use import low_reservations, room_use
from tests.factories import book, make_client, make_reservation, make_site, make_therapist
from tests.queries import counted_queries

NOVEMBER, OCTOBER = Month(2026, 11), Month(2026, 10)
pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T20:00Z"], indirect=True)


def hours(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(value) for value in values)


def figures(line) -> tuple:
    """(reserved, booked, used, no-show, cancelled, unreserved, use) as the row shows them."""
    f = line.figures
    use = None if f.use is None else str(f.use)
    return (
        str(f.reserved_hours),
        str(f.booked_hours),
        str(f.used_hours),
        str(f.no_show_hours),
        str(f.cancelled_hours),
        str(f.unreserved_hours),
        use,
    )


def test_november_per_room_therapist_room_and_site(practice):
    november = room_use(db.session, NOVEMBER)

    assert november.timezone == "America/Vancouver"
    table = november.total
    assert [(line.site, line.room, line.name, figures(line)) for line in table.room_therapists] == [
        ("Broadway", "A", "Ana Ruiz", ("15.00", "3.50", "1.50", "1.00", "1.00", "0.50", "0.100")),
        ("Broadway", "A", "Ben Cho", ("15.00", "5.00", "5.00", "0.00", "0.00", "1.00", "0.333")),
        ("Broadway", "B", "Ana Ruiz", ("9.00", "2.00", "2.00", "0.00", "0.00", "1.00", "0.222")),
        ("Kitsilano", "1", "Ben Cho", ("0.00", "0.00", "0.00", "0.00", "0.00", "1.00", None)),
    ]
    assert [(line.site, line.room, figures(line)) for line in table.rooms] == [
        ("Broadway", "A", ("30.00", "8.50", "6.50", "1.00", "1.00", "1.50", "0.217")),
        ("Broadway", "B", ("9.00", "2.00", "2.00", "0.00", "0.00", "1.00", "0.222")),
        ("Kitsilano", "1", ("0.00", "0.00", "0.00", "0.00", "0.00", "1.00", None)),
    ]
    assert [(line.name, line.email, figures(line)) for line in table.therapists] == [
        ("Ana Ruiz", "ana@example.com", ("24.00", "5.50", "3.50", "1.00", "1.00", "1.50", "0.146")),
        ("Ben Cho", "ben@example.com", ("15.00", "5.00", "5.00", "0.00", "0.00", "2.00", "0.333")),
    ]
    assert [(line.site, figures(line)) for line in table.sites] == [
        ("Broadway", ("39.00", "10.50", "8.50", "1.00", "1.00", "2.50", "0.218")),
        ("Kitsilano", ("0.00", "0.00", "0.00", "0.00", "0.00", "1.00", None)),
    ]
    assert list(november.months) == [NOVEMBER]
    assert november.months[NOVEMBER] == table


def test_a_range_of_months_gives_each_month_and_the_total(practice):
    autumn = room_use(db.session, OCTOBER, NOVEMBER)

    october = autumn.months[OCTOBER]
    assert [(line.room, line.name, figures(line)) for line in october.room_therapists] == [
        ("A", "Ana Ruiz", ("6.00", "1.00", "1.00", "0.00", "0.00", "0.00", "0.167")),  # 18 and 25 Oct, summer time
        ("A", "Ben Cho", ("12.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.000")),
    ]
    assert autumn.months[NOVEMBER] == room_use(db.session, NOVEMBER).total
    assert [(line.name, figures(line)) for line in autumn.total.therapists] == [
        ("Ana Ruiz", ("30.00", "6.50", "4.50", "1.00", "1.00", "1.50", "0.150")),
        ("Ben Cho", ("27.00", "5.00", "5.00", "0.00", "0.00", "2.00", "0.185")),
    ]


def test_an_empty_month_and_a_backwards_range(practice):
    september = room_use(db.session, Month(2026, 9))
    assert september.total.rooms == [] and september.total.therapists == []

    with pytest.raises(RuleViolation, match="last_month"):
        room_use(db.session, NOVEMBER, OCTOBER)


def test_the_spring_change_keeps_local_times_too(vancouver):
    """14 March 2027, 02:00 becomes 03:00: a Sunday 09:00-12:00 reservation from that day, 11:00-12:00
    booked that day and on 7 November 2027 (the clocks go back): both changes in one year's range."""
    room = make_site("Main", rooms=("1",)).rooms[0]
    therapist = make_therapist(full_name="Eva Paz")
    make_reservation(room, therapist, 7, ("09:00", "12:00"), dt.date(2027, 3, 14))
    client = make_client()
    book(therapist, [client], dt.datetime(2027, 3, 14, 11, 0), minutes=60, room=room, attendance=Attendance.EXPECTED)
    book(therapist, [client], dt.datetime(2027, 11, 7, 11, 0), minutes=60, room=room, attendance=Attendance.EXPECTED)
    db.session.commit()

    (march,) = room_use(db.session, Month(2027, 3)).total.room_therapists
    assert figures(march) == ("9.00", "1.00", "0.00", "0.00", "0.00", "0.00", "0.000")  # 14, 21, 28 March
    year = room_use(db.session, Month(2027, 1), Month(2027, 12))
    (line,) = year.total.room_therapists
    assert figures(line) == ("126.00", "2.00", "0.00", "0.00", "0.00", "0.00", "0.000")  # 42 Sundays
    assert [figures(table.room_therapists[0])[:2] for table in year.months.values() if table.room_therapists] == [
        ("9.00", "1.00"),  # March
        ("12.00", "0.00"),
        ("15.00", "0.00"),  # May
        ("12.00", "0.00"),
        ("12.00", "0.00"),
        ("15.00", "0.00"),  # August
        ("12.00", "0.00"),
        ("15.00", "0.00"),  # October
        ("12.00", "1.00"),  # November: 7, 14, 21, 28
        ("12.00", "0.00"),
    ]


def test_low_reservations_over_the_last_eight_weeks(practice):
    """5 Dec: 10 Oct to 4 Dec. Ana's A: 18 Oct to 29 Nov, 7 x 3 = 21 h, used 2.5 h (11.9 %);
    Ben's A: 12 Oct to 30 Nov, 8 x 3 = 24 h, used 5 h (20.8 %); Ana's B ended on 16 Nov."""
    today = dt.date(2026, 12, 5)

    assert [
        (line.name, line.room, figures(line)[0], figures(line)[2], line.figures.use)
        for line in low_reservations(db.session, today, 40)
    ] == [
        ("Ana Ruiz", "A", "21.00", "2.50", Decimal("0.119")),
        ("Ben Cho", "A", "24.00", "5.00", Decimal("0.208")),
    ]
    assert [line.name for line in low_reservations(db.session, today, 20)] == ["Ana Ruiz"]
    assert [line.name for line in low_reservations(db.session, today)] == ["Ana Ruiz", "Ben Cho"]  # 40 %


def test_the_statement_count_does_not_grow_with_reservations(vancouver):
    site = make_site("Big", rooms=tuple(f"R{n}" for n in range(15)))
    therapists = [make_therapist() for _ in range(2)]
    client = make_client()

    def reserve(numbers: range) -> None:
        for n in numbers:
            room, weekday = site.rooms[n % 15], 1 + n // 15
            therapist = therapists[n % 2]
            make_reservation(room, therapist, weekday, ("09:00", "12:00"), dt.date(2026, 10, 1))
            starts = dt.datetime(2026, 11, 2 + n // 15, 9, 0) + dt.timedelta(minutes=10 * (n % 15))
            book(therapist, [client], starts, minutes=10, room=room)
        db.session.commit()

    def statements() -> tuple[int, int, int, int]:
        with counted_queries() as sent:
            use = room_use(db.session, OCTOBER, NOVEMBER)
        with counted_queries() as sent_low:
            low = low_reservations(db.session, dt.date(2026, 12, 5), 100)
        return len(sent), len(use.total.room_therapists), len(sent_low), len(low)

    reserve(range(2))
    few = statements()
    reserve(range(2, 30))
    many = statements()
    assert few == (1, 2, 1, 2)
    assert many == (1, 30, 1, 30)


def test_flask_report_rooms_json(practice, runner):
    result = runner.invoke(args=["report", "rooms", "--month", "2026-11"])

    assert result.exit_code == 0, result.output
    exported = db.session.scalars(select(AuditEvent.entity).where(AuditEvent.action == AuditAction.EXPORT)).all()
    assert exported == ["room_reservation:use"]
    assert json.loads(result.output) == {
        "month": "2026-11",
        "timezone": "America/Vancouver",
        "rooms": [
            {"site": "Broadway", "room": "A", "reserved_hours": 30.0, "used_hours": 6.5, "use": 0.217},
            {"site": "Broadway", "room": "B", "reserved_hours": 9.0, "used_hours": 2.0, "use": 0.222},
            {"site": "Kitsilano", "room": "1", "reserved_hours": 0.0, "used_hours": 0.0, "use": None},
        ],
        "therapists": [
            {
                "email": "ana@example.com",
                "name": "Ana Ruiz",
                "reserved_hours": 24.0,
                "used_hours": 3.5,
                "unreserved_hours": 1.5,
                "use": 0.146,
            },
            {
                "email": "ben@example.com",
                "name": "Ben Cho",
                "reserved_hours": 15.0,
                "used_hours": 5.0,
                "unreserved_hours": 2.0,
                "use": 0.333,
            },
        ],
    }


def test_flask_report_rooms_csv(practice, runner, tmp_path):
    target = tmp_path / "rooms.csv"
    result = runner.invoke(args=["report", "rooms", "--month", "2026-11", "--format", "csv", "--output", str(target)])

    assert result.exit_code == 0, result.output
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines == [
        "month,kind,site,room,email,name,reserved_hours,booked_hours,used_hours,no_show_hours,cancelled_hours,"
        "unreserved_hours,use",
        "2026-11,site,Broadway,,,,39.00,10.50,8.50,1.00,1.00,2.50,0.218",
        "2026-11,site,Kitsilano,,,,0.00,0.00,0.00,0.00,0.00,1.00,",
        "2026-11,room,Broadway,A,,,30.00,8.50,6.50,1.00,1.00,1.50,0.217",
        "2026-11,room,Broadway,B,,,9.00,2.00,2.00,0.00,0.00,1.00,0.222",
        "2026-11,room,Kitsilano,1,,,0.00,0.00,0.00,0.00,0.00,1.00,",
        "2026-11,therapist,,,ana@example.com,Ana Ruiz,24.00,5.50,3.50,1.00,1.00,1.50,0.146",
        "2026-11,therapist,,,ben@example.com,Ben Cho,15.00,5.00,5.00,0.00,0.00,2.00,0.333",
        "2026-11,room_therapist,Broadway,A,ana@example.com,Ana Ruiz,15.00,3.50,1.50,1.00,1.00,0.50,0.100",
        "2026-11,room_therapist,Broadway,A,ben@example.com,Ben Cho,15.00,5.00,5.00,0.00,0.00,1.00,0.333",
        "2026-11,room_therapist,Broadway,B,ana@example.com,Ana Ruiz,9.00,2.00,2.00,0.00,0.00,1.00,0.222",
        "2026-11,room_therapist,Kitsilano,1,ben@example.com,Ben Cho,0.00,0.00,0.00,0.00,0.00,1.00,",
    ]


@pytest.mark.parametrize("month", ["2026-13", "November", "1850-01"])
def test_flask_report_rooms_refuses_a_bad_month(vancouver, runner, month):
    result = runner.invoke(args=["report", "rooms", "--month", month])

    assert result.exit_code != 0
    assert "--month" in result.output
