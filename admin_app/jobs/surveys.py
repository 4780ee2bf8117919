"""Jobs of the monthly survey."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from admin_app.extensions import db
from admin_app.jobs.queue import job
from admin_app.models import JobRun
from admin_app.services.platform.months import Month
from admin_app.services.platform.progress import Progress
from admin_app.services.surveys import invitations as surveys


@job
def send_monthly_survey() -> str:
    """Invite for the previous month once SURVEY_DAY has come (idempotent)."""
    summary = surveys.send_due_survey(db.session)
    db.session.commit()
    return "not due" if summary is None else f"{summary.month}: {summary.invited} invited"


def send_survey_run(run: JobRun, progress: Progress, finish: Callable[..., None]) -> None:
    """A month's survey sent from the results screen (a run in the background: services.job_runs)."""
    summary = surveys.send_for_month(db.session, Month.parse(run.params["month"]), progress=progress)
    finish(result=dataclasses.asdict(summary))
    db.session.commit()
