"""STAND-IN for h-scan's services.tasks.client_requests (only `answer`, without the care assignment
change and the notification): dropped at merge."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin_app.models import ClientRequest, RequestStatus, User
from admin_app.models.base import utcnow
from admin_app.services.platform.errors import NotFound, RuleViolation


def answer(session: Session, request_id: int, *, accepted: bool, note: str, user: User) -> ClientRequest:
    request = session.get(ClientRequest, request_id)
    if request is None:
        raise NotFound(_l("This request does not exist."))
    if request.status != RequestStatus.OPEN:
        raise RuleViolation(_l("This request was already answered."))
    request.status = RequestStatus.DONE if accepted else RequestStatus.REFUSED
    request.answered_at = utcnow()
    request.answered_by_id = user.id
    request.answer_note = note
    session.flush()
    return request
