"""Appointment reminders, delivered for real to an SMTP sink, without Redis (jobs in-process)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.jobs import schedule
from admin_app.models import AppointmentStatus, Attendance, MessageStatus, Modality, OutboundMessage
from admin_app.services.messaging import reminders, rendering
from admin_app.services.platform.clinic_time import to_local
from tests.factories import make_client, make_site, make_therapist


def spanish_time(local: dt.datetime) -> str:
    """A time as the Spanish reminder writes it: 2:00, 14:30 (no leading zero)."""
    return f"{local.hour}:{local:%M}"


# Reminders go out for a start about 20 hours ahead: 02:00 in Lima from the first instant, 14:00 from the second.
CLOCKS = ["2026-11-03T11:00Z", "2026-11-03T23:00Z"]


def outbox_rows():
    return db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()


@pytest.mark.parametrize("clock", CLOCKS, indirect=True)
def test_reminder_email_arrives_in_the_clients_language_with_the_local_time(mail_app, smtp_sink, clock, book_soon):
    ana = make_client(full_name="Ana Torres", email="ana@example.com", preferred_language="es")
    appointment = book_soon(ana)
    local = to_local(appointment.starts_at)

    assert schedule.tick()["appointment-reminders"] == 1

    [received] = smtp_sink.to("ana@example.com")
    assert received["Subject"].startswith("Recordatorio: su cita del")
    text = received.get_body(("plain",)).get_content()
    assert f"a las {spanish_time(local)}." in text
    assert "Lucía Paredes" in text and "https://meet.example.com/abc-defg" in text
    assert "Demo Practice" in received.get_body(("html",)).get_content()
    [row] = outbox_rows()
    assert (row.status, row.attempts, row.recipient) == (MessageStatus.SENT, 1, "ana@example.com")


def test_english_and_french_clients_read_their_own_language(mail_app, smtp_sink, clock, book_soon):
    therapist = make_therapist(full_name="Marc Dubois")
    john = make_client(email="john@example.com", preferred_language="en")
    julie = make_client(email="julie@example.com", preferred_language="fr")
    first = book_soon(john, therapist=therapist)
    book_soon(julie, hours=21, therapist=therapist)

    schedule.tick()

    [english] = smtp_sink.to("john@example.com")
    [french] = smtp_sink.to("julie@example.com")
    assert english["Subject"].startswith("Reminder: your appointment on")
    assert to_local(first.starts_at).strftime("%-I:%M") in english.get_body(("plain",)).get_content()
    assert french["Subject"].startswith("Rappel : votre rendez-vous du")
    assert "Bonjour" in french.get_body(("plain",)).get_content()


def test_on_site_reminder_gives_the_sites_address(mail_app, smtp_sink, clock, book_soon):
    site = make_site("Sede Miraflores", rooms=("Sala 2",))
    site.address = "Av. Larco 345, Miraflores"
    client = make_client(email="luis@example.com")
    book_soon(client, modality=Modality.ON_SITE, room=site.rooms[0])

    schedule.tick()

    text = smtp_sink.to("luis@example.com")[0].get_body(("plain",)).get_content()
    assert "Sede Miraflores, Av. Larco 345, Miraflores (sala Sala 2)" in text


def test_two_ticks_send_one_reminder(mail_app, smtp_sink, clock, book_soon):
    book_soon(make_client(email="once@example.com"))

    schedule.tick()
    schedule.tick()

    assert len(smtp_sink.to("once@example.com")) == 1
    assert len(outbox_rows()) == 1


def test_no_reminder_outside_the_window_or_when_cancelled_or_not_wanted(mail_app, smtp_sink, clock, book_soon):
    book_soon(make_client(email="later@example.com"), hours=30)
    cancelled = book_soon(make_client(email="cancelled@example.com"), hours=10)
    cancelled.status = AppointmentStatus.CANCELLED
    withdrawn = book_soon(make_client(email="withdrew@example.com"), hours=11)
    withdrawn.participants[0].attendance = Attendance.CANCELLED
    book_soon(make_client(email="none@example.com", reminder_preference="none"), hours=12)
    db.session.commit()

    schedule.tick()

    assert smtp_sink.messages == []
    assert outbox_rows() == []


def test_a_booking_made_inside_the_window_is_reminded_at_the_next_tick(mail_app, smtp_sink, clock, book_soon):
    schedule.tick()
    book_soon(make_client(email="late@example.com"), hours=3)

    schedule.tick()

    assert len(smtp_sink.to("late@example.com")) == 1


@pytest.mark.parametrize("clock", CLOCKS, indirect=True)
def test_rescheduling_sends_a_reminder_for_the_new_time(mail_app, smtp_sink, clock, book_soon):
    appointment = book_soon(make_client(email="moved@example.com"))
    schedule.tick()
    appointment.starts_at += dt.timedelta(hours=2)
    appointment.ends_at += dt.timedelta(hours=2)
    db.session.commit()

    schedule.tick()

    received = smtp_sink.to("moved@example.com")
    assert len(received) == 2
    new_time = spanish_time(to_local(appointment.starts_at))
    assert f"a las {new_time}." in received[1].get_body(("plain",)).get_content()


def test_a_reminder_queued_before_a_cancellation_is_withdrawn_not_sent(app, smtp_sink, clock, book_soon):
    """Without a mail server the row waits; once cancelled, delivery withdraws it."""
    appointment = book_soon(make_client(email="gone@example.com"))
    reminders.queue_due_reminders(db.session)
    appointment.status = AppointmentStatus.CANCELLED
    db.session.commit()  # the delivery job runs after this commit and finds it cancelled

    [row] = outbox_rows()
    assert row.status == MessageStatus.WITHDRAWN
    assert row.last_error == "the appointment was cancelled"
    assert smtp_sink.messages == []


def test_without_a_mail_server_reminders_stay_in_the_outbox_not_delivered(app, clock, book_soon):
    book_soon(make_client(email="held@example.com"))

    schedule.tick()

    [row] = outbox_rows()
    assert row.status == MessageStatus.HELD
    assert "MAIL_SERVER" in row.last_error


def test_sms_reminder_fits_one_segment_and_is_held_without_a_provider(app, clock, book_soon):
    client = make_client(email=None, phone="+51987654321", reminder_preference="sms", preferred_language="es")
    book_soon(client)

    schedule.tick()

    [row] = outbox_rows()
    assert (row.channel, row.recipient, row.status) == ("sms", "+51987654321", MessageStatus.HELD)
    text = rendering.render(db.session, row).text
    assert text.startswith("Recordatorio: cita con Lucia Paredes el ")
    assert len(text) <= 160


def test_no_reminder_for_an_appointment_whose_attendance_is_already_recorded(mail_app, smtp_sink, clock, book_soon):
    """Recorded ahead (marked attended, or absent), there is nobody left to remind; the
    still-pending appointment beside them is reminded as ever."""
    marked = book_soon(make_client(email="marked@example.com"), hours=10)
    marked.participants[0].attendance = Attendance.ATTENDED
    absent = book_soon(make_client(email="absent@example.com"), hours=11)
    absent.participants[0].attendance = Attendance.NO_SHOW
    book_soon(make_client(email="pending@example.com"), hours=12)
    db.session.commit()

    assert schedule.tick()["appointment-reminders"] == 1

    assert [message["To"] for message in smtp_sink.messages] == ["pending@example.com"]
    assert [row.recipient for row in outbox_rows()] == ["pending@example.com"]


def test_a_reminder_queued_before_the_attendance_was_recorded_is_withdrawn(app, smtp_sink, clock, book_soon):
    appointment = book_soon(make_client(email="early@example.com"))
    reminders.queue_due_reminders(db.session)
    appointment.participants[0].attendance = Attendance.ATTENDED
    db.session.commit()  # the delivery job runs after this commit and finds her marked

    [row] = outbox_rows()
    assert row.status == MessageStatus.WITHDRAWN
    assert row.last_error == "the participant's attendance is already recorded"
    assert smtp_sink.messages == []
