"""The public survey page: `/survey/<token>`, no login; the token is the key.

GET shows the form, POST stores the single answer and redirects to a thank-you page that no
longer needs the token. Everything on the page speaks the invitation's language.

An unknown, expired or already answered link answers one and the same page (404, same body), so
the page tells nothing about which it was; in the visitor's browser language, since no invitation
is known. Each such failed lookup counts against the visitor's IP: after `SURVEY_GUESS_LIMIT`
(default 20 per hour) every survey link answers 429 from that IP, a valid one too, so a guesser
learns nothing more once blocked.

The token travels in the path: the pages send no referrer, are not cached or indexed, and load
nothing from another host. Whatever logs request paths must leave this path out or cut the token.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from admin_app.config import SUPPORTED_LOCALES
from admin_app.extensions import csrf, db, limiter
from admin_app.models import SurveyInvitation
from admin_app.services.surveys import invitations as surveys
from admin_app.views.platform.public import PRIVATE_HEADERS, guess_limit, too_many_attempts, visitor_language
from admin_app.views.platform.rules import commit_or_roll_back

blueprint = Blueprint("survey", __name__)
# Checked by hand in `answer`, after the link is known: a form whose CSRF token is missing or stale
# is shown again with its answers kept, instead of a bare 400. (Flask-WTF's HTTPS referrer check is
# left out on purpose: these pages ask browsers to send no referrer, so it could never pass.)
csrf.exempt(blueprint)

GONE_STATUS = 404


def _failed_lookup(response) -> bool:
    """Only a link that opened nothing counts towards the guessing limit."""
    return response.status_code == GONE_STATUS


@blueprint.after_request
def _private_page(response):
    response.headers.update(PRIVATE_HEADERS)
    return response


@blueprint.route("/survey/<token>", methods=["GET", "POST"])
@limiter.limit(guess_limit, deduct_when=_failed_lookup)
def answer(token: str):
    invitation = surveys.open_invitation(db.session, token)
    if invitation is None:
        return _gone()
    language = invitation.language if invitation.language in SUPPORTED_LOCALES else visitor_language()
    if request.method == "POST":
        return _submit(invitation, language)
    if request.method == "GET" and invitation.opened_at is None:  # not HEAD: link checkers send that
        surveys.mark_opened(invitation)
        db.session.commit()
    with force_locale(language):
        return _form_page(invitation, language, _blank_values())


def _submit(invitation: SurveyInvitation, language: str):
    with force_locale(language):
        form = surveys.survey_form(db.session, invitation, language)
        values = {
            "stars": {
                therapist_id: request.form.get(f"stars-{therapist_id}") for therapist_id, _name in form.therapists
            },
            "nps": request.form.get("nps"),
            "comment": request.form.get("comment", ""),
        }
        if not _csrf_valid():
            message = _("Your answers were not saved because the page had expired. Please send them again.")
            return _form_page(invitation, language, values, {"form": message}, form=form), 400
        with commit_or_roll_back() as outcome:
            response = surveys.submit(
                db.session, invitation, stars=values["stars"], nps=values["nps"], comment=values["comment"]
            )
        if outcome.refusal:
            errors = {outcome.refusal.field or "form": str(outcome.refusal.message)}
            return _form_page(invitation, language, values, errors, form=form), 400
    if response is None:  # answered meanwhile (another tab, a double click): nothing stored
        return _gone()
    return redirect(url_for(".thanks", lang=language), 303)


def _csrf_valid() -> bool:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(request.form.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")))
    except ValidationError:
        return False
    return True


@blueprint.get("/survey/thanks")
def thanks():
    language = request.args.get("lang")
    with force_locale(language if language in SUPPORTED_LOCALES else visitor_language()):
        return render_template(
            "public/notice.html",
            heading=_("Thank you!"),
            text=_("Your answers were saved. They help us care for you better."),
        )


blueprint.register_error_handler(RateLimitExceeded, too_many_attempts)


def _gone():
    """The one answer for an unknown, expired or already answered link."""
    with force_locale(visitor_language()):
        page = render_template(
            "public/notice.html",
            heading=_("This survey link does not work"),
            text=_(
                "The link may be incomplete or out of date, or the survey may already have been answered. "
                "Thank you for your time."
            ),
        )
    return page, GONE_STATUS


def _blank_values() -> dict:
    return {"stars": {}, "nps": None, "comment": ""}


def _form_page(
    invitation: SurveyInvitation,
    language: str,
    values: dict,
    errors: dict | None = None,
    *,
    form: surveys.SurveyForm | None = None,
) -> str:
    about = invitation.client if invitation.client_id != invitation.recipient_id else None
    return render_template(
        "public/survey.html",
        form=form or surveys.survey_form(db.session, invitation, language),
        about_name=about.full_name if about else None,
        values=values,
        errors=errors or {},
        comment_max=surveys.COMMENT_MAX,
    )
