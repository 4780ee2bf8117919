"""The front door: send each user to their area, and let them pick their language."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, session, url_for
from flask_security import current_user

from admin_app.config import SUPPORTED_LOCALES
from admin_app.extensions import db
from admin_app.models import ADMIN_ROLE, THERAPIST_ROLE
from admin_app.views.platform.base import local_path

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("security.login"))
    if current_user.has_role(ADMIN_ROLE):
        return redirect(url_for("admin.index"))
    if current_user.has_role(THERAPIST_ROLE):
        return redirect(url_for("portal.index"))
    abort(403)


@blueprint.post("/language")
def set_language():
    """Remember the chosen language: on the login for a signed-in user, else in the session."""
    locale = request.form.get("locale", "")
    if locale not in SUPPORTED_LOCALES:
        abort(400)
    if current_user.is_authenticated:
        current_user.locale = locale
        db.session.commit()
    else:
        session["locale"] = locale
    return redirect(local_path(request.form.get("next")) or "/")
