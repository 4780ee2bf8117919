"""In-app notifications: a notice per user for system events, read in the user's language.

A notification stores a `kind` and ids, never text: the same notice reads in Spanish for one
admin and in French for another, and holds no client data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from admin_app.models import ADMIN_ROLE, Notification, Role, User
from admin_app.models.base import utcnow

MESSAGE_FAILED = "message_failed"
DETRACTOR_ANSWER = "detractor_answer"
INVITATION_RENEWAL = "invitation_renewal"
AUTHORIZATION_LOW = "authorization_low"
CLIENT_REQUEST_DONE = "client_request_done"
CLIENT_REQUEST_REFUSED = "client_request_refused"
DOCUMENTS_SUBMITTED = "documents_submitted"
EXTENSION_RECORDED = "extension_recorded"
RESERVATION_RELEASED = "reservation_released"

TEXTS = {
    MESSAGE_FAILED: _l("Message #%(message_id)s could not be delivered. Open the outbox to see why and send it again."),
    DETRACTOR_ANSWER: _l(
        "Survey answer #%(response_id)s gave a recommendation score from 0 to 6: a client to follow up with."
    ),
    INVITATION_RENEWAL: _l(
        "Login #%(login_id)s asks for a new invitation: its link expired or was replaced. "
        "Set-up → Logins, select it, With selected → Send a new invitation."
    ),
    AUTHORIZATION_LOW: _l(
        "Authorization #%(authorization_id)s is running low (few sessions left or its end date is near): "
        "send the payer the documents for an extension, then use Request extension on it (in the portal: Documents "
        "submitted). The email has the details."
    ),
    CLIENT_REQUEST_DONE: _l(
        "The office did what you asked in request #%(request_id)s (client #%(client_id)s): see your requests for "
        "its note."
    ),
    CLIENT_REQUEST_REFUSED: _l(
        "The office refused your request #%(request_id)s (client #%(client_id)s): see your requests for why."
    ),
    DOCUMENTS_SUBMITTED: _l(
        "A therapist sent the payer the documents for an extension of authorization #%(authorization_id)s: "
        "record the extension when the payer answers."
    ),
    EXTENSION_RECORDED: _l(
        "The extension of authorization #%(authorization_id)s is recorded: authorization #%(extension_id)s."
    ),
    RESERVATION_RELEASED: _l(
        "Your room reservation #%(reservation_id)s was changed by the office: see My room reservations."
    ),
}
LIST_LIMIT = 100


@dataclasses.dataclass(frozen=True)
class NoticeLine:
    id: int
    text: str
    created_at: dt.datetime
    read: bool
    message_id: int | None
    response_id: int | None
    request_id: int | None = None  # a therapist's client request (CLIENT_REQUEST_DONE / _REFUSED)


def notify_admins(session: Session, kind: str, *, now: dt.datetime | None = None, **params: int) -> int:
    """One notification for every active admin; returns how many were written."""
    admin_ids = session.scalars(
        select(User.id).join(User.roles).where(Role.name == ADMIN_ROLE, User.active.is_(True))
    ).all()
    for user_id in admin_ids:
        notify_user(session, user_id, kind, now=now, **params)
    return len(admin_ids)


def notify_user(session: Session, user_id: int, kind: str, *, now: dt.datetime | None = None, **params: int) -> None:
    if kind not in TEXTS:
        raise ValueError(f"unknown notification kind {kind!r}")
    session.add(Notification(user_id=user_id, kind=kind, params=params, created_at=now or utcnow()))


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def recent(session: Session, user_id: int) -> list[NoticeLine]:
    """The user's latest notifications, newest first, as text in the current language."""
    rows = session.scalars(
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(LIST_LIMIT)
    )
    return [
        NoticeLine(
            id=row.id,
            text=str(TEXTS[row.kind] % row.params),
            created_at=row.created_at,
            read=row.read_at is not None,
            message_id=row.params.get("message_id"),
            response_id=row.params.get("response_id"),
            request_id=row.params.get("request_id"),
        )
        for row in rows
    ]


def mark_all_read(session: Session, user_id: int, now: dt.datetime | None = None) -> int:
    return session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
