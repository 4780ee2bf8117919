"""Every figure of the month-end report and the yearly statistics against values worked out by
hand, on both databases (DESIGN.md: metric definitions)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import update

from admin_app.extensions import db
from admin_app.models import Appointment, AppointmentKind, Attendance
from admin_app.services.platform.months import Month
from admin_app.services.reports import figures as stats
from admin_app.services.reports import summaries as reports
from admin_app.services.surveys import invitations as surveys
from tests.conftest import make_app
from tests.factories import book, make_client, make_room, make_therapist

D = Decimal


@pytest.fixture
def october(app):
    """Lima, October 2026. Ana (45 % commission) and Beto (service fee 40.00)."""
    ana = make_therapist(default_fee=D("100.00"), full_name="Ana", commission_percent=D("45.00"))
    beto = make_therapist(
        default_fee=D("100.00"),
        full_name="Beto",
        service_fee=D("40.00"),
    )
    c1, c2, c3, c4 = (make_client(full_name=f"C{n}") for n in range(1, 5))
    # Ana: 10.10 PEN at 45 % -> 4.545 -> 4.55 (half-up per line); 23:30 on the 31st is October.
    book(ana, [c1], dt.datetime(2026, 10, 31, 23, 30), fee="10.10")
    book(ana, [c1], dt.datetime(2026, 10, 5, 10, 0), fee="150.00")  # 67.50
    book(ana, [c2], dt.datetime(2026, 10, 6, 10, 0), fee="80.00", currency="USD", room=make_room())  # 36.00
    # A couple session: two attended lines, one session.
    book(ana, [c3, c4], dt.datetime(2026, 10, 7, 10, 0), fee="100.00", kind=AppointmentKind.COUPLE)  # 45 + 45
    # Not counted: cancelled, late-cancelled, no-show, and 00:30 on 1 November.
    book(ana, [c2], dt.datetime(2026, 10, 8, 10, 0), attendance=Attendance.CANCELLED)
    book(ana, [c2], dt.datetime(2026, 10, 9, 10, 0), attendance=Attendance.LATE_CANCELLED)
    book(ana, [c2], dt.datetime(2026, 10, 10, 10, 0), attendance=Attendance.NO_SHOW)
    book(ana, [c1], dt.datetime(2026, 11, 1, 0, 30), fee="999.00")
    # Beto: 120.00 - 40.00 = 80.00 and 60.00 - 40.00 = 20.00.
    book(beto, [c4], dt.datetime(2026, 10, 12, 18, 0), fee="120.00")
    book(beto, [c4], dt.datetime(2026, 10, 19, 18, 0), fee="60.00")
    db.session.commit()
    return ana, beto


def test_month_totals_per_therapist_and_currency(october):
    ana, beto = october

    totals = stats.month_totals(db.session, Month(2026, 10))

    by_name = {line.name: line for line in totals.therapists}
    assert by_name["Ana"].sessions == 4
    assert by_name["Ana"].gross == {"PEN": D("360.10"), "USD": D("80.00")}
    assert by_name["Ana"].commission == {"PEN": D("162.05"), "USD": D("36.00")}
    assert (by_name["Beto"].sessions, by_name["Beto"].gross, by_name["Beto"].commission) == (
        2,
        {"PEN": D("180.00")},
        {"PEN": D("100.00")},
    )
    assert totals.sessions == 6
    assert totals.gross == {"PEN": D("540.10"), "USD": D("80.00")}
    assert totals.commission == {"PEN": D("262.05"), "USD": D("36.00")}


def test_the_session_lines_add_up_to_the_totals(october):
    ana, _ = october

    lines = stats.session_lines(db.session, Month(2026, 10), ana.id)

    assert [(line.client_name, line.fee, line.commission) for line in lines] == [
        ("C1", D("150.00"), D("67.50")),
        ("C2", D("80.00"), D("36.00")),
        ("C3", D("100.00"), D("45.00")),
        ("C4", D("100.00"), D("45.00")),
        ("C1", D("10.10"), D("4.55")),
    ]
    assert sum(line.commission for line in lines if line.currency == "PEN") == D("162.05")


def test_the_first_of_november_belongs_to_november(october):
    ana, _ = october

    [line] = stats.month_totals(db.session, Month(2026, 11)).therapists

    assert (line.name, line.sessions, line.gross) == ("Ana", 1, {"PEN": D("999.00")})


def test_a_year_month_by_month(app):
    ana = make_therapist(default_fee=D("100.00"), full_name="Ana")
    old, fresh, both = make_client(), make_client(), make_client()
    book(ana, [old], dt.datetime(2025, 12, 20, 10, 0))  # first ever: December 2025
    book(ana, [old], dt.datetime(2026, 1, 10, 10, 0))  # January: recurrent (across the year boundary)
    book(ana, [fresh], dt.datetime(2026, 1, 11, 10, 0), currency="USD", fee="50.00")  # January: new
    book(ana, [fresh], dt.datetime(2026, 1, 12, 10, 0), attendance=Attendance.NO_SHOW)  # not counted
    book(ana, [both], dt.datetime(2026, 3, 2, 10, 0), room=make_room())
    book(ana, [both], dt.datetime(2026, 3, 3, 10, 0))
    db.session.commit()

    months = stats.year_figures(db.session, 2026)

    january, march = months[0], months[2]
    assert (january.sessions, january.new_clients, january.recurrent_clients) == (2, 1, 1)
    assert (january.virtual_clients, january.onsite_clients) == (2, 0)
    assert january.gross == {"PEN": D("100.00"), "USD": D("50.00")}
    assert (march.sessions, march.new_clients, march.virtual_clients, march.onsite_clients) == (2, 1, 1, 1)
    assert months[1].sessions == 0 and months[1].gross == {} and months[1].nps is None
    assert [line.month for line in months] == [f"2026-{n:02d}" for n in range(1, 13)]


def test_the_yearly_nps_comes_from_the_survey(app):
    ana = make_therapist(default_fee=D("100.00"))
    clients = [make_client() for _ in range(3)]
    for n, client in enumerate(clients):
        book(ana, [client], dt.datetime(2026, 10, 5 + n, 10, 0))
    db.session.commit()
    surveys.send_for_month(db.session, Month(2026, 10))
    invitations = sorted(db.session.query(surveys.SurveyInvitation).all(), key=lambda invitation: invitation.id)
    for invitation, score in zip(invitations, ("10", "9", "3"), strict=True):
        surveys.submit(db.session, invitation, stars={ana.id: "5"}, nps=score, comment=None)
    db.session.commit()

    months = stats.year_figures(db.session, 2026)

    assert (months[9].responses, months[9].nps) == (3, D("33.3"))
    assert (months[8].responses, months[8].nps) == (0, None)


def test_a_dst_week_in_vancouver_keeps_every_session_in_its_month(database_url, app):
    vancouver = make_app(database_url, CLINIC_TIMEZONE="America/Vancouver")
    with vancouver.app_context():
        ana = make_therapist(default_fee=D("100.00"), full_name="Ana")
        client = make_client()
        # Clocks go back on Sunday 1 November 2026 at 02:00; Saturday 31 October 23:30 is October.
        for day, hour in ((31, 23), (1, 0), (1, 1), (2, 9)):
            month = 10 if day == 31 else 11
            book(ana, [client], dt.datetime(2026, month, day, hour, 30))
        # 8 March 2026: clocks go forward at 02:00; 1 March 00:15 and 31 March 23:45 are March.
        book(ana, [client], dt.datetime(2026, 3, 1, 0, 15))
        book(ana, [client], dt.datetime(2026, 3, 8, 3, 30))
        book(ana, [client], dt.datetime(2026, 3, 31, 23, 45))
        db.session.commit()

        october, november = (
            stats.month_totals(db.session, Month(2026, 10)),
            stats.month_totals(db.session, Month(2026, 11)),
        )
        months = stats.year_figures(db.session, 2026)

        assert (october.sessions, november.sessions) == (1, 3)
        assert [line.sessions for line in months] == [0, 0, 3, 0, 0, 0, 0, 0, 0, 1, 3, 0]
        db.session.remove()


def test_a_client_is_new_when_first_attending_whatever_they_missed_before(app):
    """New is decided by the period's clients and what they attended before it: missed sessions
    before the period do not make a client recurrent, one attended years earlier does."""
    ana = make_therapist(default_fee=D("100.00"), full_name="Ana")
    missed, veteran = make_client(full_name="Missed"), make_client(full_name="Veteran")
    book(ana, [missed], dt.datetime(2025, 6, 2, 10, 0), attendance=Attendance.NO_SHOW)
    book(ana, [missed], dt.datetime(2025, 11, 3, 10, 0), attendance=Attendance.LATE_CANCELLED)
    book(ana, [missed], dt.datetime(2026, 2, 10, 10, 0))  # first attended: new in February
    book(ana, [missed], dt.datetime(2026, 3, 10, 10, 0))
    book(ana, [veteran], dt.datetime(2025, 1, 6, 10, 0))  # attended the year before
    book(ana, [veteran], dt.datetime(2026, 2, 11, 10, 0))
    db.session.commit()

    months = stats.year_figures(db.session, 2026)
    february = reports.new_clients(db.session, dt.date(2026, 2, 1), dt.date(2026, 2, 28))

    assert [(line.new_clients, line.recurrent_clients) for line in months[1:3]] == [(1, 1), (0, 1)]
    assert [(c.name, c.first_session) for c in february] == [("Missed", dt.date(2026, 2, 10))]
    assert reports.new_clients(db.session, dt.date(2026, 3, 1), dt.date(2026, 3, 31)) == []


def test_new_clients_of_a_period_with_their_first_therapist(app):
    ana, beto = (
        make_therapist(default_fee=D("100.00"), full_name="Ana"),
        make_therapist(default_fee=D("100.00"), full_name="Beto"),
    )
    old = make_client(full_name="Old")
    new = make_client(full_name='=HYPERLINK("http://x")', national_id="N-1", email="n@example.com")
    late = make_client(full_name="Late")
    book(ana, [old], dt.datetime(2026, 9, 30, 10, 0))
    book(ana, [old], dt.datetime(2026, 10, 2, 10, 0))
    book(beto, [new], dt.datetime(2026, 10, 3, 10, 0), attendance=Attendance.NO_SHOW)
    book(beto, [new], dt.datetime(2026, 10, 4, 10, 0))
    book(ana, [new], dt.datetime(2026, 10, 5, 10, 0))
    book(ana, [late], dt.datetime(2026, 10, 31, 23, 30))  # 1 November in UTC, 31 October here
    db.session.commit()

    found = reports.new_clients(db.session, dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    text = reports.new_clients_csv(db.session, dt.date(2026, 10, 1), dt.date(2026, 10, 31)).content

    assert [(c.name, c.first_session, c.first_therapist) for c in found] == [
        ('=HYPERLINK("http://x")', dt.date(2026, 10, 4), "Beto"),
        ("Late", dt.date(2026, 10, 31), "Ana"),
    ]
    assert text.startswith("\ufeffname,client_number,national_id,email,phone,first_session,first_therapist\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[1] == ['\'=HYPERLINK("http://x")', new.client_number, "N-1", "n@example.com", "", "2026-10-04", "Beto"]


def test_a_new_client_seen_by_two_therapists_at_their_first_instant_is_listed_once_with_the_first_by_name(app):
    zoe, beto = (
        make_therapist(default_fee=D("100.00"), full_name="Zoe"),
        make_therapist(default_fee=D("100.00"), full_name="Beto"),
    )
    twice = make_client(full_name="Twice")
    first = book(zoe, [twice], dt.datetime(2026, 10, 6, 10, 0))
    clash = book(beto, [twice], dt.datetime(2026, 10, 6, 11, 0))
    # The booking screen refuses a client twice at once; an old import could hold it.
    db.session.execute(
        update(Appointment).where(Appointment.id == clash.id).values(starts_at=first.starts_at, ends_at=first.ends_at)
    )
    db.session.commit()

    found = reports.new_clients(db.session, dt.date(2026, 10, 1), dt.date(2026, 10, 31))

    assert [(c.name, c.first_session, c.first_therapist) for c in found] == [("Twice", dt.date(2026, 10, 6), "Beto")]
