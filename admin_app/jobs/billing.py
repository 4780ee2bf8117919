"""Jobs of billing: the periodic scan that alerts on authorizations running low, and the runs
started from the screens (the invoice run, a ZIP of invoices)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from admin_app.extensions import db
from admin_app.jobs.queue import job
from admin_app.models import JobRun
from admin_app.services.billing import alerts, invoice_files
from admin_app.services.billing.invoice_documents import Category
from admin_app.services.billing.invoice_run import RunOutcome, commit_run
from admin_app.services.job_runs.actors import run_actor
from admin_app.services.platform.progress import Progress


@job
def alert_low_authorizations() -> int:
    """Alert once on each authorization that became low (idempotent); the emails go out on commit."""
    became_low = alerts.alert_low_authorizations(db.session)
    db.session.commit()
    return became_low


def invoice_run(run: JobRun, progress: Progress, finish: Callable[..., None]) -> None:
    """The invoice run of the screen; its end is committed with its drafts (`commit_run`)."""
    params = run.params

    def record_end(outcome: RunOutcome) -> None:
        finish(result=run_result(outcome, params["through"]))

    commit_run(
        db.session,
        through=dt.date.fromisoformat(params["through"]),
        payer_id=params.get("payer_id"),
        self_pay=bool(params.get("self_pay")),
        user_id=run.created_by_id,
        progress=progress,
        before_commit=record_end,
    )


def run_result(outcome: RunOutcome, through: str) -> dict:
    return {
        "invoice_run_id": outcome.run.id if outcome.run is not None else None,
        "through": through,
        "new_drafts": outcome.new_drafts,
        "extended_drafts": outcome.extended_drafts,
        "lines": outcome.lines,
    }


def invoice_zip(run: JobRun, progress: Progress, finish: Callable[..., None]) -> None:
    """A ZIP of a category's invoice PDFs, kept on the run for its starter to download."""
    document = invoice_files.category_pdfs(
        db.session,
        Category.parse(run.params["category"]),
        language=run.params["language"],
        actor=run_actor(db.session, run),
        progress=progress,
    )
    finish(result={"files": progress.total or 0}, document=document)
    db.session.commit()
