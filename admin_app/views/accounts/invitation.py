"""The set-password page of an invitation: `/welcome/<token>`, no login; the token is the key.

GET shows the form, POST sets the first password (accounts.passwords), uses up the link, signs the
person in and sends them to their area (the portal for a therapist, /admin for the staff), or first
to set up their second factor when their login must have one. An unknown, expired, used or replaced
link answers one and the same page (404) that says to ask the practice for a new invitation, with a
button that tells the staff (once per link).

The token travels in the path: the pages are not cached or indexed, send a referrer only to this
site (Flask-WTF's HTTPS check of the CSRF token needs it), and gunicorn's access log cuts the token.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_security import login_user

from admin_app.config import SUPPORTED_LOCALES
from admin_app.extensions import db
from admin_app.models import LoginInvitation
from admin_app.services.accounts import invitations
from admin_app.views.platform.rules import commit_or_roll_back

blueprint = Blueprint("invitation", __name__)
GONE_STATUS = 404
# No-store, same-origin referrer and nosniff come with every page (views/platform/headers.py).
HEADERS = {"X-Robots-Tag": "noindex"}


@blueprint.after_request
def _private_page(response):
    response.headers.update(HEADERS)
    return response


@blueprint.route("/welcome/<token>", methods=["GET", "POST"])
def set_password(token: str):
    invitation = invitations.open_invitation(db.session, token)
    if invitation is None:
        return _gone()
    language = _language(invitation)
    if request.method == "GET":
        with force_locale(language):
            return _form_page(invitation)
    with force_locale(language):
        with commit_or_roll_back() as outcome:
            user = invitations.accept_invitation(
                db.session,
                invitation,
                password=request.form.get("password", ""),
                password_confirm=request.form.get("password_confirm", ""),
            )
            second_step = user is not None and _sign_in(user)
        if outcome.refusal:
            return _form_page(invitation, {outcome.refusal.field or "form": str(outcome.refusal)}), 400
    if user is None:  # used meanwhile (another tab, a double click): nothing was written
        return _gone()
    return second_step or redirect(url_for("home.index"), 303)


def _sign_in(user):
    """Sign the newcomer in as the sign-in page would: a login that must have a second factor
    (REQUIRE_2FA_STAFF, REQUIRE_2FA_THERAPISTS) is sent to set it up first (Flask-Security's answer)."""
    second_step = current_app.extensions["security"].two_factor_plugins.tf_enter(user, None, "password", next_loc=None)
    if second_step is None:
        login_user(user, authn_via=["password"])
    return second_step


@blueprint.post("/welcome/<token>/renew")
def ask_for_a_new_invitation(token: str):
    """The dead-link page's button: the staff are told (once, and only for a real link)."""
    if invitations.request_new_invitation(db.session, token):
        db.session.commit()
    with force_locale(_visitor_language()):
        return render_template(
            "security/invitation_gone.html",
            heading=_("Thank you"),
            text=_(
                "If this link was sent to you, the practice's staff have been told and will send you a new "
                "invitation by email."
            ),
        )


def _language(invitation: LoginInvitation) -> str:
    locale = invitation.user.locale
    if locale in SUPPORTED_LOCALES:
        return locale
    return _visitor_language()


def _visitor_language() -> str:
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or current_app.config["DEFAULT_LOCALE"]


def _form_page(invitation: LoginInvitation, errors: dict | None = None) -> str:
    return render_template("security/set_password.html", email=invitation.user.email, errors=errors or {})


def _gone():
    """The one answer for an unknown, expired, used or replaced link."""
    with force_locale(_visitor_language()):
        page = render_template(
            "security/invitation_gone.html",
            renew_url=url_for(".ask_for_a_new_invitation", token=request.view_args["token"]),
            heading=_("This invitation link does not work"),
            text=_(
                "The link may be incomplete, already used, replaced by a newer invitation, or expired. "
                "Ask the practice's staff to send you a new invitation."
            ),
        )
    return page, GONE_STATUS
