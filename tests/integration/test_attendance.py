"""Attendance: each participant attended, cancelled (by whom, why), late-cancelled or did not show;
the appointment's status follows; the staff mark a day's list attended in one go; all audited.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Attendance,
    AuditEvent,
    CancelledBy,
    Participant,
)
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.scheduling.rules import mark_attended, prepare_appointment, record_attendance
from tests.conftest import sign_in_therapist
from tests.factories import make_appointment, make_client, make_therapist
from tests.pages import flashed, list_rows

EXPECTED = Attendance.EXPECTED


def lima(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A November 2026 wall-clock time in Lima (UTC-5 all year) as the stored UTC instant."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo("America/Lima")).astimezone(dt.UTC)


def couple(therapist, first, second, starts_at, attendance=EXPECTED) -> Appointment:
    appointment = make_appointment(therapist, first, starts_at, attendance=attendance)
    appointment.kind = AppointmentKind.COUPLE
    appointment.participants.append(
        Participant(client=second, fee=Decimal("150.00"), currency="PEN", attendance=attendance)
    )
    prepare_appointment(db.session, appointment)
    db.session.flush()
    return appointment


def reload(record):
    db.session.expire_all()
    return db.session.get(type(record), record.id)


def participant_events(participant_id: int) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "participant", AuditEvent.entity_id == participant_id)
            .order_by(AuditEvent.id)
        )
    )


@pytest.fixture
def ana_session(app):
    therapist = make_therapist(full_name="Rosa Mendoza")
    ana = make_client(therapist, full_name="Ana Quispe")
    appointment = make_appointment(therapist, ana, lima(16, 10), attendance=EXPECTED)
    db.session.commit()
    return appointment


# --- the service -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attendance", "status"),
    [
        (Attendance.ATTENDED, AppointmentStatus.HELD),
        (Attendance.NO_SHOW, AppointmentStatus.HELD),
        (Attendance.LATE_CANCELLED, AppointmentStatus.CANCELLED),
        (Attendance.EXPECTED, AppointmentStatus.SCHEDULED),
    ],
)
def test_each_attendance_is_recorded_and_the_status_follows(ana_session, attendance, status):
    [participant] = ana_session.participants

    record_attendance(db.session, participant=participant, attendance=attendance.value)
    db.session.commit()

    stored = reload(participant)
    assert (stored.attendance, stored.cancelled_by, stored.cancellation_reason) == (attendance, None, None)
    assert stored.appointment.status == status


@pytest.mark.parametrize("who", [CancelledBy.CLIENT, CancelledBy.PRACTICE])
def test_a_cancellation_records_who_cancelled_and_why(ana_session, who):
    [participant] = ana_session.participants

    record_attendance(
        db.session, participant=participant, attendance=Attendance.CANCELLED, cancelled_by=who, reason="  Flu  "
    )
    db.session.commit()

    stored = reload(participant)
    assert (stored.attendance, stored.cancelled_by, stored.cancellation_reason) == (Attendance.CANCELLED, who, "Flu")
    assert stored.appointment.status == AppointmentStatus.CANCELLED


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"reason": "Flu"}, "cancelled_by", "Cancelled by: say who cancelled, the client or the practice"),
        ({"cancelled_by": "client"}, "cancellation_reason", "Cancellation reason: a cancellation needs a reason"),
        (
            {"cancelled_by": "client", "reason": "   "},
            "cancellation_reason",
            "Cancellation reason: a cancellation needs a reason",
        ),
        ({"cancelled_by": "the cat", "reason": "Flu"}, "cancelled_by", "Cancelled by: not a valid choice"),
        (
            {"cancelled_by": "client", "reason": "x" * 256},
            "cancellation_reason",
            "Cancellation reason: at most 255 characters",
        ),
    ],
)
def test_a_cancellation_without_who_or_why_is_refused_naming_the_field(ana_session, given, field, message):
    [participant] = ana_session.participants

    with pytest.raises(RuleViolation) as refused:
        record_attendance(db.session, participant=participant, attendance="cancelled", **given)

    assert (refused.value.field, str(refused.value)) == (field, message)
    assert participant.attendance == EXPECTED  # checked before anything changed
    db.session.rollback()
    assert reload(participant).attendance == EXPECTED
    assert reload(ana_session).status == AppointmentStatus.SCHEDULED


def test_any_other_attendance_clears_who_cancelled_and_why(ana_session):
    [participant] = ana_session.participants
    record_attendance(db.session, participant=participant, attendance="cancelled", cancelled_by="client", reason="Flu")
    assert reload(ana_session).status == AppointmentStatus.CANCELLED

    # The client came after all; a stray "who" given with it is not kept.
    record_attendance(db.session, participant=participant, attendance="attended", cancelled_by="client", reason="x")
    db.session.commit()

    stored = reload(participant)
    assert (stored.attendance, stored.cancelled_by, stored.cancellation_reason) == (Attendance.ATTENDED, None, None)
    assert stored.appointment.status == AppointmentStatus.HELD


def test_a_cancelled_appointment_reopens_when_its_client_is_expected_again(ana_session):
    [participant] = ana_session.participants
    record_attendance(
        db.session, participant=participant, attendance="cancelled", cancelled_by="practice", reason="Ill"
    )

    record_attendance(db.session, participant=participant, attendance="expected")
    db.session.commit()

    assert reload(participant).attendance == EXPECTED
    assert reload(ana_session).status == AppointmentStatus.SCHEDULED


def test_a_couple_session_is_held_when_one_partner_comes_and_cancelled_when_both_cancel(app):
    therapist = make_therapist()
    ana, luis = make_client(full_name="Ana Quispe"), make_client(full_name="Luis Rojas")
    appointment = couple(therapist, ana, luis, lima(16, 12))
    first, second = appointment.participants

    record_attendance(db.session, participant=first, attendance="cancelled", cancelled_by="client", reason="Work")
    assert appointment.status == AppointmentStatus.SCHEDULED  # Luis is still expected
    record_attendance(db.session, participant=second, attendance="attended")
    assert appointment.status == AppointmentStatus.HELD
    record_attendance(db.session, participant=second, attendance="late_cancelled")
    db.session.commit()

    assert reload(appointment).status == AppointmentStatus.CANCELLED


def test_every_change_of_attendance_is_audited_by_field_name_only(ana_session):
    [participant] = ana_session.participants
    before = len(participant_events(participant.id))

    record_attendance(
        db.session, participant=participant, attendance="cancelled", cancelled_by="client", reason="Private: flu"
    )
    db.session.commit()

    [event] = participant_events(participant.id)[before:]
    assert (event.action.value, sorted(event.changed_fields)) == (
        "update",
        ["attendance", "cancellation_reason", "cancelled_by"],
    )
    assert "Private" not in str(event.changed_fields)


# --- the screens -------------------------------------------------------------------------------


def participant_form(**fields) -> dict[str, str]:
    return {
        "attendance": "attended",
        "cancelled_by": "__None",
        "cancellation_reason": "",
        "fee": "150.00",
        "currency": "PEN",
        "billed_to": "client",
        "payer": "__None",
        **fields,
    }


def test_the_participant_form_offers_who_cancelled_and_why(admin_client, ana_session):
    [participant] = ana_session.participants
    page = admin_client.get(f"/admin/participant/edit/?id={participant.id}").get_data(as_text=True)

    assert 'name="cancelled_by"' in page
    assert 'name="cancellation_reason"' in page
    for value, label in (("client", "Client"), ("practice", "Practice")):
        assert f'<option value="{value}">{label}</option>' in page


def test_a_cancellation_on_the_participant_form_needs_who_and_why(admin_client, ana_session):
    [participant] = ana_session.participants
    url = f"/admin/participant/edit/?id={participant.id}"

    refused = admin_client.post(url, data=participant_form(attendance="cancelled", cancellation_reason="Flu"))
    assert any("Cancelled by: say who cancelled, the client or the practice" in m for m in flashed(refused))
    refused = admin_client.post(url, data=participant_form(attendance="cancelled", cancelled_by="client"))
    assert any("Cancellation reason: a cancellation needs a reason" in m for m in flashed(refused))
    assert reload(participant).attendance == EXPECTED

    saved = admin_client.post(
        url,
        data=participant_form(attendance="cancelled", cancelled_by="client", cancellation_reason="Flu"),
        follow_redirects=True,
    )

    assert "Record was successfully saved." in flashed(saved)
    stored = reload(participant)
    assert (stored.attendance, stored.cancelled_by, stored.cancellation_reason) == (
        Attendance.CANCELLED,
        CancelledBy.CLIENT,
        "Flu",
    )
    assert stored.appointment.status == AppointmentStatus.CANCELLED


@pytest.mark.parametrize(
    ("attendance", "status"),
    [
        ("attended", AppointmentStatus.HELD),
        ("no_show", AppointmentStatus.HELD),
        ("late_cancelled", AppointmentStatus.CANCELLED),
        ("expected", AppointmentStatus.SCHEDULED),
    ],
)
def test_each_attendance_on_the_participant_form_moves_the_status(admin_client, ana_session, attendance, status):
    [participant] = ana_session.participants
    record_attendance(db.session, participant=participant, attendance="cancelled", cancelled_by="client", reason="Flu")
    db.session.commit()

    response = admin_client.post(
        f"/admin/participant/edit/?id={participant.id}",
        data=participant_form(attendance=attendance, cancelled_by="client", cancellation_reason="Flu"),
        follow_redirects=True,
    )

    assert "Record was successfully saved." in flashed(response)
    stored = reload(participant)
    assert (stored.attendance.value, stored.cancelled_by, stored.cancellation_reason) == (attendance, None, None)
    assert stored.appointment.status == status


def appointment_form(appointment: Appointment, **fields) -> dict[str, str]:
    participant = appointment.participants[0]
    return {
        "therapist": str(appointment.therapist_id),
        "starts_at": "2026-11-16 10:00",
        "ends_at": "2026-11-16 10:50",
        "kind": "individual",
        "modality": "virtual",
        "room": "__None",
        "status": appointment.status.value,
        "video_link": "",
        "notes": "",
        "participants-0-id": str(participant.id),
        "participants-0-client": str(participant.client_id),
        "participants-0-attendance": "expected",
        "participants-0-cancelled_by": "__None",
        "participants-0-cancellation_reason": "",
        "participants-0-fee": "150.00",
        "participants-0-currency": "PEN",
        "participants-0-billed_to": "client",
        "participants-0-payer": "__None",
        **fields,
    }


def test_the_appointment_form_records_a_cancellation_by_the_practice(admin_client, ana_session):
    url = f"/admin/appointment/edit/?id={ana_session.id}"
    page = admin_client.get(url).get_data(as_text=True)
    assert 'name="participants-0-cancelled_by"' in page
    assert 'name="participants-0-cancellation_reason"' in page

    refused = admin_client.post(url, data=appointment_form(ana_session, **{"participants-0-attendance": "cancelled"}))
    assert any("Cancelled by: say who cancelled, the client or the practice" in m for m in flashed(refused))
    assert reload(ana_session).participants[0].attendance == EXPECTED

    response = admin_client.post(
        url,
        data=appointment_form(
            ana_session,
            **{
                "participants-0-attendance": "cancelled",
                "participants-0-cancelled_by": "practice",
                "participants-0-cancellation_reason": "Therapist ill",
            },
        ),
        follow_redirects=True,
    )

    assert "Record was successfully saved." in flashed(response)
    stored = reload(ana_session)
    assert stored.status == AppointmentStatus.CANCELLED
    [participant] = stored.participants
    assert (participant.cancelled_by, participant.cancellation_reason) == (CancelledBy.PRACTICE, "Therapist ill")


def test_editing_an_appointment_cancelled_as_a_whole_does_not_ask_again_who_cancelled(admin_client, ana_session):
    """Cancelling the appointment from its status cancels who was expected; saving it again later
    (say, a note) must not be refused for the reason nobody was asked for."""
    url = f"/admin/appointment/edit/?id={ana_session.id}"
    admin_client.post(url, data=appointment_form(ana_session, status="cancelled"))
    assert reload(ana_session).participants[0].attendance == Attendance.CANCELLED

    response = admin_client.post(
        url,
        data=appointment_form(
            ana_session, status="cancelled", notes="Rebook next week", **{"participants-0-attendance": "cancelled"}
        ),
        follow_redirects=True,
    )

    assert "Record was successfully saved." in flashed(response)
    assert reload(ana_session).notes == "Rebook next week"


def test_the_therapist_records_a_cancellation_on_the_portal(client, ana_session):
    therapist = ana_session.therapist
    sign_in_therapist(client, therapist)
    participant = ana_session.participants[0]
    url = f"/portal/appointments/edit/?id={ana_session.id}"
    form = {
        "video_link": "",
        "notes": "",
        "participants-0-id": str(participant.id),
        "participants-0-client": str(participant.client_id),
        "participants-0-attendance": "cancelled",
        "participants-0-cancelled_by": "client",
        "participants-0-cancellation_reason": "",
    }

    refused = client.post(url, data=form)
    assert any("Cancellation reason: a cancellation needs a reason" in m for m in flashed(refused))

    saved = client.post(url, data={**form, "participants-0-cancellation_reason": "Travel"}, follow_redirects=True)
    assert "Record was successfully saved." in flashed(saved)
    stored = reload(participant)
    assert (stored.attendance, stored.cancelled_by, stored.cancellation_reason) == (
        Attendance.CANCELLED,
        CancelledBy.CLIENT,
        "Travel",
    )
    assert stored.appointment.status == AppointmentStatus.CANCELLED

    # She came after all: the status follows (the portal form has no status of its own).
    client.post(url, data={**form, "participants-0-attendance": "attended"}, follow_redirects=True)
    assert reload(ana_session).status == AppointmentStatus.HELD
    assert reload(participant).cancellation_reason is None


# --- marking a day's list attended -------------------------------------------------------------


@pytest.fixture
def monday(app):
    """Monday 16 November 2026 in Lima: Rosa's and Jorge's day, and a Tuesday appointment."""
    rosa, jorge = make_therapist(full_name="Rosa Mendoza"), make_therapist(full_name="Jorge Salas")
    ana, luis, beto, carla, dina = (
        make_client(full_name=name) for name in ("Ana Quispe", "Luis Quispe", "Beto Ramos", "Carla Soto", "Dina Paz")
    )
    day = {
        "ana": make_appointment(rosa, ana, lima(16, 9), attendance=EXPECTED),
        "couple": couple(rosa, ana, luis, lima(16, 11)),
        "no_show": make_appointment(jorge, beto, lima(16, 9), attendance=Attendance.NO_SHOW),
        "cancelled": make_appointment(jorge, carla, lima(16, 11), attendance=EXPECTED),
        "late": make_appointment(jorge, dina, lima(16, 19, 30), attendance=EXPECTED),  # 00:30 UTC on the 17th
    }
    record_attendance(
        db.session,
        participant=day["cancelled"].participants[0],
        attendance="cancelled",
        cancelled_by="client",
        reason="Flu",
    )
    tuesday = make_appointment(rosa, dina, lima(17, 9), attendance=EXPECTED)
    db.session.commit()
    return day, tuesday


def test_the_staff_mark_a_days_list_attended(admin_client, monday):
    day, tuesday = monday
    # The day's list, as the staff filter it (here: the month, then the rows of the 16th).
    listed = admin_client.get("/admin/appointment/?flt0_0=2026-11")
    assert len(list_rows(listed)) == 6
    day_ids = [str(a.id) for a in day.values()]

    response = admin_client.post(
        "/admin/appointment/action/",
        data={"action": "mark_attended", "rowid": day_ids},
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "4 participants marked attended." in flashed(response)  # Ana, the couple, Dina
    db.session.expire_all()
    for key in ("ana", "couple", "late"):
        appointment = db.session.get(Appointment, day[key].id)
        assert {p.attendance for p in appointment.participants} == {Attendance.ATTENDED}, key
        assert appointment.status == AppointmentStatus.HELD, key
    no_show = db.session.get(Appointment, day["no_show"].id)
    assert no_show.participants[0].attendance == Attendance.NO_SHOW  # already recorded: left alone
    cancelled = db.session.get(Appointment, day["cancelled"].id)
    assert (cancelled.status, cancelled.participants[0].attendance) == (
        AppointmentStatus.CANCELLED,
        Attendance.CANCELLED,
    )
    assert cancelled.participants[0].cancellation_reason == "Flu"
    assert db.session.get(Appointment, tuesday.id).participants[0].attendance == EXPECTED  # not selected


def test_marking_attended_is_audited_with_the_staff_member_and_the_field(admin_client, admin_user, monday):
    day, _tuesday = monday
    participant = day["ana"].participants[0]
    before = len(participant_events(participant.id))

    admin_client.post("/admin/appointment/action/", data={"action": "mark_attended", "rowid": [str(day["ana"].id)]})

    [event] = participant_events(participant.id)[before:]
    assert (event.action.value, event.changed_fields, event.actor, event.actor_user_id) == (
        "update",
        ["attendance"],
        admin_user.email,
        admin_user.id,
    )
    latest = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.entity == "appointment", AuditEvent.entity_id == day["ana"].id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    assert (latest.changed_fields, latest.actor) == (["status"], admin_user.email)  # scheduled → held


def test_marking_again_marks_nobody(admin_client, monday):
    day, _tuesday = monday
    ids = [str(day["ana"].id)]
    admin_client.post("/admin/appointment/action/", data={"action": "mark_attended", "rowid": ids})

    again = admin_client.post(
        "/admin/appointment/action/", data={"action": "mark_attended", "rowid": ids}, follow_redirects=True
    )

    assert "0 participants marked attended." in flashed(again)


def test_the_service_marks_only_expected_participants_of_live_appointments(monday):
    day, tuesday = monday

    marked = mark_attended(db.session, appointment_ids=[day["cancelled"].id, day["no_show"].id, tuesday.id, 999999])
    db.session.commit()

    assert marked == 1
    assert reload(tuesday).status == AppointmentStatus.HELD
    assert mark_attended(db.session, appointment_ids=[]) == 0


def test_a_therapist_cannot_run_the_staff_action(client, monday):
    day, _tuesday = monday
    rosa = day["ana"].therapist
    sign_in_therapist(client, rosa)

    response = client.post(
        "/admin/appointment/action/", data={"action": "mark_attended", "rowid": [str(day["ana"].id)]}
    )

    assert response.status_code == 403
    assert reload(day["ana"]).participants[0].attendance == EXPECTED
