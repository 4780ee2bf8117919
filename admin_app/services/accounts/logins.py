"""Logins: roles, the first admin, and therapist logins linked to their therapist record. A login
made from the screens has no password until its owner sets one (accounts.invitations)."""

from __future__ import annotations

import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_security import hash_password
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_app.config import SUPPORTED_LOCALES
from admin_app.models import ADMIN_ROLE, THERAPIST_ROLE, Role, Therapist, User
from admin_app.services.accounts.passwords import check_password
from admin_app.services.platform.contact import normalise_email
from admin_app.services.platform.errors import RuleViolation

ROLE_DESCRIPTIONS = {
    ADMIN_ROLE: "Practice staff: every screen",
    THERAPIST_ROLE: "Therapist: own clients and appointments only",
}


def ensure_roles(session: Session) -> dict[str, Role]:
    roles = {role.name: role for role in session.scalars(select(Role))}
    for name, description in ROLE_DESCRIPTIONS.items():
        if name not in roles:
            roles[name] = Role(name=name, description=description)
            session.add(roles[name])
    session.flush()
    return roles


def new_user(session: Session, *, email: str, password: str | None, role: str, locale: str | None) -> User:
    """A login with `role`; without `password` it cannot sign in until an invitation is accepted."""
    email = normalise_email(email, required=True)
    if session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise RuleViolation(_l("email: a login for %(email)s already exists", email=email), field="email")
    if password is not None:
        password = check_password(password, email=email)
    locale = checked_locale(locale)
    roles = ensure_roles(session)
    user = User(
        email=email,
        password=hash_password(password) if password is not None else None,
        active=True,
        fs_uniquifier=secrets.token_hex(32),
        locale=locale,
        roles=[roles[role]],
    )
    session.add(user)
    session.flush()
    return user


def create_admin(session: Session, *, email: str, password: str, locale: str | None = None) -> User:
    return new_user(session, email=email, password=password, role=ADMIN_ROLE, locale=locale)


def create_therapist_login(session: Session, *, therapist_email: str, password: str, locale: str | None = None) -> User:
    """Create the login of an existing therapist, with the therapist's own email."""
    email = normalise_email(therapist_email, required=True)
    therapist = session.scalar(select(Therapist).where(func.lower(Therapist.email) == email))
    if therapist is None:
        raise RuleViolation(_l("email: no therapist has the email %(email)s", email=email), field="email")
    return therapist_login(session, therapist, password=password, locale=locale)


def therapist_login(session: Session, therapist: Therapist, *, password: str | None, locale: str | None) -> User:
    if therapist.user_id is not None:
        raise RuleViolation(_l("email: %(name)s already has a login", name=therapist.full_name), field="email")
    user = new_user(session, email=therapist.email, password=password, role=THERAPIST_ROLE, locale=locale)
    therapist.user = user
    session.flush()
    return user


def checked_locale(locale: str | None) -> str:
    locale = locale or current_app.config["DEFAULT_LOCALE"]
    if locale not in SUPPORTED_LOCALES:
        raise RuleViolation(_l("language: unsupported language %(value)s", value=locale), field="locale")
    return locale
