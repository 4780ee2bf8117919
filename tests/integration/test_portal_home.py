"""The portal home: the therapist's day, the attendance marked from it, alerts and open requests.

Rosa (signed in) cares for Ana and Beto; Carlos is Jorge's client. "Now" is 1 December 2026 03:00
UTC, still Monday 30 November (22:00) in Lima: the day's list must follow the clinic's clock.
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    AuditEvent,
    Channel,
    ClientRequest,
    MessageStatus,
    OutboundMessage,
    RequestAction,
    RequestStatus,
)
from admin_app.services.messaging import reminders
from admin_app.services.scheduling import portal_day
from tests.conftest import make_app, sign_in_therapist
from tests.factories import (
    make_appointment,
    make_authorization,
    make_client,
    make_payer,
    make_room,
    make_therapist,
    make_therapist_user,
)
from tests.pages import body, csrf_token, flashed, text_of
from tests.queries import counted_queries

NOW = "2026-12-01T03:00Z"  # Monday 30 November, 22:00 in Lima
HOME = "/portal/"
MARK = "/portal/attendance"
pytestmark = pytest.mark.parametrize("clock", [NOW], indirect=True)


def utc(day: int, hour: int, minute: int = 0, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)


@pytest.fixture
def practice(app, client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    jorge = make_therapist(full_name="Jorge Salas")
    ana = make_client(rosa, full_name="Ana Quispe")
    beto = make_client(rosa, full_name="Beto Ríos")
    carlos = make_client(jorge, full_name="Carlos Vega")
    make_therapist_user(jorge)
    sign_in_therapist(client, rosa)
    return SimpleNamespace(rosa=rosa, jorge=jorge, ana=ana, beto=beto, carlos=carlos)


def expected(therapist, client, starts_at, **options) -> Appointment:
    return make_appointment(therapist, client, starts_at, attendance=Attendance.EXPECTED, **options)


def days(page) -> dict[str, str]:
    """Clinic date → the visible text of that day's card."""
    found = re.findall(r'<section class="card mb-3 portal-day" data-day="([\d-]+)">(.*?)</section>', body(page), re.S)
    return {day: text_of(html) for day, html in found}


def section(page, element_id: str) -> str:
    found = re.search(rf'<section[^>]*id="{element_id}"[^>]*>(.*?)</section>', body(page), re.S)
    return text_of(found.group(1)) if found else ""


def reload(record):
    db.session.expire_all()
    return db.session.get(type(record), record.id)


# --- the day ------------------------------------------------------------------------------------


def test_the_days_follow_the_clinic_clock_across_midnight_utc(client, practice):
    evening = expected(practice.rosa, practice.ana, utc(1, 2), video_link="https://meet.example.com/rosa")
    tomorrow = expected(practice.rosa, practice.beto, utc(1, 15), room=make_room("Sala 2"))
    make_appointment(practice.rosa, practice.ana, utc(30, 4, month=11))  # Sunday 23:00 in Lima, attended
    expected(practice.jorge, practice.carlos, utc(1, 1))  # another therapist's
    db.session.commit()

    page = client.get(HOME)

    assert page.status_code == 200
    shown = days(page)
    assert list(shown) == ["2026-11-30", "2026-12-01"]  # Sunday's attended session is done: not shown
    assert shown["2026-11-30"].startswith("Monday, November 30, 2026 Today")
    assert "21:00–21:50 Ana Quispe" in shown["2026-11-30"]
    assert "Virtual" in shown["2026-11-30"] and "Join the video call" in shown["2026-11-30"]
    assert 'href="https://meet.example.com/rosa"' in body(page)
    assert shown["2026-12-01"].startswith("Tuesday, December 1, 2026")
    assert "10:00–10:50 Beto Ríos" in shown["2026-12-01"]
    assert "On-site" in shown["2026-12-01"] and "· Sala 2" in shown["2026-12-01"]
    assert "Carlos" not in body(page)
    # Attendance is marked on what has started (tonight's), not on tomorrow's.
    assert f'name="participant_id" value="{evening.participants[0].id}"' in body(page)
    assert f'name="participant_id" value="{tomorrow.participants[0].id}"' not in body(page)
    # The h1 the end-to-end journey reads, and the calendar section kept.
    assert re.search(r"<h1[^>]*>\s*Welcome, Rosa Mendoza\s*</h1>", body(page))
    assert "Create or rotate calendar link" in section(page, "calendar-feed")


def test_the_day_headings_are_in_the_readers_language(client, practice):
    expected(practice.rosa, practice.ana, utc(1, 15))
    practice.rosa.user.locale = "es"
    db.session.commit()

    shown = days(client.get(HOME))

    assert shown["2026-11-30"].startswith("lunes, 30 de noviembre de 2026")
    assert shown["2026-12-01"].startswith("martes, 1 de diciembre de 2026")


def test_vancouver_days_hold_across_the_end_of_daylight_saving(app, practice):
    """1 November 2026, Vancouver: 01:00-02:00 happens twice (PDT, then PST). The day runs from
    07:00 UTC to 08:00 UTC the next morning: 25 hours, every appointment on its local date."""
    first_half_past_one = expected(practice.rosa, practice.ana, utc(1, 8, 30, month=11))  # 01:30 PDT
    late = expected(practice.rosa, practice.beto, utc(2, 7, 30, month=11))  # 23:30 PST, still 1 November
    next_morning = expected(practice.rosa, practice.ana, utc(2, 8, 30, month=11))  # 00:30 on 2 November
    before = expected(practice.rosa, practice.beto, utc(1, 6, 30, month=11))  # 23:30 PDT on 31 October
    rosa = practice.rosa.id
    app.config["CLINIC_TIMEZONE"] = "America/Vancouver"
    try:
        home = portal_day.portal_day(db.session, therapist_id=rosa, now=utc(1, 19, month=11), days_ahead=1)
    finally:
        app.config["CLINIC_TIMEZONE"] = "America/Lima"

    assert home.today == dt.date(2026, 11, 1)
    assert [(day.day, [a.id for a in day.appointments]) for day in home.days] == [
        (dt.date(2026, 11, 1), [first_half_past_one.id, late.id]),
        (dt.date(2026, 11, 2), [next_morning.id]),
    ]
    assert [a.id for a in home.still_expected] == [before.id]


def test_the_window_is_today_and_the_days_ahead_setting(app, client, practice):
    expected(practice.rosa, practice.ana, utc(8, 15))  # 8 December, 10:00 in Lima: 8 days after today
    expected(practice.rosa, practice.ana, utc(7, 15))  # 7 days after today
    db.session.commit()

    assert list(days(client.get(HOME))) == ["2026-11-30", "2026-12-07"]
    assert "No appointments today." in days(client.get(HOME))["2026-11-30"]

    app.config["PORTAL_DAYS_AHEAD"] = 8
    try:
        assert list(days(client.get(HOME))) == ["2026-11-30", "2026-12-07", "2026-12-08"]
    finally:
        app.config["PORTAL_DAYS_AHEAD"] = 7


def test_past_appointments_still_expected_are_listed_first(client, practice):
    waiting = expected(practice.rosa, practice.ana, utc(27, 15, month=11))  # Friday
    expected(practice.rosa, practice.beto, utc(20, 15, month=11))  # ten days ago: beyond the week
    make_appointment(practice.rosa, practice.beto, utc(28, 15, month=11))  # attended: nothing to do
    expected(practice.rosa, practice.beto, utc(29, 15, month=11), status=AppointmentStatus.CANCELLED)
    db.session.commit()

    page = client.get(HOME)

    text = section(page, "still-expected")
    assert "Nov 27, 2026, 10:00 Ana Quispe" in text
    assert "Beto" not in text
    assert f'name="participant_id" value="{waiting.participants[0].id}"' in body(page)
    assert body(page).index('id="still-expected"') < body(page).index('id="portal-days"')


def test_a_client_no_longer_in_care_shows_by_initials(client, practice):
    expected(practice.rosa, practice.beto, utc(1, 2))
    practice.beto.care_assignments[0].active = False
    db.session.commit()

    text = days(client.get(HOME))["2026-11-30"]

    assert "B. R." in text
    assert "Beto" not in text


def test_a_typed_video_address_that_is_no_web_address_is_no_link(client, practice):
    """A link typed before only https addresses were accepted (tests/integration/test_video_links.py)."""
    appointment = expected(practice.rosa, practice.ana, utc(1, 2))
    appointment.video_link = "javascript:alert(1)"  # written as it was then, without the rules
    db.session.commit()

    page = body(client.get(HOME))

    assert 'href="javascript' not in page
    assert "javascript:alert(1)" in page  # shown as text


# --- marking attendance -----------------------------------------------------------------------


def test_marking_an_attendance_from_the_home(client, practice):
    appointment = expected(practice.rosa, practice.ana, utc(1, 2))
    participant = appointment.participants[0]
    db.session.commit()

    response = client.post(MARK, data={"participant_id": participant.id, "attendance": "no_show"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(HOME)
    page = client.get(HOME)
    assert flashed(page) == ["Attendance recorded: Ana Quispe, Nov 30, 2026, 21:00: No-show."]
    assert reload(participant).attendance == Attendance.NO_SHOW
    assert reload(appointment).status == AppointmentStatus.HELD
    assert "No-show" in days(page)["2026-11-30"]
    change = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.entity == "participant", AuditEvent.entity_id == participant.id)
        .order_by(AuditEvent.id.desc())
    )
    assert (change.action, change.actor_user_id) == ("update", practice.rosa.user.id)
    assert "attendance" in change.changed_fields


def test_a_past_week_appointment_is_closed_from_the_home(client, practice):
    appointment = expected(practice.rosa, practice.ana, utc(27, 15, month=11))
    db.session.commit()

    client.post(MARK, data={"participant_id": appointment.participants[0].id, "attendance": "attended"})

    assert reload(appointment).status == AppointmentStatus.HELD
    assert 'id="still-expected"' not in body(client.get(HOME))


def test_a_cancellation_needs_who_and_why(client, practice):
    appointment = expected(practice.rosa, practice.ana, utc(1, 2))
    participant = appointment.participants[0]
    db.session.commit()

    refused = client.post(
        MARK, data={"participant_id": participant.id, "attendance": "cancelled"}, follow_redirects=True
    )

    assert flashed(refused) == ["Cancelled by: say who cancelled, the client or the practice"]
    assert reload(participant).attendance == Attendance.EXPECTED

    client.post(
        MARK,
        data={
            "participant_id": participant.id,
            "attendance": "cancelled",
            "cancelled_by": "client",
            "cancellation_reason": "Flu",
        },
    )
    participant = reload(participant)
    assert (participant.attendance, participant.cancelled_by, participant.cancellation_reason) == (
        Attendance.CANCELLED,
        "client",
        "Flu",
    )
    assert reload(appointment).status == AppointmentStatus.CANCELLED


def test_a_future_appointment_is_refused(client, practice):
    tomorrow = expected(practice.rosa, practice.ana, utc(1, 15))
    participant = tomorrow.participants[0]
    db.session.commit()

    response = client.post(
        MARK, data={"participant_id": participant.id, "attendance": "attended"}, follow_redirects=True
    )

    assert response.status_code == 200
    assert flashed(response) == ["Attendance: this appointment has not started yet; record the attendance once it has."]
    assert reload(participant).attendance == Attendance.EXPECTED
    assert reload(tomorrow).status == AppointmentStatus.SCHEDULED


def test_a_wrong_choice_is_refused_naming_the_field(client, practice):
    participant = expected(practice.rosa, practice.ana, utc(1, 2)).participants[0]
    db.session.commit()

    response = client.post(MARK, data={"participant_id": participant.id, "attendance": "maybe"}, follow_redirects=True)

    assert flashed(response) == ["Attendance: not a valid choice"]
    assert reload(participant).attendance == Attendance.EXPECTED


@pytest.mark.parametrize("participant_id", ["other", "999999", "abc", ""])
def test_another_therapists_participant_is_not_found(client, practice, participant_id):
    carlos = expected(practice.jorge, practice.carlos, utc(1, 1))
    participant = carlos.participants[0]
    db.session.commit()
    posted = str(participant.id) if participant_id == "other" else participant_id

    response = client.post(MARK, data={"participant_id": posted, "attendance": "attended"})

    assert response.status_code == 404
    assert reload(participant).attendance == Attendance.EXPECTED
    assert reload(carlos).status == AppointmentStatus.SCHEDULED


def test_marking_needs_a_post(client, practice):
    assert client.get(MARK).status_code == 405


@pytest.fixture
def csrf_client(database_url, migrated_app, app):
    return make_app(database_url, WTF_CSRF_ENABLED=True).test_client()


def test_marking_needs_the_csrf_token_of_the_home(csrf_client, practice):
    participant = expected(practice.rosa, practice.ana, utc(1, 2)).participants[0]
    db.session.commit()
    csrf_client.post(
        "/login",
        data={
            "email": practice.rosa.email,
            "password": "quiet-harbour-lantern",
            "csrf_token": csrf_token(csrf_client.get("/login")),
        },
    )
    data = {"participant_id": participant.id, "attendance": "attended"}

    assert csrf_client.post(MARK, data=data).status_code == 400
    assert reload(participant).attendance == Attendance.EXPECTED

    token = csrf_token(csrf_client.get(HOME))
    assert csrf_client.post(MARK, data={**data, "csrf_token": token}).status_code == 302
    assert reload(participant).attendance == Attendance.ATTENDED


def test_a_deactivated_therapist_record_gets_no_home(client, practice):
    expected(practice.rosa, practice.ana, utc(1, 2))
    practice.rosa.active = False
    db.session.commit()

    home = client.get(HOME)

    assert home.status_code == 302 and "/login" in home.headers["Location"]  # signed out at once
    assert "Ana Quispe" not in body(home)
    marked = client.post(MARK, data={"participant_id": "1", "attendance": "attended"})
    assert marked.status_code == 302 and "/login" in marked.headers["Location"]


# --- alerts and requests ----------------------------------------------------------------------


def test_alerts_show_my_clients_low_authorizations_only(client, practice):
    payer = make_payer("Pacífico")
    low = make_authorization(practice.ana, payer, 2, dt.date(2026, 11, 1), dt.date(2027, 3, 31), reference="P-1")
    make_authorization(practice.beto, payer, 20, dt.date(2026, 11, 1), dt.date(2027, 3, 31), reference="P-2")
    make_authorization(practice.carlos, payer, 1, dt.date(2026, 11, 1), dt.date(2027, 3, 31), reference="P-3")
    db.session.commit()

    page = client.get(HOME)

    alerts = section(page, "alerts")
    assert "Ana Quispe · Pacífico P-1 Low 2 of 2 sessions left" in alerts
    assert "P-2" not in alerts  # plenty left: active
    assert "P-3" not in body(page) and "Carlos" not in body(page)
    assert f'href="/portal/authorizations/details/?id={low.id}"' in body(page)


def test_an_authorization_ending_today_alerts_and_a_finished_one_does_not(client, practice):
    """Only a running authorization can be low: one ending today (the clinic's 30 November) is, one
    that ended yesterday, one closed and one waiting for its extension are not, however few sessions
    they have left."""
    payer = make_payer("Pacífico")
    start, today = dt.date(2026, 9, 1), dt.date(2026, 11, 30)
    make_authorization(practice.ana, payer, 20, start, today, reference="ENDS-TODAY")
    make_authorization(practice.ana, payer, 1, start, today - dt.timedelta(days=1), reference="ENDED")
    closed_at, asked_at = utc(1, 1), utc(1, 1)
    make_authorization(practice.beto, payer, 1, start, dt.date(2027, 3, 31), reference="CLOSED", closed_at=closed_at)
    make_authorization(
        practice.beto, payer, 1, start, dt.date(2027, 3, 31), reference="ASKED", extension_requested_at=asked_at
    )
    db.session.commit()

    alerts = section(client.get(HOME), "alerts")

    assert "Ana Quispe · Pacífico ENDS-TODAY Low 20 of 20 sessions left" in alerts
    for finished in ("ENDED", "CLOSED", "ASKED"):
        assert finished not in alerts


def test_a_failed_message_about_my_client_shows_without_address_or_text(client, practice):
    def failed(client_record, key):
        db.session.add(
            OutboundMessage(
                channel=Channel.EMAIL,
                recipient=client_record.email,
                template=reminders.TEMPLATE,
                language="es",
                context={},
                client_id=client_record.id,
                dedupe_key=key,
                status=MessageStatus.FAILED,
                last_error="550 mailbox unavailable",
                created_at=utc(30, 14, month=11),
            )
        )

    failed(practice.ana, "ana")
    failed(practice.carlos, "carlos")
    db.session.add(
        OutboundMessage(
            channel=Channel.SMS,
            recipient="+51987654321",
            template=reminders.TEMPLATE,
            language="es",
            client_id=practice.beto.id,
            dedupe_key="beto-sent",
            status=MessageStatus.SENT,
        )
    )
    db.session.commit()

    page = client.get(HOME)

    alerts = section(page, "alerts")
    assert "Not delivered Ana Quispe · Appointment reminder (Email) Nov 30, 2026, 09:00" in alerts
    assert "Beto" not in alerts
    assert "Carlos" not in body(page)
    assert practice.ana.email not in body(page)
    assert "550" not in body(page)


def test_my_open_requests_are_listed(client, practice):
    db.session.add_all(
        [
            ClientRequest(
                therapist=practice.rosa,
                client=practice.ana,
                action=RequestAction.DEACTIVATE,
                reason="Moved abroad",
                created_at=utc(29, 15, month=11),
            ),
            ClientRequest(
                therapist=practice.rosa,
                client=practice.beto,
                action=RequestAction.ACTIVATE,
                reason="Back from leave",
                status=RequestStatus.DONE,
            ),
            ClientRequest(therapist=practice.jorge, client=practice.carlos, action=RequestAction.ACTIVATE, reason="x"),
        ]
    )
    db.session.commit()

    page = client.get(HOME)

    requests = section(page, "open-requests")
    assert "Ask to deactivate · Ana Quispe Moved abroad Asked on Nov 29, 2026" in requests
    assert "Beto" not in requests and "Carlos" not in body(page)
    assert 'href="/portal/requests/"' in body(page)  # the requests list (not followed here)


# --- cost -------------------------------------------------------------------------------------


def statements_for(client) -> int:
    """The page's statements as a request of its own reads them: the test's session, which the
    requests share, must not hand it the signed-in login and therapist already loaded."""
    db.session.expire_all()
    with counted_queries() as statements:
        assert client.get(HOME).status_code == 200
    return len(statements)


def busy_week(practice, appointments: int, first: int = 0) -> None:
    """`appointments` across the week and the past days still expected, each with its own client,
    an authorization, a failed message and a request: the home must cost the same."""
    payer = make_payer()
    for n in range(first, first + appointments):
        someone = make_client(practice.rosa, full_name=f"Client {n:02d}")
        make_authorization(someone, payer, 2, dt.date(2026, 11, 1), dt.date(2027, 3, 31))
        expected(practice.rosa, someone, utc(1, 14) + dt.timedelta(hours=n) - dt.timedelta(days=n % 10))
        db.session.add(
            OutboundMessage(
                channel=Channel.EMAIL,
                recipient=someone.email,
                template=reminders.TEMPLATE,
                language="es",
                client_id=someone.id,
                dedupe_key=f"busy-{n}",
                status=MessageStatus.FAILED,
            )
        )
        db.session.add(ClientRequest(therapist=practice.rosa, client=someone, action="deactivate", reason="r"))
    db.session.commit()


def test_the_home_reads_in_a_constant_number_of_statements(client, practice):
    busy_week(practice, 2)
    few = statements_for(client)
    busy_week(practice, 30, first=2)
    page = client.get(HOME)
    assert len(re.findall(r'class="list-group-item portal-appointment', body(page))) > 20

    assert statements_for(client) == few == 8  # the login, its therapist, the home's five, the notification bell


def test_the_service_reads_in_five_statements(app, practice):
    busy_week(practice, 12)
    rosa = practice.rosa.id
    with counted_queries() as statements:
        day = portal_day.portal_day(db.session, therapist_id=rosa)
    assert len(statements) == 5
    assert day.still_expected and day.authorizations and day.failed_messages and day.open_requests
