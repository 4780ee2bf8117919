"""Background work: plain functions taking ids, run by RQ when REDIS_URL is set, else in-process.

`jobs.queue` holds the glue (queues, timeouts, the app a job runs in, dispatch of outbox rows and
background runs after their transaction commits); `jobs.schedule` holds the one list of periodic work;
`jobs.worker` is the worker process's entry point, the one module here that builds the app.
"""

from flask import Flask

from admin_app.jobs import job_runs, messages
from admin_app.jobs.queue import dispatch_after_commit
from admin_app.services.job_runs import runs
from admin_app.services.messaging import outbox


def init_app(app: Flask) -> None:
    dispatch_after_commit(outbox.PENDING_DISPATCH, messages.dispatch)
    dispatch_after_commit(runs.PENDING_DISPATCH, job_runs.dispatch)
