"""Logins: the practice's admin and a therapist's own login."""

from __future__ import annotations

from admin_app.extensions import db
from admin_app.models import Therapist
from admin_app.services.accounts import logins

PASSWORD = "quiet-harbour-lantern"


def make_admin(email: str = "staff@example.com", locale: str = "en"):
    return logins.create_admin(db.session, email=email, password=PASSWORD, locale=locale)


def make_therapist_user(therapist: Therapist, locale: str = "en"):
    return logins.create_therapist_login(db.session, therapist_email=therapist.email, password=PASSWORD, locale=locale)
