"""Jobs of the payout statements: the periodic drafting, and the runs started from the screen
(a month's payout run, its ZIP of statements)."""

from __future__ import annotations

from collections.abc import Callable

from admin_app.extensions import db
from admin_app.jobs.queue import job
from admin_app.models import JobRun
from admin_app.services.job_runs.actors import run_actor
from admin_app.services.payouts import schedule as payouts
from admin_app.services.payouts import statement_files
from admin_app.services.payouts.run import payout_run as run_payouts
from admin_app.services.platform.months import Month
from admin_app.services.platform.progress import Progress


@job
def draft_due_payouts() -> str:
    """Draft the previous month's payout statements once PAYOUT_DAY has come (once per month)."""
    summary = payouts.run_due(db.session)
    db.session.commit()
    if summary is None:
        return "not due"
    return f"{summary.month}: {summary.statements} statement(s), {summary.lines} line(s), {summary.held} held"


def payout_run(run: JobRun, progress: Progress, finish: Callable[..., None]) -> None:
    """A month's payout run from the statements screen."""
    summary = run_payouts(db.session, Month.parse(run.params["month"]), user_id=run.created_by_id, progress=progress)
    finish(
        result={
            "month": str(summary.month),
            "statements": summary.statements,
            "lines": summary.lines,
            "held": summary.held,
            "kept": summary.kept,
        }
    )
    db.session.commit()


def month_zip(run: JobRun, progress: Progress, finish: Callable[..., None]) -> None:
    """Every statement of a month as PDFs in one ZIP, kept on the run for its starter to download."""
    document = statement_files.month_zip(
        db.session,
        run.params["month"],
        language=run.params["language"],
        actor=run_actor(db.session, run),
        progress=progress,
    )
    finish(result={"month": run.params["month"], "files": progress.total or 0}, document=document)
    db.session.commit()
