"""Against guessing on the sign-in pages: request limits on Flask-Security's forms, the lockout of
a login after wrong passwords, and a limit on password-reset emails.

- The sign-in, second-factor and password-reset forms (their POSTs) are limited per IP address
  (`SIGN_IN_LIMIT_PER_ADDRESS`) and per account (`SIGN_IN_LIMIT_PER_ACCOUNT`: the email posted,
  normalised, or for the second factor the login waiting for it), counted by endpoint. Past a limit
  the form answers 429 with the error page (views/platform/errors.py), in the visitor's language.
- Wrong passwords are counted on the login by Flask-Security's `user_failed_authn` signal and lock
  it (services/accounts/lockout.py); a sign-in or a password reset starts the count again.
- Reset emails to one address are limited too (`rate_limits.LimitedResetMail`, RESET_EMAIL_LIMIT).

Counts go to the app's limit storage (Redis, else its database): the keys hold a hash of the
email, never the email itself.
"""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_limiter.util import get_remote_address
from flask_security import password_reset, user_authenticated, user_failed_authn

from admin_app.extensions import db, limiter
from admin_app.rate_limits import hashed
from admin_app.services.accounts import lockout
from admin_app.services.platform.contact import normalise_email
from admin_app.services.platform.errors import RuleViolation

# Flask-Security's endpoints that check a secret someone could guess (those that exist in the app).
GUARDED_ENDPOINTS = (
    "security.login",
    "security.two_factor_token_validation",
    "security.forgot_password",
    "security.reset_password",
)


def account_key() -> str:
    """The account a request is about: the email posted (normalised), else the login waiting for its
    second factor, else the address (a form without either is limited as the address is)."""
    raw = request.form.get("email", "")
    try:
        email = normalise_email(raw)
    except RuleViolation:
        email = raw.strip().lower()
    if email:
        return f"email:{hashed(email)}"
    if session.get("tf_user_id"):
        return f"login:{session['tf_user_id']}"
    return get_remote_address()


ADDRESS_LIMIT = limiter.limit(
    lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"], methods=["POST"], scope="sign-in-address"
)
ACCOUNT_LIMIT = limiter.limit(
    lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=account_key,
    scope="sign-in-account",
)


def init_app(app: Flask) -> None:
    """Limit the guarded endpoints of this app and count its wrong passwords."""
    for endpoint in GUARDED_ENDPOINTS:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = ADDRESS_LIMIT(ACCOUNT_LIMIT(app.view_functions[endpoint]))
    user_failed_authn.connect(_count_wrong_password, app)
    user_authenticated.connect(_clear_failures, app)
    password_reset.connect(_clear_failures, app)


def _count_wrong_password(_app, user, auth_type: str, tfa: bool = False, **_extra) -> None:
    if auth_type != "password" or tfa:
        return
    lockout.record_wrong_password(db.session, user.id)
    db.session.commit()  # the sign-in failed: nothing else of this request is to be kept


def _clear_failures(_app, user, **_extra) -> None:
    lockout.clear_failures(user)  # committed with the sign-in or reset (Flask-Security commits them)
