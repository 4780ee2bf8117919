"""What years of use leave beside the appointments, for the benchmarks' practice (the demos skip it):
a reminder in the outbox for each participant and channel the client chose, each month's survey
invitation (with its email) to the clients seen that month, a share of them answered with ratings,
and the audit trail of each booking and of the attendance marked afterwards.

Written from what `insert` wrote, one month at a time, with Core executemany like it: the sizes the
benchmarks use would take hours through the services. The rows are the services' rows (same
templates, dedupe keys and audit entities), except that an invitation's token hash is of a nonce
only (the old links are expired anyway) and nothing is ever delivered (messages are `sent` as of
their date, or `queued` for the days to come).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.demo.insert import insert_rows
from admin_app.demo.plan import Period
from admin_app.models import (
    Appointment,
    Attendance,
    AuditAction,
    Channel,
    Client,
    MessageStatus,
    OutboundMessage,
    Participant,
    SurveyInvitation,
    SurveyRating,
    SurveyResponse,
)
from admin_app.models.audit import write_events
from admin_app.services.messaging.reminders import CHANNELS, dedupe_key
from admin_app.services.messaging.reminders import TEMPLATE as REMINDER
from admin_app.services.platform.clinic_time import from_local
from admin_app.services.platform.months import Month
from admin_app.services.surveys.invitations import TEMPLATE as INVITATION

ACTIVITY_SEED = 2027
RESPONSE_SHARE = 0.3  # of the invitations sent
SURVEY_VALID_DAYS = 14
NPS_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 6, 12, 18, 20)  # scores 0 to 10: most clients recommend their therapist
STAR_WEIGHTS = (1, 1, 3, 8, 12)  # 1 to 5 stars


def load_activity(session: Session, period: Period, zone, actor: str) -> dict[str, int]:
    """Write the reminders, surveys and audit trail of every month of the period; the counts written.
    `actor` is who the audit trail says booked and marked the appointments (the practice's admin)."""
    rng = random.Random(ACTIVITY_SEED)
    tally: Counter[str] = Counter()
    first = Month.containing(period.first_day)
    for month in first.until(Month.containing(period.last_day)):
        meetings = _month_meetings(session, month, zone)
        _reminders(session, meetings, period, zone, tally)
        _audit(session, meetings, period, zone, actor, tally)
        if month.next().first_day <= period.today:
            _surveys(session, rng, month, meetings, zone, tally)
    return dict(tally)


def _month_meetings(session: Session, month: Month, zone) -> list:
    start, end = month.utc_range(zone)
    return session.execute(
        select(
            Participant.id.label("participant_id"),
            Participant.attendance,
            Appointment.id.label("appointment_id"),
            Appointment.therapist_id,
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.created_at,
            Client.id.label("client_id"),
            Client.email,
            Client.phone,
            Client.reminder_preference,
            Client.preferred_language,
            Client.survey_opt_out,
        )
        .join(Appointment, Appointment.id == Participant.appointment_id)
        .join(Client, Client.id == Participant.client_id)
        .where(Appointment.starts_at >= start, Appointment.starts_at < end)
        .order_by(Appointment.starts_at, Participant.id)
    ).all()


def _today_start(period: Period, zone) -> dt.datetime:
    return from_local(dt.datetime.combine(period.today, dt.time()), zone)


def _reminders(session: Session, meetings: list, period: Period, zone, tally: Counter) -> None:
    """A day before each meeting, one message per channel the client chose (sent, or queued if still to come)."""
    now = _today_start(period, zone)
    rows = []
    for meeting in meetings:
        due = meeting.starts_at - dt.timedelta(days=1)
        sent = due < now
        for channel in CHANNELS[meeting.reminder_preference]:
            if address := meeting.email if channel == Channel.EMAIL else meeting.phone:
                rows.append(
                    {
                        "channel": channel,
                        "recipient": address,
                        "template": REMINDER,
                        "language": meeting.preferred_language,
                        "context": {
                            "participant_id": meeting.participant_id,
                            "starts_at": meeting.starts_at.isoformat(),
                        },
                        "client_id": meeting.client_id,
                        "dedupe_key": dedupe_key(meeting.participant_id, meeting.starts_at, channel),
                        "status": MessageStatus.SENT if sent else MessageStatus.QUEUED,
                        "attempts": 1 if sent else 0,
                        "created_at": due,
                        "sent_at": due if sent else None,
                    }
                )
    insert_rows(session, OutboundMessage, rows)
    tally["reminders"] += len(rows)


def _audit(session: Session, meetings: list, period: Period, zone, actor: str, tally: Counter) -> None:
    """Each booking (the appointment and its participants created together) and, for a past meeting, its
    attendance marked an hour after it ended (the participant's attendance and the appointment's status)."""
    now = _today_start(period, zone)
    by_appointment: dict[int, list] = defaultdict(list)
    for meeting in meetings:
        by_appointment[meeting.appointment_id].append(meeting)
    rows = []
    for appointment_id, participants in by_appointment.items():
        created_at = participants[0].created_at
        rows.append(_event(created_at, actor, AuditAction.CREATE, "appointment", appointment_id))
        rows += [_event(created_at, actor, AuditAction.CREATE, "participant", p.participant_id) for p in participants]
        marked = participants[0].ends_at + dt.timedelta(hours=1)
        if marked < now:
            rows += [
                _event(marked, actor, AuditAction.UPDATE, "participant", p.participant_id, ["attendance"])
                for p in participants
            ]
            rows.append(_event(marked, actor, AuditAction.UPDATE, "appointment", appointment_id, ["status"]))
    rows.sort(key=lambda row: row["occurred_at"])
    write_events(session, rows)
    tally["audit events"] += len(rows)


def _event(at: dt.datetime, actor: str, action: AuditAction, entity: str, entity_id: int, fields=()) -> dict:
    return {
        "occurred_at": at,
        "actor_user_id": None,
        "actor": actor,
        "action": action.value,
        "entity": entity,
        "entity_id": entity_id,
        "changed_fields": list(fields),
        "detail": None,
    }


def _surveys(session: Session, rng: random.Random, month: Month, meetings: list, zone, tally: Counter) -> None:
    """On the 1st of the next month, an invitation to each client with an email seen that month (not opted
    out) and its email; a share answer within a week, rating each therapist they saw."""
    sent_at = from_local(dt.datetime.combine(month.next().first_day, dt.time(9)), zone)
    seen: dict[int, tuple[str, str, set[int]]] = {}
    for meeting in meetings:
        if meeting.email and not meeting.survey_opt_out and meeting.attendance == Attendance.ATTENDED:
            entry = seen.setdefault(meeting.client_id, (meeting.email, meeting.preferred_language, set()))
            entry[2].add(meeting.therapist_id)
    key = str(month)
    answered = {
        client_id: sent_at + dt.timedelta(minutes=rng.randrange(7 * 24 * 60))
        for client_id in seen
        if rng.random() < RESPONSE_SHARE
    }
    invitations = []
    for client_id, (_email, language, _therapists) in seen.items():
        nonce = f"{rng.getrandbits(128):032x}"
        invitations.append(
            {
                "opened_at": answered.get(client_id),
                "answered_at": answered.get(client_id),
                "month": key,
                "client_id": client_id,
                "recipient_id": client_id,
                "language": language,
                "token_nonce": nonce,
                "token_hash": hashlib.sha256(nonce.encode()).hexdigest(),
                "created_at": sent_at,
                "expires_at": sent_at + dt.timedelta(days=SURVEY_VALID_DAYS),
            }
        )
    insert_rows(session, SurveyInvitation, invitations)
    ids = dict(
        session.execute(
            select(SurveyInvitation.client_id, SurveyInvitation.id).where(SurveyInvitation.month == key)
        ).all()
    )
    insert_rows(
        session,
        OutboundMessage,
        [
            {
                "channel": Channel.EMAIL,
                "recipient": email,
                "template": INVITATION,
                "language": language,
                "context": {"invitation_id": ids[client_id]},
                "client_id": client_id,
                "dedupe_key": f"survey:{client_id}:{key}",
                "status": MessageStatus.SENT,
                "attempts": 1,
                "created_at": sent_at,
                "sent_at": sent_at,
            }
            for client_id, (email, language, _therapists) in seen.items()
        ],
    )
    insert_rows(
        session,
        SurveyResponse,
        [
            {
                "invitation_id": ids[client_id],
                "month": key,
                "nps_score": rng.choices(range(11), weights=NPS_WEIGHTS)[0],
                "submitted_at": at,
            }
            for client_id, at in answered.items()
        ],
    )
    response_ids = dict(
        session.execute(
            select(SurveyResponse.invitation_id, SurveyResponse.id).where(SurveyResponse.month == key)
        ).all()
    )
    ratings = [
        {
            "response_id": response_ids[ids[client_id]],
            "therapist_id": therapist_id,
            "month": key,
            "stars": rng.choices(range(1, 6), weights=STAR_WEIGHTS)[0],
        }
        for client_id in answered
        for therapist_id in sorted(seen[client_id][2])
    ]
    insert_rows(session, SurveyRating, ratings)
    tally["survey invitations"] += len(invitations)
    tally["survey responses"] += len(answered)
    tally["survey ratings"] += len(ratings)
