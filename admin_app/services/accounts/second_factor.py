"""The staff's reset of a login's second factor (a lost or replaced phone, recovery codes gone).

Setting up, using and turning off one's own second factor is Flask-Security's (TOTP with recovery
codes, SECURITY_TWO_FACTOR); who must have one is `User.check_tf_required`. A reset clears the
authenticator and the recovery codes, so the next sign-in takes the password and then asks for a
new setup when the login must have one. The owner is told by email (someone resetting it behind
their back is what they need to hear about), and the reset is in the audit trail.
"""

from __future__ import annotations

import dataclasses

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_security.twofactor import tf_disable
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import Channel, User
from admin_app.models.audit import AuditAction, record_event
from admin_app.models.base import utcnow
from admin_app.services.messaging import outbox
from admin_app.services.platform.errors import NoLongerDue, RuleViolation

RESET_TEMPLATE = "second_factor_reset"


@dataclasses.dataclass(frozen=True)
class BulkReset:
    """What resetting a selection of logins came to: whose second factor was cleared, who was skipped."""

    reset: list[str]
    skipped: list[str]


def has_second_factor(user: User) -> bool:
    return bool(user.tf_primary_method or user.tf_totp_secret or user.mf_recovery_codes)


def reset_second_factor(session: Session, *, user_id: int) -> User:
    """Clear the login's authenticator and recovery codes, tell its owner, record it."""
    user = session.get(User, user_id)
    if user is None:
        raise RuleViolation(_l("login: no such login"), field="user")
    if not has_second_factor(user):
        raise RuleViolation(_l("%(email)s has no second factor to reset.", email=user.email))
    tf_disable(user)
    current_app.extensions["security"].datastore.mf_set_recovery_codes(user, None)
    record_event(session, action=AuditAction.DELETE, entity="second_factor", entity_id=user.id)
    outbox.queue_message(
        session,
        channel=Channel.EMAIL,
        recipient=user.email,
        template=RESET_TEMPLATE,
        language=user.locale or current_app.config["DEFAULT_LOCALE"],
        context={"user_id": user.id},
        dedupe_key=f"second-factor-reset:{user.id}:{utcnow().isoformat()}",
    )
    session.flush()
    return user


def reset_second_factors(session: Session, user_ids: list[int]) -> BulkReset:
    """Reset each selected login that has a second factor; those without one are skipped."""
    done = BulkReset(reset=[], skipped=[])
    for user in session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.email)):
        if has_second_factor(user):
            reset_second_factor(session, user_id=user.id)
            done.reset.append(user.email)
        else:
            done.skipped.append(user.email)
    return done


def reset_email_variables(session: Session, context: dict, language: str) -> dict:
    """What the reset email says: which login, and where to sign in."""
    user = session.get(User, context["user_id"])
    if user is None:
        raise NoLongerDue(_l("the login was deleted"))
    return {
        "email": user.email,
        "sign_in_url": current_app.config["PUBLIC_BASE_URL"] + "/login",
        "must_set_up": user.must_have_second_factor,
    }
