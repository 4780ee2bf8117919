"""Appointment reminders: which participants are due one, and what it says.

A reminder is due `REMINDER_HOURS_BEFORE` hours ahead of a live appointment, for each
participant still expected (one whose attendance is already recorded, cancelled or marked attended
or absent, is not reminded), on the channels of the client's preference. Its dedupe key names
the participant, the appointment's start and the channel: a second tick writes nothing, a
booking made inside the window is picked up by the next tick, and a moved appointment (new
start) gets a new reminder.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date, format_time
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from admin_app.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    Channel,
    Client,
    Modality,
    Participant,
    ReminderPreference,
    Room,
    Therapist,
)
from admin_app.models.base import utcnow
from admin_app.services.messaging import outbox
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.platform.errors import NoLongerDue
from admin_app.services.scheduling.attendance import CANCELLATIONS
from admin_app.services.scheduling.video_links import https_address

TEMPLATE = "appointment_reminder"
CHANNELS = {
    ReminderPreference.EMAIL: (Channel.EMAIL,),
    ReminderPreference.SMS: (Channel.SMS,),
    ReminderPreference.BOTH: (Channel.EMAIL, Channel.SMS),
    ReminderPreference.NONE: (),
}


def dedupe_key(participant_id: int, starts_at: dt.datetime, channel: Channel) -> str:
    return f"reminder:{participant_id}:{starts_at.astimezone(dt.UTC):%Y%m%dT%H%MZ}:{channel}"


def queue_due_reminders(session: Session, now: dt.datetime | None = None) -> int:
    """Write the reminders due now that are not written yet; returns how many were written."""
    now = now or utcnow()
    horizon = now + dt.timedelta(hours=current_app.config["REMINDER_HOURS_BEFORE"])
    rows = session.execute(
        select(Participant.id, Appointment.starts_at, Client)
        .join(Participant.appointment)
        .join(Participant.client)
        .where(
            Appointment.status != AppointmentStatus.CANCELLED,
            Appointment.starts_at > now,
            Appointment.starts_at <= horizon,
            Participant.attendance == Attendance.EXPECTED,
            Client.reminder_preference != ReminderPreference.NONE,
        )
        .order_by(Appointment.starts_at, Participant.id)
    ).all()
    wanted = [
        (participant_id, starts_at, client, channel, address)
        for participant_id, starts_at, client in rows
        for channel in CHANNELS[client.reminder_preference]
        if (address := client.email if channel == Channel.EMAIL else client.phone)
    ]
    written = outbox.existing_dedupe_keys(session, [dedupe_key(p, s, c) for p, s, _, c, _ in wanted])
    queued = 0
    for participant_id, starts_at, client, channel, address in wanted:
        key = dedupe_key(participant_id, starts_at, channel)
        if key in written:
            continue
        message = outbox.queue_message(
            session,
            channel=channel,
            recipient=address,
            template=TEMPLATE,
            language=client.preferred_language,
            context={"participant_id": participant_id, "starts_at": starts_at.astimezone(dt.UTC).isoformat()},
            dedupe_key=key,
            client_id=client.id,
            now=now,
        )
        queued += message is not None
    return queued


def reminder_variables(session: Session, context: dict, language: str, now: dt.datetime | None = None) -> dict:
    """What the reminder says, or NoLongerDue when it should not be sent any more."""
    participant = session.scalar(
        select(Participant)
        .where(Participant.id == context["participant_id"])
        .options(
            joinedload(Participant.client),
            joinedload(Participant.appointment).joinedload(Appointment.therapist).joinedload(Therapist.site),
            joinedload(Participant.appointment).joinedload(Appointment.room).joinedload(Room.site),
        )
    )
    if participant is None:
        raise NoLongerDue(_l("the appointment was deleted"))
    appointment = participant.appointment
    if appointment.status == AppointmentStatus.CANCELLED or participant.attendance in CANCELLATIONS:
        raise NoLongerDue(_l("the appointment was cancelled"))
    if participant.attendance != Attendance.EXPECTED:
        raise NoLongerDue(_l("the participant's attendance is already recorded"))
    if appointment.starts_at != dt.datetime.fromisoformat(context["starts_at"]):
        raise NoLongerDue(_l("the appointment was moved; a reminder for the new time is sent instead"))
    if appointment.starts_at <= (now or utcnow()):
        raise NoLongerDue(_l("the appointment has already started"))
    local = to_local(appointment.starts_at)
    site = appointment.room.site if appointment.room else appointment.therapist.site
    return {
        "client_name": participant.client.full_name,
        "therapist_name": appointment.therapist.full_name,
        "date": format_date(local.date(), format="full", locale=language),
        "short_date": format_date(local.date(), format="short", locale=language),
        "time": format_time(local.time(), format="short", locale=language),
        "virtual": appointment.modality == Modality.VIRTUAL,
        "video_link": https_address(appointment.video_link),
        "site_name": site.name if site else None,
        "site_address": site.address if site else None,
        "room_name": appointment.room.name if appointment.room else None,
    }
