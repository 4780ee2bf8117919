"""Runs of long work: start one (or find the one already under way), claim it, report its progress,
finish or fail it, and fail the ones a dead process left behind.

A run's work and its ending are one transaction: the job commits its work with `finish`, or rolls
it back and records `fail` in a transaction of its own, so a failed run kept nothing. Progress is
written in short transactions of its own (`ProgressWriter`), visible while the work's transaction is
still open.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from admin_app.models import JobRun, JobState
from admin_app.models.base import utcnow
from admin_app.services.platform.documents import Document

PENDING_DISPATCH = "job_runs.pending_dispatch"
# A run that gave no sign of life for this long was left by a process that died: longer than any
# job may run (jobs.queue.JOB_TIMEOUT), so a slow run is never taken for a dead one.
STALE_AFTER = dt.timedelta(minutes=15)
# A run's file (a ZIP of invoices or statements: client names, earnings) is kept this long for its
# starter to download, then dropped: the database is no archive of exports.
FILE_KEPT = dt.timedelta(days=7)
RECENT = 20
UNFINISHED = (JobState.QUEUED, JobState.RUNNING)


def start(
    session: Session, *, kind: str, key: str, user_id: int | None, language: str, params: dict | None = None
) -> JobRun:
    """A new run of `kind`, queued (its job is dispatched once the caller commits); or, when a run
    of the same `key` is queued or running, that one: one run of a kind and month at a time."""
    fail_stale(session)
    under_way = active(session, key)
    if under_way is not None:
        return under_way
    run = JobRun(kind=kind, key=key, active_key=key, params=params or {}, language=language, created_by_id=user_id)
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:  # another process started the same run at the same moment
        under_way = active(session, key)
        if under_way is None:
            raise
        return under_way
    session.info.setdefault(PENDING_DISPATCH, []).append(run.id)
    return run


def active(session: Session, key: str) -> JobRun | None:
    return session.scalar(select(JobRun).where(JobRun.active_key == key))


def claim(session: Session, run_id: int) -> JobRun | None:
    """Mark a queued run as running and return it; None when it is no longer queued (another
    worker took it, or it ended), so a run dispatched twice runs once."""
    now = utcnow()
    claimed = session.execute(
        update(JobRun)
        .where(JobRun.id == run_id, JobRun.state == JobState.QUEUED)
        .values(state=JobState.RUNNING, started_at=now, alive_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    return session.get(JobRun, run_id, populate_existing=True)


def queued_ids(session: Session) -> list[int]:
    """The queued runs, oldest first (what the embedded runner picks up)."""
    return list(session.scalars(select(JobRun.id).where(JobRun.state == JobState.QUEUED).order_by(JobRun.id)))


def finish(
    session: Session, run: JobRun, progress: ProgressWriter, *, result: dict, document: Document | None = None
) -> None:
    """The run is done, as far as `progress` counted, with the figures its message shows and the
    file it made, if any; the caller commits it together with the run's work."""
    run.state = JobState.DONE
    run.result = result
    run.done = progress.done
    run.total = progress.total if progress.total is not None else progress.done
    run.finished_at = run.alive_at = utcnow()
    run.active_key = None
    if document is not None:
        run.file_name, run.file_mimetype = document.filename, document.mimetype
        run.file_content = document.content if isinstance(document.content, bytes) else document.content.encode()


def fail(session: Session | Connection, run_id: int, failure: str | None = None) -> None:
    """The run failed: `failure` is the rule that refused it, worded for the person at the screen;
    None for an unexpected error (its traceback is in the log, the screen says so). The caller has
    rolled the run's work back (or never started it), and commits this."""
    now = utcnow()
    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id, JobRun.state.in_(UNFINISHED))
        .values(state=JobState.FAILED, failure=failure, finished_at=now, alive_at=now, active_key=None)
        .execution_options(synchronize_session=False)
    )


def fail_stale(session: Session, now: dt.datetime | None = None) -> int:
    """Fail the runs that gave no sign of life for STALE_AFTER: their process died (a worker killed,
    the server restarted); RQ never reruns such a job, and their key must not stay taken."""
    now = now or utcnow()
    stale = session.execute(
        update(JobRun)
        .where(JobRun.state.in_(UNFINISHED), JobRun.alive_at < now - STALE_AFTER)
        .values(state=JobState.FAILED, failure=None, finished_at=now, active_key=None)
        .execution_options(synchronize_session=False)
    )
    return stale.rowcount


def drop_old_files(session: Session, now: dt.datetime | None = None) -> int:
    """Drop the files of runs that ended more than FILE_KEPT ago (the run and its message stay)."""
    dropped = session.execute(
        update(JobRun)
        .where(JobRun.file_name.is_not(None), JobRun.finished_at < (now or utcnow()) - FILE_KEPT)
        .values(file_name=None, file_mimetype=None, file_content=None)
        .execution_options(synchronize_session=False)
    )
    return dropped.rowcount


def recent(session: Session, limit: int = RECENT) -> Sequence[JobRun]:
    return session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(limit)).all()


class ProgressWriter:
    """`progress(done, total)`: how far a run is, written in a short transaction of its own so the
    screen sees it while the run's own transaction is still open. At most one write per `every`
    seconds (the last item is always written).

    Best effort: SQLite has one writer at a time, so while the run's own transaction holds the
    write lock a progress write would wait for it; it is skipped instead, and the bar moves at the
    next write that gets through (PostgreSQL never skips).
    """

    EVERY_SECONDS = 0.3

    def __init__(self, engine: Engine, run_id: int, *, every: float | None = None) -> None:
        self.engine, self.run_id = engine, run_id
        self.every = self.EVERY_SECONDS if every is None else every
        self.done, self.total = 0, None
        self._written_at = 0.0

    def __call__(self, done: int, total: int | None = None) -> None:
        self.done = done
        self.total = total if total is not None else self.total
        last = self.total is not None and done >= self.total
        if last or time.monotonic() - self._written_at >= self.every:
            self._write()

    def _write(self) -> None:
        self._written_at = time.monotonic()
        with self.engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                connection.exec_driver_sql("PRAGMA busy_timeout = 50")
            try:
                connection.execute(
                    update(JobRun)
                    .where(JobRun.id == self.run_id, JobRun.state == JobState.RUNNING)
                    .values(done=self.done, total=self.total, alive_at=utcnow())
                )
                connection.commit()
            except OperationalError:  # SQLite's write lock is the run's own: skip this one
                connection.rollback()
            finally:
                if sqlite:
                    connection.exec_driver_sql("PRAGMA busy_timeout = 5000")
