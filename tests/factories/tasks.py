"""Admin tasks, Bad Fit entries and therapists' client requests, written as rows."""

from __future__ import annotations

import datetime as dt

from admin_app.extensions import db
from admin_app.models import (
    AdminTask,
    BadFitEntry,
    BadFitReason,
    Participant,
    TaskKind,
    TaskStatus,
)
from admin_app.services.platform import clinic_time


def make_manual_task(title: str, *, opened_on: dt.date | None = None, **fields) -> AdminTask:
    """A task staff added by hand (a stand-in for `services.tasks.work.add_task`)."""
    values = {"status": TaskStatus.OPEN, "opened_on": opened_on or clinic_time.today(), **fields}
    task = AdminTask(kind=TaskKind.MANUAL, title=title, **values)
    db.session.add(task)
    db.session.flush()
    return task


def make_bad_fit_entry(participant: Participant, reason: BadFitReason = BadFitReason.NO_SHOW) -> BadFitEntry:
    """An open Bad Fit entry triggered by this participation (a stand-in for the Bad Fit scan)."""
    appointment = participant.appointment
    entry = BadFitEntry(
        client_id=participant.client_id,
        participant_id=participant.id,
        therapist_id=appointment.therapist_id,
        reason=reason,
        on=clinic_time.to_local(appointment.starts_at).date(),
    )
    db.session.add(entry)
    db.session.flush()
    return entry
