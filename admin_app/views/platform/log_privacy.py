"""Logs without secrets: public links carry their token in the path (password reset, invitation,
second-factor setup, receipt, survey, calendar feed), so whatever logs a path shows which kind of link it was, never the
token. gunicorn's access log (gunicorn.conf.py) and the app's error log both use `masked_path`.

Every rule of the app with a `<token>` is here (tests/integration/test_access_log_routes.py checks);
whatever follows the prefix is masked, so a mistyped link (`/reset/<token>/`) hides it too.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, request

SECRET_SEGMENTS = (
    re.compile(r"^(/reset/)[^/]+"),
    re.compile(r"^(/welcome/)[^/]+"),
    re.compile(r"^(/tf-setup/)[^/]+"),  # a second factor being set up from the account menu
    re.compile(r"^(/receipts/)[^/]+"),
    re.compile(r"^(/survey/)(?!thanks/?$)[^/]+"),
    re.compile(r"^(/calendar/)[^/]+?(?=\.ics$|/|$)"),
)


def masked_path(path: str) -> str:
    """`path` with a public link's token replaced by `<token>`."""
    for pattern in SECRET_SEGMENTS:
        path, found = pattern.subn(r"\1<token>", path, count=1)
        if found:
            break
    return path


def masked_url(url: str) -> str:
    """A referring page's address with its token masked and without its query string."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, masked_path(parts.path), "", "")) if parts.path else url


class PrivateFlask(Flask):
    """Flask whose error log names the failing request by its masked path (Flask's own writes the
    path in full: an error on a reset link would put its token in the log)."""

    def log_exception(self, exc_info) -> None:
        self.logger.error("Exception on %s [%s]", masked_path(request.path), request.method, exc_info=exc_info)
