"""How a screen starts long work: it queues a run (or finds the one under way) and goes to its page."""

from __future__ import annotations

from flask import redirect, url_for
from flask_babel import get_locale
from flask_security import current_user
from werkzeug import Response

from admin_app.extensions import db
from admin_app.models import JobKind
from admin_app.services.job_runs import runs


def start_run(kind: JobKind, key: str, params: dict) -> Response:
    """Start a run of `kind` about `key` (the kind and its month), or find the one already queued
    or running, and go to its page. Where no runner runs, the run is performed when this commits."""
    run = runs.start(
        db.session, kind=kind, key=key, params=params, user_id=current_user.id, language=str(get_locale() or "en")
    )
    run_id = run.id
    db.session.commit()
    return redirect(url_for("job_runs.run_view", run_id=run_id))
