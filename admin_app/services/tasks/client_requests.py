"""A therapist's request to activate or deactivate a client in their care, and the office's answer.

The request is about the CLIENT RECORD (`Client.active`), never the care assignment: an ended
assignment hides the client from the therapist at once (services.people.records), so a therapist
can only ask about clients in their care now. *Ask to deactivate* an active client (therapy ended,
the client left); *Ask to activate* a deactivated one (the client came back). The assignment stays
as it is either way.

Asking opens nothing by itself: an open request is a cause the task scan turns into a task
(services.tasks.causes). Answering sets `Client.active` when accepted, tells the therapist either
way (an in-app notification, which holds ids only), and closes the request's task at once: the
person answering is looking at the list, which should not show it open until the next scan.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from admin_app.models import (
    CareAssignment,
    Client,
    ClientRequest,
    RequestAction,
    RequestStatus,
    TaskKind,
    Therapist,
    User,
)
from admin_app.models.base import utcnow
from admin_app.services.messaging import notifications
from admin_app.services.people.records import clients_in_care_now
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.tasks import scan


def ask(session: Session, *, therapist: Therapist, client: Client, action: RequestAction, reason: str) -> ClientRequest:
    """Record the request (the caller commits). Refused without a reason, for a client not in the
    therapist's care now (no active care assignment), when there is nothing to do (activating an
    active client, deactivating a deactivated one), and when the same request is already waiting."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_l("Say why you ask: the reason is required."), field="reason")
    if not _in_care_now(session, therapist.id, client.id):
        raise RuleViolation(_l("%(client)s is not in your care.", client=client.full_name))
    if action == RequestAction.ACTIVATE and client.active:
        raise RuleViolation(_l("%(client)s is already active.", client=client.full_name))
    if action == RequestAction.DEACTIVATE and not client.active:
        raise RuleViolation(_l("%(client)s is already deactivated.", client=client.full_name))
    waiting = session.scalar(
        select(ClientRequest.id).where(
            ClientRequest.therapist_id == therapist.id,
            ClientRequest.client_id == client.id,
            ClientRequest.action == action,
            ClientRequest.status == RequestStatus.OPEN,
        )
    )
    if waiting is not None:
        raise RuleViolation(
            _l("You already asked this about %(client)s; the office has not answered yet.", client=client.full_name)
        )
    request = ClientRequest(therapist_id=therapist.id, client_id=client.id, action=action, reason=reason)
    session.add(request)
    session.flush()
    return request


def answer(
    session: Session,
    request_id: int,
    *,
    accepted: bool,
    note: str,
    user: User,
    now: dt.datetime | None = None,
) -> ClientRequest:
    """Accept (the client record is activated or deactivated; the care assignment is unchanged) or
    refuse a waiting request, with the office's note; the therapist's login (when they have one) is
    notified either way, and the request's task closes. Refused for a request already answered. The
    caller commits."""
    now = now or utcnow()
    request = session.get(ClientRequest, request_id)
    if request is None:
        raise NotFound(_l("This request does not exist."))
    if request.status != RequestStatus.OPEN:
        raise RuleViolation(_l("This request was already answered."))
    if accepted:
        request.client.active = request.action == RequestAction.ACTIVATE
    request.status = RequestStatus.DONE if accepted else RequestStatus.REFUSED
    request.answered_at = now
    request.answered_by_id = user.id
    request.answer_note = (note or "").strip() or None
    login_id = session.scalar(select(Therapist.user_id).where(Therapist.id == request.therapist_id))
    if login_id is not None:
        notifications.notify_user(
            session,
            login_id,
            notifications.CLIENT_REQUEST_DONE if accepted else notifications.CLIENT_REQUEST_REFUSED,
            now=now,
            request_id=request.id,
            client_id=request.client_id,
        )
    session.flush()
    scan.close_now(session, TaskKind.CLIENT_REQUEST, str(request.id), now=now)
    return request


@dataclasses.dataclass(frozen=True)
class Answer:
    """What the therapist reads of one of their requests beside its notification."""

    request_id: int
    client: str | None  # None once the client is no longer in their care (the privacy hold)
    status: RequestStatus
    note: str | None


def answers(session: Session, therapist_id: int, request_ids: Iterable[int]) -> dict[int, Answer]:
    """The therapist's own requests among `request_ids`, by id, in one statement: the client's name
    while the client is in their care now, the status and the office's note. Another therapist's
    request is simply absent."""
    request_ids = sorted(set(request_ids))
    if not request_ids:
        return {}
    name = case((ClientRequest.client_id.in_(clients_in_care_now(therapist_id)), Client.full_name))
    rows = session.execute(
        select(ClientRequest.id, name, ClientRequest.status, ClientRequest.answer_note)
        .join(Client, Client.id == ClientRequest.client_id)
        .where(ClientRequest.therapist_id == therapist_id, ClientRequest.id.in_(request_ids))
    )
    return {row[0]: Answer(*row) for row in rows}


def client_names(session: Session, therapist_id: int, client_ids: Iterable[int]) -> dict[int, str]:
    """The names of those of `client_ids` in the therapist's care now, in one statement: a request
    about a client whose care ended no longer names them."""
    client_ids = sorted(set(client_ids))
    if not client_ids:
        return {}
    rows = session.execute(
        select(Client.id, Client.full_name).where(
            Client.id.in_(client_ids), Client.id.in_(clients_in_care_now(therapist_id))
        )
    )
    return {client_id: name for client_id, name in rows}


def _in_care_now(session: Session, therapist_id: int, client_id: int) -> bool:
    found = session.scalar(clients_in_care_now(therapist_id).where(CareAssignment.client_id == client_id))
    return found is not None
