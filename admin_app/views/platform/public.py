"""What the public pages a client opens from an email share (survey, receipt): no login, the token
in the path is the key, so the answer is kept private and the visitor's language is the browser's
until a link says whose it is."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _

from admin_app.config import SUPPORTED_LOCALES

DEFAULT_GUESS_LIMIT = "20 per hour"

# Stricter than every page's headers (views/platform/headers.py, which also sends no-store and
# nosniff): these are kept.
PRIVATE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    # Only our own stylesheet; no script at all; forms post back to us only.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


def guess_limit() -> str:
    """How many links that open nothing one IP may try (SURVEY_GUESS_LIMIT, for every public link)."""
    return current_app.config.get("SURVEY_GUESS_LIMIT", DEFAULT_GUESS_LIMIT)


def visitor_language() -> str:
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or current_app.config["DEFAULT_LOCALE"]


def too_many_attempts(_error):
    """The answer once an IP has tried too many links that open nothing (a valid one too), in the
    browser's language."""
    with force_locale(visitor_language()):
        page = render_template(
            "public/notice.html",
            heading=_("Too many attempts"),
            text=_("Too many attempts, try again later."),
        )
    return page, 429
