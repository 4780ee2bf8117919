"""The therapist's day, as the portal home shows it, and the attendance marked from there.

`portal_day` reads everything the home shows in a constant number of statements (five), whatever
the number of appointments, clients and authorizations: the clients in the therapist's care now,
the appointments of the window with their participants (one row per participant), the
authorizations of those clients (`billing.authorizations.authorization_rows`, the one owner of
their counts and status), the messages about them that failed for good, and the therapist's open
requests. It hands back plain dataclasses: the template touches no record and no lazy load.

Names follow the privacy hold: a participant whose client is no longer in the therapist's care
shows by initials (as in the calendar feed), never by name.

`record_my_attendance` is the home's write: the therapist's own participant only (another's is
not found), an appointment that has started only, then the same rule as the portal's appointment
screen (`rules.record_attendance`, whose status follows the attendance).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, inspect, or_, select
from sqlalchemy.orm import Session, aliased

from admin_app.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Attendance,
    CareAssignment,
    Channel,
    Client,
    ClientRequest,
    MessageStatus,
    Modality,
    OutboundMessage,
    Participant,
    RequestAction,
    RequestStatus,
    Room,
    Site,
)
from admin_app.models.base import utcnow
from admin_app.services.billing.authorizations import AuthorizationRow, AuthorizationStatus, authorization_rows
from admin_app.services.people.records import clients_in_care_now
from admin_app.services.platform import clinic_time
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.labels import field_label
from admin_app.services.scheduling import rules
from admin_app.services.scheduling.calendar import initials
from admin_app.services.scheduling.video_links import https_address

# Past days whose appointments still waiting for an attendance are shown, so the day can be closed.
STILL_EXPECTED_DAYS = 7
# What the home calls an alert: running out (few sessions left, or ending soon) or used up.
ALERT_STATUSES = (AuthorizationStatus.LOW, AuthorizationStatus.EXHAUSTED)
# Messages that failed for good within these days, newest first, at most this many: older ones are
# the office's to resend (the outbox), not the therapist's news.
FAILED_MESSAGE_DAYS = 30
FAILED_MESSAGE_LIMIT = 20
# What cannot be said of a session before it starts (cancelling ahead of time can).
TAKES_PLACE = (Attendance.ATTENDED, Attendance.NO_SHOW, Attendance.LATE_CANCELLED)


@dataclasses.dataclass(frozen=True)
class Attendee:
    participant_id: int
    name: str  # the client's name, or initials once the client is out of the therapist's care
    attendance: Attendance


@dataclasses.dataclass(frozen=True)
class DayAppointment:
    id: int
    starts_at: dt.datetime  # UTC; shown in clinic time
    ends_at: dt.datetime
    kind: AppointmentKind
    modality: Modality
    status: AppointmentStatus
    room: str | None  # "Site · Room" for an on-site appointment
    video_link: str | None  # for a virtual one, as typed
    video_url: str | None  # the same when it is an https address (video_links): what may be a link
    started: bool  # attendance may be marked
    attendees: tuple[Attendee, ...]


@dataclasses.dataclass(frozen=True)
class Day:
    day: dt.date  # clinic date
    appointments: tuple[DayAppointment, ...]


@dataclasses.dataclass(frozen=True)
class FailedMessage:
    id: int
    client_id: int
    client: str
    channel: Channel
    template: str
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class OpenRequest:
    id: int
    client_id: int
    client: str
    action: RequestAction
    reason: str
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class PortalDay:
    today: dt.date
    still_expected: tuple[DayAppointment, ...]  # past days' appointments with someone still expected
    days: tuple[Day, ...]  # today (always, even empty), then the next days that have appointments
    authorizations: tuple[AuthorizationRow, ...]
    failed_messages: tuple[FailedMessage, ...]
    open_requests: tuple[OpenRequest, ...]


@dataclasses.dataclass(frozen=True)
class MarkedAttendance:
    name: str
    attendance: Attendance
    starts_at: dt.datetime


def shown_name(full_name: str, in_care: bool) -> str:
    return full_name if in_care else initials(full_name)


def portal_day(
    session: Session, *, therapist_id: int, now: dt.datetime | None = None, days_ahead: int | None = None
) -> PortalDay:
    """The home of `therapist_id` at `now`: today and `days_ahead` more days (`PORTAL_DAYS_AHEAD`)."""
    now = now or utcnow()
    days_ahead = current_app.config["PORTAL_DAYS_AHEAD"] if days_ahead is None else days_ahead
    zone = clinic_time.clinic_zone()
    today = clinic_time.to_local(now, zone).date()
    mine = clients_in_care_now(therapist_id)
    in_care = set(session.scalars(mine))
    appointments = _appointments(
        session,
        therapist_id=therapist_id,
        in_care=in_care,
        now=now,
        since=clinic_time.day_start(today - dt.timedelta(days=STILL_EXPECTED_DAYS), zone),
        today_start=clinic_time.day_start(today, zone),
        until=clinic_time.day_start(today + dt.timedelta(days=days_ahead + 1), zone),
    )
    past = tuple(a for a in appointments if clinic_time.to_local(a.starts_at, zone).date() < today)
    by_day: dict[dt.date, list[DayAppointment]] = {today: []}
    for appointment in appointments[len(past) :]:
        by_day.setdefault(clinic_time.to_local(appointment.starts_at, zone).date(), []).append(appointment)
    # The care list as a sub-select, not hundreds of bound ids: PostgreSQL plans it as a join.
    running = authorization_rows(session, therapist_client_ids=mine, today=today, running=True)
    alerts = tuple(row for row in running if row.status in ALERT_STATUSES)
    return PortalDay(
        today=today,
        still_expected=past,
        days=tuple(Day(day, tuple(items)) for day, items in by_day.items()),
        authorizations=alerts,
        failed_messages=_failed_messages(session, mine, since=now - dt.timedelta(days=FAILED_MESSAGE_DAYS)),
        open_requests=_open_requests(session, therapist_id),
    )


def _appointments(
    session: Session,
    *,
    therapist_id: int,
    in_care: set[int],
    now: dt.datetime,
    since: dt.datetime,
    today_start: dt.datetime,
    until: dt.datetime,
) -> list[DayAppointment]:
    """The window's appointments in order of start, one statement (a row per participant): every
    one from today on, and of the past days those not cancelled with someone still expected."""
    waiting = aliased(Participant)
    still_expected = exists().where(waiting.appointment_id == Appointment.id, waiting.attendance == Attendance.EXPECTED)
    query = (
        select(
            Appointment.id,
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.kind,
            Appointment.modality,
            Appointment.status,
            Appointment.video_link,
            Room.name.label("room_name"),
            Site.name.label("site_name"),
            Participant.id.label("participant_id"),
            Participant.attendance,
            Client.id.label("client_id"),
            Client.full_name,
        )
        .outerjoin(Room, Room.id == Appointment.room_id)
        .outerjoin(Site, Site.id == Room.site_id)
        .outerjoin(Participant, Participant.appointment_id == Appointment.id)
        .outerjoin(Client, Client.id == Participant.client_id)
        .where(
            Appointment.therapist_id == therapist_id,
            Appointment.starts_at >= since,
            Appointment.starts_at < until,
            or_(
                Appointment.starts_at >= today_start,
                and_(Appointment.status != AppointmentStatus.CANCELLED, still_expected),
            ),
        )
        .order_by(Appointment.starts_at, Appointment.id, Participant.id)
    )
    found: dict[int, tuple[object, list[Attendee]]] = {}
    for row in session.execute(query):
        _first, attendees = found.setdefault(row.id, (row, []))
        if row.participant_id is not None:
            name = shown_name(row.full_name, row.client_id in in_care)
            attendees.append(Attendee(row.participant_id, name, row.attendance))
    return [_appointment(row, attendees, now) for row, attendees in found.values()]


def _appointment(row, attendees: list[Attendee], now: dt.datetime) -> DayAppointment:
    on_site = row.modality == Modality.ON_SITE
    return DayAppointment(
        id=row.id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        kind=row.kind,
        modality=row.modality,
        status=row.status,
        room=f"{row.site_name} · {row.room_name}" if on_site and row.room_name else None,
        video_link=row.video_link if not on_site else None,
        video_url=https_address(row.video_link) if not on_site else None,
        started=row.starts_at <= now,
        attendees=tuple(attendees),
    )


def _failed_messages(session: Session, client_ids: Select, *, since: dt.datetime) -> tuple[FailedMessage, ...]:
    """What failed for good about these clients: the kind and the client, never the text or the address."""
    query = (
        select(
            OutboundMessage.id,
            OutboundMessage.client_id,
            Client.full_name,
            OutboundMessage.channel,
            OutboundMessage.template,
            OutboundMessage.created_at,
        )
        .join(Client, Client.id == OutboundMessage.client_id)
        .where(
            OutboundMessage.status == MessageStatus.FAILED,
            OutboundMessage.client_id.in_(client_ids),
            OutboundMessage.created_at >= since,
        )
        .order_by(OutboundMessage.created_at.desc(), OutboundMessage.id.desc())
        .limit(FAILED_MESSAGE_LIMIT)
    )
    return tuple(FailedMessage(*row) for row in session.execute(query))


def _open_requests(session: Session, therapist_id: int) -> tuple[OpenRequest, ...]:
    """The therapist's own requests still waiting (an activation is about a client not in care now,
    whom the therapist named when asking)."""
    query = (
        select(
            ClientRequest.id,
            ClientRequest.client_id,
            Client.full_name,
            ClientRequest.action,
            ClientRequest.reason,
            ClientRequest.created_at,
        )
        .join(Client, Client.id == ClientRequest.client_id)
        .where(ClientRequest.therapist_id == therapist_id, ClientRequest.status == RequestStatus.OPEN)
        .order_by(ClientRequest.created_at, ClientRequest.id)
    )
    return tuple(OpenRequest(*row) for row in session.execute(query))


def _not_started() -> RuleViolation:
    return RuleViolation(
        _l(
            "%(field)s: this appointment has not started yet; record the attendance once it has.",
            field=field_label("attendance"),
        ),
        field="attendance",
    )


def prepare_my_appointment(session: Session, appointment: Appointment, *, now: dt.datetime | None = None) -> None:
    """The portal's appointment form: a participant marked attended, no-show or late-cancelled on an
    appointment that has not started is refused (as on the home); then the attendance rule."""
    now = now or utcnow()
    marked = [
        p
        for p in appointment.participants
        if p.attendance in TAKES_PLACE and inspect(p).attrs.attendance.history.has_changes()
    ]
    if marked and appointment.starts_at is not None and appointment.starts_at > now:
        raise _not_started()
    rules.prepare_attendance(session, appointment, status_follows=True)


def record_my_attendance(
    session: Session,
    *,
    therapist_id: int,
    participant_id: int | None,
    attendance: Attendance | str,
    cancelled_by: str | None = None,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> MarkedAttendance:
    """Record how a participant of the therapist's own appointment attended (the caller commits).

    NotFound for a participant of another therapist's appointment (the same as one that does not
    exist); RuleViolation for an appointment that has not started yet, then whatever
    `rules.record_attendance` refuses (a cancellation without who and why, a paid-out session...).
    """
    now = now or utcnow()
    participant = (
        session.scalar(
            select(Participant)
            .join(Appointment, Appointment.id == Participant.appointment_id)
            .where(Participant.id == participant_id, Appointment.therapist_id == therapist_id)
        )
        if participant_id is not None
        else None
    )
    if participant is None:
        raise NotFound(_l("This appointment does not exist."))
    appointment = participant.appointment
    if appointment.starts_at > now:
        raise _not_started()
    rules.record_attendance(
        session, participant=participant, attendance=attendance, cancelled_by=cancelled_by, reason=reason
    )
    in_care = session.scalar(
        clients_in_care_now(therapist_id).where(CareAssignment.client_id == participant.client_id).limit(1)
    )
    return MarkedAttendance(
        name=shown_name(participant.client.full_name, in_care is not None),
        attendance=participant.attendance,
        starts_at=appointment.starts_at,
    )
