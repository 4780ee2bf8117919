"""Sign-ins and failed sign-ins in the audit trail, from Flask-Security's signals.

A failed attempt names the login it was for (its id) and never what was typed: an unknown email
may be a client's address, or a password typed in the wrong box. Flask-Security sends no signal for
an unknown email, so a sign-in POST that ends with nobody signed in and nothing recorded is recorded
as a failed attempt for no known login.
"""

from __future__ import annotations

from flask import Flask, Response, after_this_request, g, request, session
from flask_security import current_user, user_authenticated, user_failed_authn

from admin_app.extensions import db
from admin_app.models import AuditAction, User
from admin_app.models.audit import record_event

ENTITY = User.__tablename__
ANONYMOUS = (None, "anonymous")
SIGN_IN_ENDPOINTS = frozenset({"security.login", "security.us_signin"})
_RECORDED = "audit_sign_in_recorded"


def init_app(app: Flask) -> None:
    user_authenticated.connect(_signed_in, sender=app)
    user_failed_authn.connect(_failed, sender=app)
    app.after_request(_unknown_login)


def _signed_in(_app, *, user: User, authn_via: list[str] | None = None, **_extra) -> None:
    _record(AuditAction.SIGN_IN, user.id, (user.id, user.email), {"via": sorted(authn_via or [])})


def _failed(_app, *, user: User, auth_type: str, tfa: bool = False, **_extra) -> None:
    _record(AuditAction.SIGN_IN_FAILED, user.id, ANONYMOUS, {"via": [auth_type], "second_factor": tfa})


def _unknown_login(response: Response) -> Response:
    if (
        request.method == "POST"
        and request.endpoint in SIGN_IN_ENDPOINTS
        and not g.get(_RECORDED)
        and not current_user.is_authenticated
        and not _on_to_second_factor(response)
    ):
        record_event(
            db.session, action=AuditAction.SIGN_IN_FAILED, entity=ENTITY, actor=ANONYMOUS, detail={"known_login": False}
        )
        db.session.commit()
    return response


def _on_to_second_factor(response: Response) -> bool:
    """The password was right and the login is led on to its second step (Flask-Security keeps whose it is
    in the session): no sign-in yet, and no failure either; the code's check records one or the other."""
    return response.status_code in (302, 303) and "tf_user_id" in session


def _record(action: AuditAction, user_id: int, actor, detail: dict) -> None:
    g.setdefault(_RECORDED, True)
    record_event(db.session, action=action, entity=ENTITY, entity_id=user_id, actor=actor, detail=detail)
    after_this_request(_commit)


def _commit(response: Response) -> Response:
    db.session.commit()
    return response
