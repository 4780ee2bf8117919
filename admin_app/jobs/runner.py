"""The embedded periodic runner: the periodic work (`schedule.tick`, what `flask jobs tick` runs)
every minute, in a process of its own beside the web server, so a practice without cron or Redis
still gets its reminders, its monthly survey and its outbox retries. Between ticks it performs the
runs started from the screens (`job_runs.perform_queued`), looking for them every second.

`make run` starts it through gunicorn.conf.py: the gunicorn master starts exactly one, however
many web workers there are, and stops it when it stops (the runner also stops by itself when its
parent goes away). Each tick runs in a fresh app context (its own database session); a failing
entry is logged and the next tick runs anyway. Every entry is idempotent, so a runner beside a cron
`flask jobs tick` or an RQ cron scheduler never sends twice.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

from flask import Flask

from admin_app.jobs import job_runs, schedule

DEFAULT_INTERVAL = 60.0  # seconds
POLL_INTERVAL = 1.0  # seconds between looks for queued runs: a screen waits for them


def run(
    app: Flask,
    *,
    every: float = DEFAULT_INTERVAL,
    stop: threading.Event | None = None,
    stop_with_parent: bool = False,
    report: Callable[[dict[str, object]], None] | None = None,
    poll: float = POLL_INTERVAL,
) -> None:
    """Tick every `every` seconds, and perform queued runs every `poll` seconds, until `stop` is
    set, SIGTERM/SIGINT arrives, or (with `stop_with_parent`) the process that started this one is gone."""
    stop = stop or threading.Event()
    parent = os.getppid()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    app.logger.info("periodic runner started: every %s seconds", every)
    next_tick = time.monotonic()
    while not stop.is_set():
        if time.monotonic() >= next_tick:
            next_tick = time.monotonic() + every
            with app.app_context():
                results = schedule.tick()
            if report:
                report(results)
        _perform_queued(app)
        if stop_with_parent and os.getppid() != parent:
            app.logger.info("periodic runner: the web server is gone, stopping")
            break
        stop.wait(max(0.0, min(poll, next_tick - time.monotonic())))
    app.logger.info("periodic runner stopped")


def _perform_queued(app: Flask) -> None:
    """Perform the queued runs; a failure to reach the database is logged and tried again at the next poll."""
    with app.app_context():
        try:
            job_runs.perform_queued()
        except Exception:
            app.logger.exception("periodic runner: could not perform the queued runs")
