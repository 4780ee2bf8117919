"""Login invitations: a login made from the screens has no password until its owner sets one
through the emailed link. No one types a password for someone else.

An invitation link is a public link (platform.tokens.PublicLink): a token derived from SECRET_KEY and
a nonce, so the email is rendered at delivery from ids; the database keeps only its hash. It expires
after `INVITATION_VALID_DAYS`, works once, and a new invitation for the same login revokes it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from babel.dates import format_date
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_security import hash_password
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from admin_app.models import THERAPIST_ROLE, Channel, LoginInvitation, Therapist, User
from admin_app.models.base import utcnow
from admin_app.services.accounts.logins import ROLE_DESCRIPTIONS, checked_locale, new_user, therapist_login
from admin_app.services.accounts.passwords import check_password
from admin_app.services.messaging import notifications, outbox
from admin_app.services.platform import tokens
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.platform.contact import normalise_email
from admin_app.services.platform.errors import NoLongerDue, RuleViolation
from admin_app.services.platform.locking import hold_sqlite_write_lock

INVITATION_TEMPLATE = "login_invitation"
LINK = tokens.PublicLink(purpose="login-invitation", path="/welcome/{token}")


@dataclasses.dataclass(frozen=True)
class BulkInvitation:
    """What inviting a selection of therapists came to: who was invited, who skipped and why."""

    invited: list[str]
    skipped: list[tuple[str, str]]


def invite_login(
    session: Session,
    *,
    role: str,
    email: str | None = None,
    therapist_id: int | None = None,
    locale: str | None = None,
    now: dt.datetime | None = None,
) -> LoginInvitation:
    """Create a login without a password and email it a set-password link (through the outbox).

    A therapist login belongs to a therapist record and uses its email. Inviting a login that
    exists but never set its password sends a fresh link and kills the previous one.
    """
    if role not in ROLE_DESCRIPTIONS:
        raise RuleViolation(_l("role: choose staff or therapist"), field="role")
    if role == THERAPIST_ROLE:
        given = normalise_email(email, required=False) if email else None
        if therapist_id:
            therapist = session.get(Therapist, therapist_id)
        elif given:
            therapist = session.scalar(select(Therapist).where(func.lower(Therapist.email) == given))
            if therapist is None:
                raise RuleViolation(_l("email: no therapist has the email %(email)s", email=given), field="email")
        else:
            therapist = None
        if therapist is None:
            raise RuleViolation(_l("therapist: choose the therapist this login is for"), field="therapist")
        if given and given != normalise_email(therapist.email, required=True):
            raise RuleViolation(
                _l("email: a therapist signs in with the email on their record (%(email)s)", email=therapist.email),
                field="email",
            )
        return invite_therapist(session, therapist_id=therapist.id, locale=locale, now=now)
    if therapist_id:
        raise RuleViolation(_l("therapist: only a therapist login is linked to a therapist"), field="therapist")
    address = normalise_email(email, required=True)
    pending = _pending_login(session, address)
    if pending is not None and not pending.has_role(role):
        raise RuleViolation(_l("email: a login for %(email)s already exists", email=address), field="email")
    user = pending or new_user(session, email=address, password=None, role=role, locale=locale)
    return _send_invitation(session, user, locale=locale, now=now)


def invite_therapist(
    session: Session, *, therapist_id: int, locale: str | None = None, now: dt.datetime | None = None
) -> LoginInvitation:
    """Invite a therapist to the portal: a new login, or a fresh link for one not yet used."""
    therapist = session.get(Therapist, therapist_id)
    if therapist is None:
        raise RuleViolation(_l("therapist: choose the therapist this login is for"), field="therapist")
    if therapist.user is not None:
        if therapist.user.password is not None:
            raise RuleViolation(
                _l("%(name)s already signs in to the portal.", name=therapist.full_name), field="therapist"
            )
        return _send_invitation(session, therapist.user, locale=locale, now=now)
    if not therapist.active:
        raise RuleViolation(_l("%(name)s is not active.", name=therapist.full_name), field="therapist")
    user = therapist_login(session, therapist, password=None, locale=locale)
    return _send_invitation(session, user, locale=locale, now=now)


def invite_therapists(session: Session, therapist_ids: list[int], now: dt.datetime | None = None) -> BulkInvitation:
    """Invite each selected therapist; those who already sign in (or cannot be invited) are skipped."""
    therapists = session.scalars(select(Therapist).where(Therapist.id.in_(therapist_ids)).order_by(Therapist.full_name))
    return _invite_each(
        session,
        [(therapist.full_name, therapist.id) for therapist in therapists],
        lambda therapist_id: invite_therapist(session, therapist_id=therapist_id, now=now),
    )


def reinvite(session: Session, *, user_id: int, now: dt.datetime | None = None) -> LoginInvitation:
    """A fresh link for a login that has not set its password yet; the previous link stops working."""
    user = session.get(User, user_id)
    if user is None or user.password is not None:
        name = user.email if user else str(user_id)
        raise RuleViolation(_l('%(email)s already has a password; they can use "Forgot password".', email=name))
    return _send_invitation(session, user, now=now)


def reinvite_logins(session: Session, user_ids: list[int], now: dt.datetime | None = None) -> BulkInvitation:
    """A fresh link for each selected login that has no password yet; the others are skipped."""
    users = session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.email))
    return _invite_each(
        session, [(user.email, user.id) for user in users], lambda user_id: reinvite(session, user_id=user_id, now=now)
    )


def _invite_each(session: Session, selection: list[tuple[str, int]], invite: Callable[[int], object]) -> BulkInvitation:
    """Invite each (name, id) of a selection in a SAVEPOINT of its own, so a refusal skips only that one."""
    invited: list[str] = []
    skipped: list[tuple[str, str]] = []
    hold_sqlite_write_lock(session)  # so each SAVEPOINT below sits inside the transaction
    for name, record_id in selection:
        try:
            with session.begin_nested():
                invite(record_id)
        except RuleViolation as refusal:
            skipped.append((name, str(refusal)))
        else:
            invited.append(name)
    return BulkInvitation(invited=invited, skipped=skipped)


def _pending_login(session: Session, email: str) -> User | None:
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        return None
    if user.password is not None:
        raise RuleViolation(_l("email: a login for %(email)s already exists", email=email), field="email")
    return user


def _send_invitation(
    session: Session, user: User, *, locale: str | None = None, now: dt.datetime | None
) -> LoginInvitation:
    """Revoke the login's open links and queue a new one, in `locale` when given (it becomes the
    login's language), else in the login's language."""
    now = now or utcnow()
    if not user.active:
        raise RuleViolation(_l("%(email)s is deactivated; activate the login first.", email=user.email))
    if locale:
        user.locale = checked_locale(locale)
    _revoke_open_invitations(session, user.id, now)
    invitation = LoginInvitation(
        user_id=user.id,
        created_at=now,
        expires_at=now + dt.timedelta(days=current_app.config["INVITATION_VALID_DAYS"]),
    )
    LINK.issue(session, invitation)
    outbox.queue_message(
        session,
        channel=Channel.EMAIL,
        recipient=user.email,
        template=INVITATION_TEMPLATE,
        language=user.locale or current_app.config["DEFAULT_LOCALE"],
        context={"invitation_id": invitation.id},
        dedupe_key=f"login-invitation:{invitation.id}",
        now=now,
    )
    session.flush()
    return invitation


def _revoke_open_invitations(session: Session, user_id: int, now: dt.datetime) -> None:
    for invitation in session.scalars(
        select(LoginInvitation).where(
            LoginInvitation.user_id == user_id,
            LoginInvitation.used_at.is_(None),
            LoginInvitation.revoked_at.is_(None),
        )
    ):
        invitation.revoked_at = now


def _still_open(invitation: LoginInvitation | None, now: dt.datetime) -> bool:
    return (
        invitation is not None
        and invitation.used_at is None
        and invitation.revoked_at is None
        and invitation.expires_at > now
        and invitation.user.active
        and invitation.user.password is None
    )


def open_invitation(session: Session, token: str | None, now: dt.datetime | None = None) -> LoginInvitation | None:
    """The invitation this token opens, if a password may still be set with it; None for an
    unknown, expired, used or replaced link alike (the page must not tell which)."""
    invitation = LINK.find(session, LoginInvitation, token)
    return invitation if _still_open(invitation, now or utcnow()) else None


def request_new_invitation(session: Session, token: str | None, now: dt.datetime | None = None) -> bool:
    """The holder of a dead link asks the staff for a new one: the admins are told, once per link.
    False, with nothing written, for a link that opens no login still waiting for its password
    (unknown, working, or its login signs in already); the page answers the same either way."""
    now = now or utcnow()
    invitation = LINK.find(session, LoginInvitation, token)
    if (
        invitation is None
        or invitation.renewal_requested_at is not None
        or _still_open(invitation, now)
        or invitation.user.password is not None
        or not invitation.user.active
    ):
        return False
    invitation.renewal_requested_at = now
    notifications.notify_admins(session, notifications.INVITATION_RENEWAL, login_id=invitation.user_id, now=now)
    return True


def accept_invitation(
    session: Session,
    invitation: LoginInvitation,
    *,
    password: str,
    password_confirm: str,
    now: dt.datetime | None = None,
) -> User | None:
    """Set the login's first password (the policy of accounts.passwords) and use up the link;
    None when the link was used meanwhile (a second submit sets nothing)."""
    now = now or utcnow()
    user = invitation.user
    if password != password_confirm:
        raise RuleViolation(_l("The two passwords do not match."), field="password_confirm")
    normalised = check_password(password, email=user.email)
    claimed = session.execute(
        update(LoginInvitation)
        .where(
            LoginInvitation.id == invitation.id,
            LoginInvitation.used_at.is_(None),
            LoginInvitation.revoked_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return None
    session.refresh(invitation)
    user.password = hash_password(normalised)
    session.flush()
    return user


def invitation_variables(session: Session, context: dict, language: str) -> dict:
    """What the invitation email says, or NoLongerDue once the link cannot be used any more."""
    invitation = session.get(LoginInvitation, context["invitation_id"])
    if invitation is None:
        raise NoLongerDue(_l("the invitation was deleted"))
    if not _still_open(invitation, utcnow()):
        raise NoLongerDue(_l("the invitation was used, replaced or has expired"))
    user = invitation.user
    return {
        "email": user.email,
        "name": user.therapist.full_name if user.therapist else None,
        "is_therapist": user.has_role(THERAPIST_ROLE),
        "invitation_url": LINK.url(invitation),
        "valid_until": format_date(to_local(invitation.expires_at).date(), format="long", locale=language),
    }
