"""The public calendar feed: `GET /calendar/<token>.ics`, no login; the token is the key.

An unknown, rotated or malformed token, or an inactive therapist, answers the ordinary 404.
The token travels in the path: whatever logs request paths (a proxy, gunicorn's access log)
must leave this path out or cut the token.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort

from admin_app.extensions import csrf, db
from admin_app.services.scheduling import calendar

blueprint = Blueprint("calendar_feed", __name__)
csrf.exempt(blueprint)  # read-only and token-addressed: there is no form to protect


@blueprint.get("/calendar/<token>.ics")
def feed(token: str):
    therapist = calendar.therapist_for_feed_token(db.session, token)
    if therapist is None:
        abort(404)
    response = Response(calendar.build_feed(db.session, therapist), content_type="text/calendar; charset=utf-8")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
