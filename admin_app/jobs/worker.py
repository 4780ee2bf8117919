"""The worker process: `python -m admin_app.jobs.worker [--burst] [--no-cron]`.

It builds the app (the one module of `jobs/` that does: a job module never builds one, at import
or on first use) and runs an RQ worker on our queues, with RQ's cron scheduler beside it for the
periodic work.

The worker is a `SimpleWorker`: jobs run in this process, in the app it built (no fork per job,
so no database connection is shared across a fork), and a job that overruns its timeout is
stopped by RQ's alarm signal.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys

from flask import Flask
from redis import Redis
from rq import SimpleWorker

from admin_app import create_app
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m admin_app.jobs.worker",
        description="Run an RQ worker on the app's queues, and RQ's cron scheduler for the periodic work.",
    )
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty (no cron)")
    parser.add_argument("--no-cron", dest="cron", action="store_false", help="do not run the periodic schedule")
    options = parser.parse_args(argv)
    app = create_app()
    if not app.config.get("REDIS_URL"):
        parser.exit(1, "REDIS_URL is not set: without Redis, jobs run in-process; use `flask jobs tick`.\n")
    run(app, burst=options.burst, cron=options.cron and not options.burst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
