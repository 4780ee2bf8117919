"""A run's page: its progress bar, and when done its result, a link back and its file; and the
list of recent runs, to come back to one later (staff only, like every screen that starts one).

The page polls `state` (JSON) every second (static/js/job-runs.js) and reloads itself when the
run has ended; without JavaScript a refresh shows where the run is.
"""

from __future__ import annotations

from flask import abort, jsonify, url_for
from flask_admin import BaseView, expose

from admin_app.extensions import db
from admin_app.models import JobRun, JobState
from admin_app.services.job_runs import runs
from admin_app.services.platform import bounds
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.platform.documents import Document
from admin_app.views.job_runs import results
from admin_app.views.platform.base import RoleRequired
from admin_app.views.platform.downloads import attachment


class JobRunsView(RoleRequired, BaseView):
    @expose("/")
    def index(self):
        return self.render("admin/job_runs/list.html", recent=_recent())

    @expose("/<int:run_id>")
    def run_view(self, run_id: int):
        run = _run_or_404(run_id)
        return self.render(
            "admin/job_runs/run.html",
            run=run,
            title=results.title(run),
            status=results.status(run),
            message=results.message(run),
            back=results.back_link(run),
            file_url=_file_url(run),
            recent=_recent(),
        )

    @expose("/<int:run_id>/state")
    def state(self, run_id: int):
        """How far the run is, for the page's bar; `message` once it has ended."""
        run = _run_or_404(run_id)
        ended = results.message(run)
        return jsonify(
            state=str(run.state),
            finished=run.finished,
            done=run.done,
            total=run.total,
            percent=run.percent,
            status=results.status(run),
            message=ended[0] if ended else None,
            level=ended[1] if ended else None,
            file_url=_file_url(run),
        )

    @expose("/<int:run_id>/file")
    def file(self, run_id: int):
        run = _run_or_404(run_id)
        if run.state != JobState.DONE or run.file_content is None:
            abort(404)
        return attachment(Document(run.file_content, run.file_mimetype, run.file_name))


def _run_or_404(run_id: int) -> JobRun:
    run = db.session.get(JobRun, run_id) if bounds.record_id(run_id) is not None else None
    if run is None:
        abort(404)
    return run


def _file_url(run: JobRun) -> str | None:
    return url_for(".file", run_id=run.id) if run.state == JobState.DONE and run.file_name else None


def _recent() -> list[dict]:
    return [
        {
            "run": run,
            "title": results.title(run),
            "status": results.status(run),
            "created": to_local(run.created_at).strftime("%Y-%m-%d %H:%M"),
        }
        for run in runs.recent(db.session)
    ]
