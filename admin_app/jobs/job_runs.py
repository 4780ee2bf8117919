"""Runs of long work in the background (services.job_runs): the job that performs one, its
dispatch once the run's row is committed, and the embedded runner's pick-up of queued runs.

With REDIS_URL a run is an RQ job; without it, the embedded periodic runner (`make run`) picks
queued runs up within a second, and where no runner runs (RUN_PERIODIC_WORK off: tests, the
end-to-end server) the run is performed at once, in-process, when the request that started it
commits, as every job is without Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import current_app
from flask_babel import force_locale, gettext

from admin_app.extensions import db
from admin_app.jobs import billing, imports, payouts, surveys
from admin_app.jobs.queue import enqueue, job
from admin_app.models import JobKind, JobRun
from admin_app.services.job_runs import runs
from admin_app.services.platform.documents.pdf import PdfError
from admin_app.services.platform.errors import RuleViolation

# What each kind does: (run, progress, finish) -> None; it calls `finish(result, document=None)`
# and commits, or raises (a refusal's message is shown on the run's page).
KINDS: dict[str, Callable[[JobRun, runs.ProgressWriter, Callable], None]] = {
    JobKind.SURVEY_SEND: surveys.send_survey_run,
    JobKind.INVOICE_RUN: billing.invoice_run,
    JobKind.INVOICE_ZIP: billing.invoice_zip,
    JobKind.PAYOUT_RUN: payouts.payout_run,
    JobKind.PAYOUT_ZIP: payouts.month_zip,
    JobKind.IMPORT_CHECK: imports.check_run,
    JobKind.IMPORT_APPLY: imports.apply_run,
}


@job
def perform_run(run_id: int) -> str:
    """Claim the run (committed first, so the screen shows it running), do its work, record its
    end. A refusal is kept as the run's failure; any other error goes to the log and the screen
    says the run failed; either way the run's work is rolled back."""
    run = runs.claim(db.session, run_id)
    db.session.commit()
    if run is None:
        return "not queued"
    kind, language = run.kind, run.language
    progress = runs.ProgressWriter(db.engine, run_id)
    try:
        with force_locale(language):
            KINDS[kind](run, progress, partial(runs.finish, db.session, run, progress))
        db.session.commit()
        return "done"
    except RuleViolation as refusal:
        db.session.rollback()
        with force_locale(language):
            _record_failure(run_id, str(refusal))
        return "refused"
    except PdfError:  # what the PDF writer said is for the log; the screen says what downloads say
        db.session.rollback()
        current_app.logger.exception("job run %s (%s): the PDF writer failed", run_id, kind)
        with force_locale(language):
            failure = gettext("The PDF could not be produced. Try again; if it keeps failing, see the application log.")
            _record_failure(run_id, failure)
        return "failed"
    except Exception:
        db.session.rollback()
        current_app.logger.exception("job run %s (%s) failed", run_id, kind)
        _record_failure(run_id, None)
        return "failed"


def _record_failure(run_id: int, failure: str | None) -> None:
    runs.fail(db.session, run_id, failure)
    db.session.commit()


@job
def tidy_runs() -> str:
    """Fail the runs a dead process left queued or running, and drop old runs' files (periodic)."""
    failed = runs.fail_stale(db.session)
    dropped = runs.drop_old_files(db.session)
    db.session.commit()
    return f"{failed} stale runs failed, {dropped} old files dropped"


def perform_queued() -> int:
    """The embedded runner's pick-up: perform every queued run, oldest first."""
    queued = runs.queued_ids(db.session)
    db.session.commit()
    for run_id in queued:
        perform_run(run_id)
    return len(queued)


def dispatch(run_ids: list[int]) -> None:
    if not current_app.config.get("REDIS_URL") and current_app.config.get("RUN_PERIODIC_WORK"):
        return  # the embedded runner picks them up
    for run_id in run_ids:
        try:
            enqueue(perform_run, run_id)
        except Exception:  # Redis down: the screen says the run failed, and it may be started again
            current_app.logger.exception("could not enqueue job run %s", run_id)
            with db.engine.begin() as connection:  # the session that started it is mid-commit
                runs.fail(connection, run_id)
