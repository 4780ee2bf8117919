"""The demo practice's admin home: the tasks and Bad Fit entries its staff would have on the demo's today.

The task scan (services.tasks.scan) runs as the periodic job would, after the invoices, payments and
payouts, so its tasks come from the demo's own figures: authorizations running low, invoices unpaid past
their payer's terms, the last month's draft payout statements, the Bad Fit entries, the reservations used
far under ROOM_USE_LOW_PERCENT (the reservations are loaded first). The staff then did
what staff do: Bad Fit entries older than `REVIEWED_AFTER_DAYS` were reviewed a week after their event
and the client kept on (so only later events could flag them again, and the scan runs again until none
older is open); the oldest generated tasks were marked done with a note; one task added by hand is
assigned to the admin; one therapist asked to deactivate a client.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from admin_app.demo.catalogue import marker_email
from admin_app.demo.practices import DemoPractice
from admin_app.models import (
    AdminTask,
    BadFitEntry,
    BadFitResolution,
    BadFitState,
    CareAssignment,
    Client,
    RequestAction,
    TaskKind,
    TaskStatus,
    Therapist,
    User,
)
from admin_app.services.platform import clinic_time
from admin_app.services.tasks import bad_fit, client_requests, scan, work

REVIEWED_AFTER_DAYS = 45  # Bad Fit entries older than this were reviewed (kept on)
REVIEWED_AT_DAYS = 7  # ...this many days after their event
TASKS_DONE = 3  # the oldest generated tasks staff marked done
MAX_REVIEW_ROUNDS = 12  # each round only opens entries for events after the previous resolutions

KEPT_NOTE = "Called the client: they want to continue; reminded them of the cancellation policy."
DONE_NOTE = "Followed up by phone; nothing more to do for now."
MANUAL_TITLE = "Check the intake forms of this week's new clients"
REQUEST_REASON = "The client finished treatment and will not book again."


def load_tasks(session: Session, practice: DemoPractice, *, today: dt.date) -> dict[str, int]:
    """Scan, review the older Bad Fit entries, work some tasks (see the module); the caller commits.
    Returns the counts of tasks by status and of Bad Fit entries by state."""
    today = min(today, clinic_time.today())
    now = clinic_time.day_start(today) + dt.timedelta(hours=8)
    admin = session.scalar(select(User).where(User.email == practice.admin_email))
    scan.scan(session, today=today, now=now)
    _review_old_entries(session, admin, today=today, now=now)
    _work_tasks(session, admin, now=now)
    _ask_to_deactivate(session, practice)
    scan.scan(session, today=today, now=now)
    return task_counts(session)


def _review_old_entries(session: Session, admin: User, *, today: dt.date, now: dt.datetime) -> None:
    """Resolve (kept) the open entries whose event is older than REVIEWED_AFTER_DAYS, a week after the
    event; then scan again, which may flag those clients anew by a later event, until none is old."""
    reviewed_before = today - dt.timedelta(days=REVIEWED_AFTER_DAYS)
    for _ in range(MAX_REVIEW_ROUNDS):
        old = session.execute(
            select(BadFitEntry.id, BadFitEntry.on).where(
                BadFitEntry.state == BadFitState.OPEN, BadFitEntry.on < reviewed_before
            )
        ).all()
        if not old:
            return
        for entry_id, on in old:
            bad_fit.resolve(session, entry_id, resolution=BadFitResolution.KEPT, note=KEPT_NOTE, user=admin)
            reviewed_at = clinic_time.day_start(on + dt.timedelta(days=REVIEWED_AT_DAYS)) + dt.timedelta(hours=10)
            session.execute(update(BadFitEntry).where(BadFitEntry.id == entry_id).values(resolved_at=reviewed_at))
        bad_fit.scan_bad_fit(session, now=now)


def _work_tasks(session: Session, admin: User, *, now: dt.datetime) -> None:
    """Mark the oldest generated tasks done, assign the next ones to the admin, add one by hand."""
    open_tasks = session.scalars(
        select(AdminTask.id)
        .where(AdminTask.status == TaskStatus.OPEN, AdminTask.kind != TaskKind.MANUAL)
        .order_by(AdminTask.opened_at, AdminTask.id)
        .limit(TASKS_DONE * 2)
    ).all()
    for task_id in open_tasks[:TASKS_DONE]:
        work.mark_done(session, task_id, note=DONE_NOTE, user=admin)
    for task_id in open_tasks[TASKS_DONE:]:
        work.assign(session, task_id, admin.id)
    work.add_task(session, title=MANUAL_TITLE, user=admin, assigned_to_id=admin.id)


def _ask_to_deactivate(session: Session, practice: DemoPractice) -> None:
    """The demo therapist asks the office to deactivate one of the active clients in their care."""
    therapist = session.scalar(select(Therapist).where(Therapist.email == marker_email(practice)))
    assignment = session.scalar(
        select(CareAssignment)
        .join(Client, Client.id == CareAssignment.client_id)
        .where(CareAssignment.therapist_id == therapist.id, CareAssignment.active.is_(True), Client.active)
        .order_by(CareAssignment.id)
        .limit(1)
    )
    if assignment is not None:
        client_requests.ask(
            session,
            therapist=therapist,
            client=assignment.client,
            action=RequestAction.DEACTIVATE,
            reason=REQUEST_REASON,
        )


def task_counts(session: Session) -> dict[str, int]:
    """How many tasks stand in each status, and how many Bad Fit entries in each state."""
    tasks = session.execute(select(AdminTask.status, func.count()).group_by(AdminTask.status)).all()
    entries = session.execute(select(BadFitEntry.state, func.count()).group_by(BadFitEntry.state)).all()
    return {
        **{f"tasks {status}": number for status, number in sorted(tasks)},
        **{f"Bad Fit entries {state}": number for state, number in sorted(entries)},
    }
