"""The front door: send each user to their area, and let them pick their language."""

from __future__ import annotations

from typing import NamedTuple

from flask import Blueprint, abort, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_security import current_user

from admin_app.config import SUPPORTED_LOCALES
from admin_app.extensions import db
from admin_app.models import ADMIN_ROLE, THERAPIST_ROLE
from admin_app.views.platform.base import local_path

blueprint = Blueprint("home", __name__)


class WayBack(NamedTuple):
    url: str
    label: str


def area_endpoint() -> str | None:
    """The home of the signed-in user's area (the staff's, or the therapists' portal); None for a
    visitor not signed in, or a login with neither role."""
    if not current_user.is_authenticated:
        return None
    if current_user.has_role(ADMIN_ROLE):
        return "admin.index"
    if current_user.has_role(THERAPIST_ROLE):
        return "portal.index"
    return None


@blueprint.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("security.login"))
    endpoint = area_endpoint()
    if endpoint is None:
        abort(403)
    return redirect(url_for(endpoint))


@blueprint.app_template_global()
def way_back() -> WayBack:
    """Where the pages outside the two areas (sign-in, reset, second step, errors) lead back to: the
    user's area, else the sign-in page."""
    endpoint = area_endpoint()
    if endpoint is None:
        return WayBack(url_for("security.login"), _("Back to sign-in"))
    return WayBack(url_for(endpoint), _("Back to the home page"))


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
