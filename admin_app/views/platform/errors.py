"""The error pages: every HTTP error a person can meet (400, 401, 403, 404, 405, 500, and a form
whose CSRF token expired) is answered with one page in the sign-in pages' look, in the user's
language, with the practice's name and a way back to where the user belongs.

A request made by a script (Accept: application/json, a JSON body, or XMLHttpRequest: the
search-as-you-type fields, the booking form's checks) gets a short JSON answer instead of a page.
No page shows what went wrong inside (the exception is in the log only). A request past a limit
(429: the sign-in forms, views/accounts/guessing.py) gets this page too; the public links a client
opens from an email answer theirs in their own look (views/platform/public.py: a blueprint's handler
comes first).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from admin_app.extensions import db
from admin_app.views.platform.base import local_path

log = logging.getLogger(__name__)

# Heading and text of each status a person may meet; any other reads as 400 (a 4xx) or 500 (a 5xx).
MESSAGES = {
    400: (
        _l("The request could not be understood"),
        _l("Something in what was sent could not be read. Go back, check what you entered and try again."),
    ),
    401: (_l("Sign-in needed"), _l("Sign in to open this page.")),
    403: (
        _l("Not allowed"),
        _l("Your login may not open this page. If your work needs it, ask the practice's staff."),
    ),
    404: (
        _l("Page not found"),
        _l("Nothing is at this address: the link may be old, or what it showed was removed."),
    ),
    405: (
        _l("Not possible here"),
        _l("This address cannot be used this way. Go back and use the page's own buttons."),
    ),
    413: (_l("Too large"), _l("What was sent is too large. Send a smaller file, or split it in parts.")),
    429: (_l("Too many attempts"), _l("Too many attempts, try again later.")),
    500: (
        _l("Something went wrong"),
        _l("The page could not be shown because of an error on our side. It was recorded; try again in a moment."),
    ),
}
EXPIRED_FORM = (
    _l("This form has expired"),
    _l("The form was open too long, or it was sent from another page. Nothing was saved: open it again and resend it."),
)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _expired_form)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(HTTPException, _http_error)


def wants_json() -> bool:
    """Whether the request came from a script that reads JSON rather than from a person's browser."""
    if request.is_json or request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    return request.accept_mimetypes.best_match(("text/html", "application/json")) == "application/json"


def _http_error(error: HTTPException):
    if error.code is None or error.code < 400:  # a redirect raised as an exception: not an error
        return error
    heading, text = MESSAGES.get(error.code) or MESSAGES[500 if error.code >= 500 else 400]
    return _answer(error, heading, text)


def _expired_form(error: CSRFError):
    heading, text = EXPIRED_FORM
    return _answer(error, heading, text, again=_form_page())


def _server_error(error: InternalServerError):
    """Flask has logged the exception already. The request's transaction may be broken: rolled back
    before the page reads the user (their language, their area)."""
    heading, text = MESSAGES[500]
    try:
        db.session.rollback()
        return _answer(error, heading, text)
    except Exception:  # the database itself may be down: Werkzeug's bare page (no detail) rather than none
        log.exception("the error page could not be rendered")
        return error


def _answer(error: HTTPException, heading, text, *, again: str | None = None):
    # The exception's own headers (Allow of a 405, WWW-Authenticate of a 401), not its HTML type.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    if wants_json():
        return jsonify(status=error.code, error=str(heading)), error.code, headers
    page = render_template("errors/error.html", code=error.code, heading=heading, text=text, again=again)
    return page, error.code, headers


def _form_page() -> str | None:
    """The page the expired form was sent from (its Referer, when it is one of ours), to open it again."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return local_path(referrer.path + (f"?{referrer.query}" if referrer.query else ""))
