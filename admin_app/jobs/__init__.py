"""Background work: plain functions taking ids, run by RQ when REDIS_URL is set, else in-process.

`jobs.queue` holds the glue (queues, timeouts, the app a job runs in, dispatch of outbox rows
after their transaction commits); `jobs.schedule` holds the one list of periodic work;
`jobs.worker` is the worker process's entry point, the one module here that builds the app.
"""

from flask import Flask

from admin_app.jobs import job_runs, messages


def init_app(app: Flask) -> None:
    messages.listen_for_commits()
    job_runs.listen_for_commits()
