"""Queues, and how a job reaches them: RQ with REDIS_URL, in-process at once without it.

Job arguments are ids only (they are stored in Redis and shown in failure tracebacks), and
each job runs in an app context of its own, so it has its own database session and commits
its own work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Flask, current_app, g, has_app_context
from redis import Redis
from rq import Queue
from sqlalchemy import event

from admin_app.extensions import db

MESSAGES, DOCUMENTS, DEFAULT = "messages", "documents", "default"
QUEUES = (MESSAGES, DOCUMENTS, DEFAULT)
JOB_TIMEOUT = {MESSAGES: 120, DOCUMENTS: 600, DEFAULT: 600}  # seconds
RESULT_TTL = 24 * 3600
FAILURE_TTL = 14 * 24 * 3600

_worker_app: list[Flask] = []
# What is dispatched once a transaction commits: the ids a service collected in `session.info[key]`.
_AFTER_COMMIT: dict[str, Callable[[list[int]], None]] = {}


def job(func: Callable) -> Callable:
    """Make `func(*ids)` a job: it runs in a fresh app context, as an audited actor."""

    @functools.wraps(func)
    def run(*ids: int):
        with _job_app().app_context():
            g.audit_actor = f"job:{func.__name__}"
            return func(*ids)

    return run


def _job_app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()
    if not _worker_app:
        raise RuntimeError("no app for this job: start workers with `python -m admin_app.jobs.worker`")
    return _worker_app[0]


def use_app(app: Flask) -> None:
    """The app the jobs of this process run in (the worker entry point, `jobs.worker`, passes the one it built)."""
    _worker_app[:] = [app]


def redis_connection(app: Flask | None = None) -> Redis:
    app = app or current_app
    connection = app.extensions.get("redis")
    if connection is None:
        connection = Redis.from_url(app.config["REDIS_URL"])
        app.extensions["redis"] = connection
    return connection


def queue(name: str, app: Flask | None = None) -> Queue:
    return Queue(name, connection=redis_connection(app))


def enqueue(func: Callable, *ids: int, queue_name: str = DEFAULT):
    """Run `func(*ids)` on its queue, or right here when there is no Redis."""
    if any(type(value) is not int for value in ids):
        raise TypeError(f"{func.__name__}: job arguments must be ids (int), never names or addresses")
    if not current_app.config.get("REDIS_URL"):
        try:
            return func(*ids)
        except Exception:
            current_app.logger.exception("in-process job %s%s failed", func.__name__, ids)
            return None
    return queue(queue_name).enqueue(
        func,
        *ids,
        job_timeout=JOB_TIMEOUT[queue_name],
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        description=f"{func.__name__}{ids}",
    )


def dispatch_after_commit(key: str, dispatch: Callable[[list[int]], None]) -> None:
    """Call `dispatch(ids)` with the ids a transaction collected in `session.info[key]` once it commits
    (a job must not look for rows its transaction has not written yet); a rollback forgets them, so work
    whose cause failed is never done. Once per process for each key, whatever the number of apps."""
    _AFTER_COMMIT[key] = dispatch
    if not event.contains(db.session, "after_commit", _dispatch_committed):
        event.listen(db.session, "after_commit", _dispatch_committed)
        event.listen(db.session, "after_soft_rollback", _forget_rolled_back)


def _dispatch_committed(session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT was released; the real commit comes later
        return
    for key, dispatch in _AFTER_COMMIT.items():
        ids = session.info.pop(key, [])
        if ids:
            dispatch(ids)


def _forget_rolled_back(session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        for key in _AFTER_COMMIT:
            session.info.pop(key, None)
