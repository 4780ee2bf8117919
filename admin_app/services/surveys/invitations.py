"""The monthly client survey: who is invited, the private link, and the single answer.

A client is invited about a month when they attended at least one session whose local start is
in it. The invitation goes to the client's email; a client without one (a minor) is invited
through a guardian linked to them. Clients who opted out are skipped. One invitation per client
and month (a unique constraint and a lock), so sending a month again writes nothing new.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable, Mapping

from babel.dates import format_date
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    Attendance,
    Channel,
    Client,
    ClientLink,
    LinkKind,
    Participant,
    SurveyInvitation,
    SurveyRating,
    SurveyResponse,
    Therapist,
)
from admin_app.models.base import utcnow
from admin_app.services.messaging import notifications, outbox
from admin_app.services.platform import tokens
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.platform.errors import NoLongerDue, RuleViolation
from admin_app.services.platform.locking import serialize
from admin_app.services.platform.months import Month
from admin_app.services.platform.progress import Progress, ignore
from admin_app.services.surveys import nps as nps_groups

TEMPLATE = "survey_invitation"
LINK = tokens.PublicLink(purpose="survey", path="/survey/{token}")
SEND_LOCK = 0x73757276  # "surv": one survey send at a time
COMMENT_MAX = 2000


@dataclasses.dataclass(frozen=True)
class SendSummary:
    month: str
    invited: int = 0
    already_invited: int = 0
    opted_out: int = 0
    no_email: int = 0


@dataclasses.dataclass(frozen=True)
class SurveyForm:
    """What the public page asks: the month, and the therapists the client saw in it."""

    month: str
    month_label: str
    therapists: list[tuple[int, str]]


class InvitationState(enum.StrEnum):
    """Where an invitation stands, as the staff's list shows it (not the outbox's "sent": the
    email may still be on its way)."""

    SENT = "sent"
    OPENED = "opened"
    ANSWERED = "answered"
    EXPIRED = "expired"

    @property
    def label(self):
        return STATE_LABELS[self]

    @property
    def answerable(self) -> bool:
        return self in (InvitationState.SENT, InvitationState.OPENED)


STATE_LABELS = {
    InvitationState.SENT: _l("Not opened"),
    InvitationState.OPENED: _l("Opened, not answered"),
    InvitationState.ANSWERED: _l("Answered"),
    InvitationState.EXPIRED: _l("Expired"),
}

# The rule, once: the first state whose test holds, else SENT. Each test is written over the
# invitation's three instants and `now`, with `is_set` saying whether an instant is recorded, so
# the same lines judge a loaded invitation (`invitation_state`) and a row in SQL (`state_sql`).
_STATE_RULE: tuple[tuple[InvitationState, Callable], ...] = (
    (InvitationState.ANSWERED, lambda inv, now, is_set: is_set(inv.answered_at)),
    (InvitationState.EXPIRED, lambda inv, now, is_set: inv.expires_at <= now),
    (InvitationState.OPENED, lambda inv, now, is_set: is_set(inv.opened_at)),
)


def invitation_state(invitation: SurveyInvitation, now: dt.datetime | None = None) -> InvitationState:
    """The invitation's state at `now` (default: now)."""
    now = now or utcnow()
    for state, holds in _STATE_RULE:
        if holds(invitation, now, lambda instant: instant is not None):
            return state
    return InvitationState.SENT


def state_sql(now: dt.datetime):
    """`invitation_state` as a SQL CASE over survey_invitations (for filtering and counting)."""
    return case(
        *[
            (holds(SurveyInvitation, now, lambda column: column.is_not(None)), state.value)
            for state, holds in _STATE_RULE
        ],
        else_=InvitationState.SENT.value,
    )


def month_of(invitation: SurveyInvitation) -> Month:
    return Month.parse(invitation.month)


def send_for_month(
    session: Session, month: Month, now: dt.datetime | None = None, *, progress: Progress = ignore
) -> SendSummary:
    """Invite every client who attended a session in `month`, through the outbox; `progress`
    counts the clients."""
    now = now or utcnow()
    ensure_ended(month, now)
    start, end = month.utc_range()
    key = str(month)  # as stored
    serialize(session, SEND_LOCK)
    attended = (
        select(Participant.client_id)
        .join(Participant.appointment)
        .where(
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Participant.attendance == Attendance.ATTENDED,
        )
    )
    clients = session.scalars(select(Client).where(Client.id.in_(attended)).order_by(Client.id)).all()
    invited_before = set(session.scalars(select(SurveyInvitation.client_id).where(SurveyInvitation.month == key)))
    guardians = _guardians_with_email(session, [c.id for c in clients if not c.email])
    counts = {"invited": 0, "already_invited": 0, "opted_out": 0, "no_email": 0}
    progress(0, len(clients))
    for done, client in enumerate(clients, start=1):
        if client.id in invited_before:
            counts["already_invited"] += 1
        elif client.survey_opt_out:
            counts["opted_out"] += 1
        elif recipient := client if client.email else guardians.get(client.id):
            _invite(session, client, recipient, key, now)
            counts["invited"] += 1
        else:
            counts["no_email"] += 1
        progress(done, len(clients))
    return SendSummary(month=key, **counts)


def ensure_ended(month: Month, now: dt.datetime | None = None) -> None:
    """Refuse a month that has not ended: the survey asks about a finished month."""
    if month.utc_range()[1] > (now or utcnow()):
        raise RuleViolation(
            _l(
                "%(field)s: %(month)s has not ended yet; the survey asks about a finished month.",
                field=_l("Month"),
                month=str(month),
            ),
            field="month",
        )


def _guardians_with_email(session: Session, client_ids: list[int]) -> dict[int, Client]:
    """For each client without email, the first guardian linked to them who has one."""
    if not client_ids:
        return {}
    rows = session.execute(
        select(ClientLink.related_client_id, Client)
        .join(Client, Client.id == ClientLink.client_id)
        .where(
            ClientLink.kind == LinkKind.GUARDIAN_OF,
            ClientLink.related_client_id.in_(client_ids),
            Client.email.is_not(None),
            Client.survey_opt_out.is_(False),
        )
        .order_by(ClientLink.id)
    ).all()
    guardians: dict[int, Client] = {}
    for minor_id, guardian in rows:
        guardians.setdefault(minor_id, guardian)
    return guardians


def _invite(session: Session, client: Client, recipient: Client, month: str, now: dt.datetime) -> None:
    invitation = SurveyInvitation(
        month=month,
        client_id=client.id,
        recipient_id=recipient.id,
        language=recipient.preferred_language,
        created_at=now,
        expires_at=now + dt.timedelta(days=current_app.config["SURVEY_VALID_DAYS"]),
    )
    LINK.issue(session, invitation)
    outbox.queue_message(
        session,
        channel=Channel.EMAIL,
        recipient=recipient.email,
        template=TEMPLATE,
        language=invitation.language,
        context={"invitation_id": invitation.id},
        dedupe_key=f"survey:{client.id}:{month}",
        client_id=recipient.id,
        now=now,
    )


def open_invitation(session: Session, token: str | None, now: dt.datetime | None = None) -> SurveyInvitation | None:
    """The invitation this token opens, if it may still be answered; None for an unknown,
    expired or already answered link alike (the page must not tell which)."""
    invitation = LINK.find(session, SurveyInvitation, token)
    if invitation is None or not invitation_state(invitation, now).answerable:
        return None
    return invitation


def mark_opened(invitation: SurveyInvitation, now: dt.datetime | None = None) -> None:
    if invitation.opened_at is None:
        invitation.opened_at = now or utcnow()


def survey_form(session: Session, invitation: SurveyInvitation, language: str) -> SurveyForm:
    return SurveyForm(
        month=invitation.month,
        month_label=month_of(invitation).label(language),
        therapists=therapists_seen(session, invitation.client_id, month_of(invitation)),
    )


def therapists_seen(session: Session, client_id: int, month: Month) -> list[tuple[int, str]]:
    """The therapists of the client's attended sessions in the month, by name."""
    start, end = month.utc_range()
    rows = session.execute(
        select(Therapist.id, Therapist.full_name)
        .join(Appointment, Appointment.therapist_id == Therapist.id)
        .join(Participant, Participant.appointment_id == Appointment.id)
        .where(
            Participant.client_id == client_id,
            Participant.attendance == Attendance.ATTENDED,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
        .distinct()
        .order_by(Therapist.full_name, Therapist.id)
    ).all()
    return [(therapist_id, name) for therapist_id, name in rows]


def submit(
    session: Session,
    invitation: SurveyInvitation,
    *,
    stars: Mapping[int, str | None],
    nps: str | None,
    comment: str | None,
    now: dt.datetime | None = None,
) -> SurveyResponse | None:
    """Store the one answer of this invitation; None when it was answered meanwhile (a second
    submit stores nothing). Bad values raise RuleViolation naming the field."""
    now = now or utcnow()
    seen = therapists_seen(session, invitation.client_id, month_of(invitation))
    score = _whole_number(nps, 0, 10, field="nps", message=_l("Choose a number from 0 to 10."))
    ratings = {
        therapist_id: _whole_number(
            stars.get(therapist_id), 1, 5, field=f"stars-{therapist_id}", message=_l("Choose from 1 to 5 stars.")
        )
        for therapist_id, _name in seen
    }
    comment = (comment or "").strip() or None
    if comment and len(comment) > COMMENT_MAX:
        raise RuleViolation(
            _l("The comment is too long (at most %(max)d characters).", max=COMMENT_MAX), field="comment"
        )
    claimed = session.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.id == invitation.id, SurveyInvitation.answered_at.is_(None))
        .values(answered_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return None
    response = SurveyResponse(
        invitation_id=invitation.id,
        month=invitation.month,
        nps_score=score,
        comment=comment,
        submitted_at=now,
        ratings=[
            SurveyRating(therapist_id=therapist_id, month=invitation.month, stars=value)
            for therapist_id, value in ratings.items()
        ],
    )
    session.add(response)
    session.flush()
    if nps_groups.group_of(score) == nps_groups.DETRACTOR:
        notifications.notify_admins(session, notifications.DETRACTOR_ANSWER, response_id=response.id, now=now)
    return response


def _whole_number(raw: str | None, low: int, high: int, *, field: str, message) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise RuleViolation(message, field=field) from None
    if not low <= value <= high:
        raise RuleViolation(message, field=field)
    return value


def invitation_variables(session: Session, context: dict, language: str) -> dict:
    """What the invitation email says, or NoLongerDue once it was answered or expired."""
    invitation = session.get(SurveyInvitation, context["invitation_id"])
    if invitation is None:
        raise NoLongerDue(_l("the survey invitation was deleted"))
    state = invitation_state(invitation)
    if state == InvitationState.ANSWERED:
        raise NoLongerDue(_l("the survey was already answered"))
    if state == InvitationState.EXPIRED:
        raise NoLongerDue(_l("the survey link has expired"))
    about = invitation.client if invitation.client_id != invitation.recipient_id else None
    return {
        "client_name": invitation.recipient.full_name,
        "about_name": about.full_name if about else None,
        "month_label": month_of(invitation).label(language),
        "survey_url": LINK.url(invitation),
        "valid_until": format_date(to_local(invitation.expires_at).date(), format="long", locale=language),
    }


def send_due_survey(session: Session, now: dt.datetime | None = None) -> SendSummary | None:
    """The periodic run: from `SURVEY_DAY` on, invite for the previous month once (a month
    that already has invitations is left to `flask surveys send`, which adds late-comers)."""
    now = now or utcnow()
    today = to_local(now).date()
    if today.day < current_app.config["SURVEY_DAY"]:
        return None
    month = Month.containing(today).previous()
    if session.scalar(select(SurveyInvitation.id).where(SurveyInvitation.month == str(month)).limit(1)) is not None:
        return None
    return send_for_month(session, month, now)
