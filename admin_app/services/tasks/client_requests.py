"""A therapist's request to activate or deactivate a client in their care, and the office's answer.

Asking opens nothing by itself: an open request is a cause the task scan turns into a task
(services.tasks.causes). Answering changes the care assignment when accepted, tells the therapist
either way (an in-app notification, which holds ids only), and closes the request's task at once:
the person answering is looking at the list, which should not show it open until the next scan.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
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
from admin_app.services.platform import clinic_time
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.tasks import scan


def ask(session: Session, *, therapist: Therapist, client: Client, action: RequestAction, reason: str) -> ClientRequest:
    """Record the request (the caller commits). Refused without a reason, for a client the therapist
    has no care assignment of, when the same request is already waiting, and when there is nothing
    to do (activating an active assignment, deactivating an inactive one)."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_l("Say why you ask: the reason is required."), field="reason")
    assignment = _assignment(session, therapist.id, client.id)
    if assignment is None:
        raise RuleViolation(_l("%(client)s is not in your care.", client=client.full_name))
    if action == RequestAction.ACTIVATE and assignment.active:
        raise RuleViolation(_l("%(client)s is already active in your care.", client=client.full_name))
    if action == RequestAction.DEACTIVATE and not assignment.active:
        raise RuleViolation(_l("%(client)s is already inactive in your care.", client=client.full_name))
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
    """Accept (the therapist's care assignment of the client is activated or deactivated) or refuse
    a waiting request, with the office's note; the therapist's login (when they have one) is
    notified either way, and the request's task closes. Refused for a request already answered. The caller commits."""
    now = now or utcnow()
    request = session.get(ClientRequest, request_id)
    if request is None:
        raise NotFound(_l("This request does not exist."))
    if request.status != RequestStatus.OPEN:
        raise RuleViolation(_l("This request was already answered."))
    if accepted:
        assignment = _assignment(session, request.therapist_id, request.client_id)
        if assignment is None:
            raise RuleViolation(_l("The therapist no longer has this client in their care; refuse the request."))
        activate = request.action == RequestAction.ACTIVATE
        assignment.active = activate
        assignment.deactivated_on = None if activate else clinic_time.to_local(now).date()
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


def _assignment(session: Session, therapist_id: int, client_id: int) -> CareAssignment | None:
    return session.scalar(
        select(CareAssignment).where(CareAssignment.therapist_id == therapist_id, CareAssignment.client_id == client_id)
    )
