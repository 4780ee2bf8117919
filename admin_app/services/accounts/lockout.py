"""Locking a login after wrong passwords in a row.

After `LOGIN_LOCKOUT_FAILURES` wrong passwords in a row a login is locked for
`LOGIN_LOCKOUT_MINUTES`: the sign-in form then refuses even the right password, with the same
generic message as a wrong one (`User.is_locked`, which Flask-Security asks), and the owner is
told by email once per lockout, through the outbox. A successful sign-in starts the count again,
and a password reset (which proves the owner holds the email) ends the lockout.
Wrong passwords while locked do not count: they neither extend the lockout nor send another email.

The count is one conditional UPDATE, so two web processes counting the same account at once
neither lose a failure nor lock (and email) twice.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_time
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from admin_app.models import Channel, User
from admin_app.models.base import utcnow
from admin_app.services.messaging import outbox
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.platform.errors import NoLongerDue

TEMPLATE = "login_locked"


def record_wrong_password(session: Session, user_id: int, now: dt.datetime | None = None) -> bool:
    """Count one wrong password for the login; returns True when it locked the login (and the
    email to its owner was queued)."""
    now = now or utcnow()
    not_locked = or_(User.locked_until.is_(None), User.locked_until <= now)
    failures = session.scalar(
        update(User)
        .where(User.id == user_id, not_locked)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    )
    threshold = current_app.config["LOGIN_LOCKOUT_FAILURES"]
    if failures is None or failures < threshold:
        return False
    until = now + dt.timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
    locked = session.execute(
        update(User)
        .where(User.id == user_id, User.failed_logins >= threshold)
        .values(failed_logins=0, locked_until=until)
        .execution_options(synchronize_session=False)
    ).rowcount
    if locked != 1:  # another process locked it meanwhile, and told the owner
        return False
    email, locale = session.execute(select(User.email, User.locale).where(User.id == user_id)).one()
    outbox.queue_message(
        session,
        channel=Channel.EMAIL,
        recipient=email,
        template=TEMPLATE,
        language=locale or current_app.config["DEFAULT_LOCALE"],
        context={"user_id": user_id, "locked_until": until.isoformat()},
        dedupe_key=f"login-locked:{user_id}:{until.isoformat()}",
        now=now,
    )
    return True


def clear_failures(user: User) -> None:
    """A successful sign-in or password reset: the wrong passwords before it no longer count."""
    user.failed_logins = 0
    user.locked_until = None


def lockout_variables(session: Session, context: dict, language: str) -> dict:
    """What the lockout email says: until when (the clinic's time) and what to do."""
    user = session.get(User, context["user_id"])
    if user is None:
        raise NoLongerDue(_l("the login was deleted"))
    until = dt.datetime.fromisoformat(context["locked_until"])
    return {
        "email": user.email,
        "minutes": current_app.config["LOGIN_LOCKOUT_MINUTES"],
        "failures": current_app.config["LOGIN_LOCKOUT_FAILURES"],
        "until": format_time(to_local(until), format="short", locale=language),
    }
