"""The admin-task scan: one idempotent pass that makes the live tasks match their causes.

It runs every quarter of an hour (jobs/schedule.py) and from `flask tasks scan`. First the Bad Fit
scan opens its entries (each open entry is a cause), then every kind's causes are read
(services.tasks.causes) and compared with the **live** tasks (cause_gone_at null; the model's
docstring says why "live" and not "open"):

- a cause with no live task opens one;
- an open task whose cause is still there gets its params brought up to date (the remaining
  sessions of a low authorization, the balance of an overdue invoice);
- a live task whose cause is gone stops being live: an open one closes itself, a done one stays
  done; either way, the next time the cause appears it opens a new task;
- a task staff marked done is not opened again while its cause lasts;
- a task added by hand (MANUAL) is never touched.

A second scan changes nothing. Two scans at once are serialised (`SCAN_LOCK`), and the partial
unique index on live tasks is the last guard against two live tasks of one kind and subject. The
cost does not grow with the number of tasks: one query per kind, one read of the live tasks, then
bulk writes (one insert of the new tasks, one executemany per kind of change), audited in bulk.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import AdminTask, TaskKind, TaskStatus
from admin_app.models.base import utcnow
from admin_app.services.platform import bulk, clinic_time, locking
from admin_app.services.tasks import bad_fit, causes

SCAN_LOCK = 0x7461736B  # "task": one task scan at a time, on every machine
REFRESHED = ("params", "client_id", "therapist_id")


@dataclasses.dataclass(frozen=True)
class ScanResult:
    opened: int  # new open tasks
    closed: int  # open tasks closed because their cause is gone


def scan(session: Session, *, today: dt.date | None = None, now: dt.datetime | None = None) -> ScanResult:
    """Open, refresh and close the generated tasks to match their causes now; the caller commits."""
    now = now or utcnow()
    today = today or clinic_time.to_local(now).date()
    locking.serialize(session, SCAN_LOCK)
    bad_fit.scan_bad_fit(session, now=now)
    found = {(cause.kind, cause.subject): cause for cause in causes.current_causes(session, today=today, now=now)}
    live = session.execute(
        select(
            AdminTask.id,
            AdminTask.kind,
            AdminTask.subject,
            AdminTask.status,
            AdminTask.params,
            AdminTask.client_id,
            AdminTask.therapist_id,
        ).where(AdminTask.cause_gone_at.is_(None), AdminTask.kind != TaskKind.MANUAL)
    ).all()
    stamp = bulk.audit_stamp()
    gone, refreshed = [], []
    for task in live:
        cause = found.pop((task.kind, task.subject), None)
        if cause is None:
            gone.append(task)
        elif task.status == TaskStatus.OPEN:
            refreshed.append((task.id, _changes(task, cause)))
    bulk.update_by_id(session, AdminTask, refreshed)
    bulk.record_updates(session, stamp, [(AdminTask.__tablename__, task_id, changed) for task_id, changed in refreshed])
    closed = _cause_gone(session, gone, now=now, stamp=stamp)
    opened = bulk.insert_records(session, AdminTask, [_new_task(cause, today, now) for cause in found.values()], stamp)
    return ScanResult(opened=len(opened), closed=closed)


def open_now(session: Session, found: Iterable[causes.Cause], *, now: dt.datetime | None = None) -> int:
    """These causes appeared just now (a therapist said so in the portal): open their tasks at once
    rather than at the next scan, unless a live task (open, or done while its cause lasts) exists.
    Serialised with the scan, so the two never open the same task. Returns how many opened."""
    now = now or utcnow()
    found = {(cause.kind, cause.subject): cause for cause in found}
    if not found:
        return 0
    locking.serialize(session, SCAN_LOCK)
    live = session.execute(
        select(AdminTask.kind, AdminTask.subject).where(
            AdminTask.cause_gone_at.is_(None),
            AdminTask.kind.in_({kind for kind, _subject in found}),
            AdminTask.subject.in_({subject for _kind, subject in found}),
        )
    ).all()
    for key in live:
        found.pop(tuple(key), None)
    today = clinic_time.to_local(now).date()
    opened = bulk.insert_records(
        session, AdminTask, [_new_task(cause, today, now) for cause in found.values()], bulk.audit_stamp()
    )
    return len(opened)


def close_now(session: Session, kind: TaskKind, subject: str, *, now: dt.datetime | None = None) -> int:
    """The live task of this kind and subject lost its cause just now (staff dealt with it on its
    own screen): close it at once rather than at the next scan. Returns how many closed (0 or 1)."""
    live = session.execute(
        select(AdminTask.id, AdminTask.status).where(
            AdminTask.kind == kind, AdminTask.subject == subject, AdminTask.cause_gone_at.is_(None)
        )
    ).all()
    return _cause_gone(session, live, now=now or utcnow(), stamp=bulk.audit_stamp())


def _cause_gone(session: Session, tasks: Iterable, *, now: dt.datetime, stamp: dict) -> int:
    """`tasks` (rows with id and status) are no longer live: the open ones close, the done ones
    stay done. Returns how many closed."""
    changes = [
        (task.id, {"status": TaskStatus.CLOSED, "cause_gone_at": now})
        if task.status == TaskStatus.OPEN
        else (task.id, {"cause_gone_at": now})
        for task in tasks
    ]
    bulk.update_by_id(session, AdminTask, changes)
    bulk.record_updates(session, stamp, [(AdminTask.__tablename__, task_id, changed) for task_id, changed in changes])
    return sum(1 for _task_id, changed in changes if "status" in changed)


def _changes(task, cause: causes.Cause) -> dict:
    """What an open task's params, client and therapist must become (empty: nothing changed)."""
    return {field: getattr(cause, field) for field in REFRESHED if getattr(task, field) != getattr(cause, field)}


def _new_task(cause: causes.Cause, today: dt.date, now: dt.datetime) -> dict:
    return {
        "kind": cause.kind,
        "subject": cause.subject,
        "params": cause.params,
        "client_id": cause.client_id,
        "therapist_id": cause.therapist_id,
        "status": TaskStatus.OPEN,
        "opened_at": now,
        "opened_on": today,
    }
