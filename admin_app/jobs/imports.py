"""Jobs of the import screen: a large uploaded file checked (its preview built) and imported as runs
in the background (services.job_runs). The run's params name the waiting upload
(services.imports.uploads); the file waits in the instance folder, so a worker must share it.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import g
from sqlalchemy.exc import DBAPIError

from admin_app.extensions import db
from admin_app.models import JobRun
from admin_app.services import imports
from admin_app.services.imports import Preview
from admin_app.services.imports.uploads import CHANGED_MEANWHILE, FILE_GONE, NOT_PASSING, Pending
from admin_app.services.job_runs.actors import run_actor
from admin_app.services.platform import races
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.progress import Progress


def check_run(run: JobRun, progress: Progress, finish: Callable[..., None]) -> None:
    """Build and save the upload's preview; the run's bar counts the rows checked. A file that
    cannot be read at all is discarded, as the screen does, and its reason is the run's failure."""
    pending = waiting_upload(run)
    try:
        preview = imports.preview_file(
            db.session, kind=pending.kind, path=pending.path, filename=pending.filename, progress=progress
        )
    except OSError:
        raise RuleViolation(FILE_GONE) from None
    except RuleViolation:
        pending.discard()
        raise
    finally:
        db.session.rollback()  # a check writes nothing: end its read transaction
    preview.save(pending.preview_path)
    finish(result={"file": pending.filename, "counts": preview.counts(), "errors": preview.error_count})
    db.session.commit()


def apply_run(run: JobRun, progress: Progress, finish: Callable[..., None]) -> None:
    """Check the upload again and import it, all or nothing, as its starter: its end is committed
    with the records. A file that no longer passes the checks imports nothing and its preview shows
    the errors again."""
    pending = waiting_upload(run)
    try:
        data = pending.path.read_bytes()
    except OSError:
        raise RuleViolation(FILE_GONE) from None
    g.audit_actor = run_actor(db.session, run)[1]
    try:
        plan = imports.run(db.session, pending.kind, data, pending.filename, progress=progress)
        if plan.ok:
            finish(result=applied_result(pending, plan))
            db.session.commit()
    except DBAPIError as error:  # someone saved the same key (an email, a therapist's hour) since the check
        db.session.rollback()
        if (refusal := races.refusal(error, otherwise=CHANGED_MEANWHILE)) is None:
            raise
        raise refusal from None
    if not plan.ok:
        db.session.rollback()
        Preview.of(plan).save(pending.preview_path)
        raise RuleViolation(NOT_PASSING)
    pending.discard()


def applied_result(pending: Pending, plan: imports.ImportPlan) -> dict:
    return {
        "file": pending.filename,
        "counts": plan.counts(),
        "matched": plan.matched,
        "warnings": [str(warning) for warning in plan.warnings],
    }


def waiting_upload(run: JobRun) -> Pending:
    pending = Pending.of(run.params)
    if pending is None:
        raise RuleViolation(FILE_GONE)
    return pending
