"""gunicorn settings shared by `make run` and the Procfile.

The access log leaves out query strings (list searches and lookups carry client names there)
and the secret tokens of calendar-feed, survey and invitation URLs.
"""

import os
import re

from gunicorn.glogging import Logger

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
timeout = 60

# Public links carry their secret in the path: the log shows which kind, never the token.
SECRET_PATHS = (
    (re.compile(r"^/calendar/[^/]+\.ics$"), "/calendar/<token>.ics"),
    (re.compile(r"^/survey/(?!thanks$)[^/]+$"), "/survey/<token>"),
    (re.compile(r"^/welcome/[^/]+$"), "/welcome/<token>"),
)


class PrivateLogger(Logger):
    """An access log without secrets in paths."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for pattern, shown in SECRET_PATHS:
            if pattern.match(atoms.get("U", "")):
                atoms["U"] = shown
        return atoms


logger_class = PrivateLogger
