"""The one list of periodic work, and the two ways it runs.

In production the worker process (`python -m admin_app.jobs.worker`) starts RQ's own cron
scheduler (rq.cron.CronScheduler, RQ >= 2.4; cron strings are UTC) beside the worker; `flask
jobs tick` runs every entry once, for a system cron and for the embedded default without Redis.
Every entry is idempotent (outbox dedupe keys, conditional claims), so two ticks or two
schedulers never send twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from flask import current_app
from redis import Redis
from rq.cron import CronScheduler

from admin_app.extensions import db
from admin_app.jobs import accounts, billing, job_runs, limits, messages, payouts, surveys, tasks
from admin_app.jobs.queue import DEFAULT, FAILURE_TTL, JOB_TIMEOUT, MESSAGES, RESULT_TTL


@dataclasses.dataclass(frozen=True)
class Periodic:
    name: str
    job: Callable[[], object]
    queue: str
    cron: str  # UTC


PERIODIC: tuple[Periodic, ...] = (
    Periodic("appointment-reminders", messages.queue_reminders, MESSAGES, "* * * * *"),
    Periodic("outbox-reconciler", messages.reconcile_outbox, MESSAGES, "* * * * *"),
    Periodic("monthly-survey", surveys.send_monthly_survey, DEFAULT, "17 * * * *"),
    Periodic("authorization-alerts", billing.alert_low_authorizations, DEFAULT, "*/15 * * * *"),
    Periodic("payout-run", payouts.draft_due_payouts, DEFAULT, "23 * * * *"),
    Periodic("admin-task-scan", tasks.scan_tasks, DEFAULT, "*/15 * * * *"),
    Periodic("rate-limit-clean-up", limits.purge_rate_limit_counters, DEFAULT, "41 * * * *"),
    Periodic("ended-sessions", accounts.delete_ended_sessions, DEFAULT, "*/10 * * * *"),
    Periodic("job-runs-tidy", job_runs.tidy_runs, DEFAULT, "*/5 * * * *"),
)


def tick() -> dict[str, object]:
    """Run every periodic entry once, here; one failing entry does not stop the others (its work is
    rolled back, so the next entry starts on a clean session)."""
    results: dict[str, object] = {}
    for entry in PERIODIC:
        try:
            results[entry.name] = entry.job()
        except Exception as error:
            db.session.rollback()
            current_app.logger.exception("periodic job %s failed", entry.name)
            results[entry.name] = error
    return results


def cron_scheduler(connection: Redis) -> CronScheduler:
    scheduler = CronScheduler(connection=connection)
    for entry in PERIODIC:
        scheduler.register(
            entry.job,
            entry.queue,
            cron=entry.cron,
            job_timeout=JOB_TIMEOUT[entry.queue],
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            name=entry.name,
        )
    return scheduler
