"""The worker process: an RQ worker on our queues, with RQ's cron scheduler beside it.

The worker is a `SimpleWorker`: jobs run in this process, in the app it was started with
(no fork per job, so no database connection is shared across a fork), and a job that
overruns its timeout is stopped by RQ's alarm signal.
"""

from __future__ import annotations

import multiprocessing

from flask import Flask
from redis import Redis
from rq import SimpleWorker

from admin_app.jobs import schedule
from admin_app.jobs.queue import QUEUES, queue, redis_connection, use_app


def run(app: Flask, *, burst: bool = False, cron: bool = True) -> None:
    use_app(app)
    scheduler = multiprocessing.get_context("fork").Process(target=_run_cron, args=(app,), daemon=True)
    if cron:
        scheduler.start()
    try:
        worker = SimpleWorker([queue(name, app) for name in QUEUES], connection=redis_connection(app))
        worker.work(burst=burst, with_scheduler=False)
    finally:
        if scheduler.is_alive():
            scheduler.terminate()


def _run_cron(app: Flask) -> None:
    schedule.cron_scheduler(Redis.from_url(app.config["REDIS_URL"])).start()
