"""STAND-IN for h-badfit's services.tasks.bad_fit (only `bad_fit_rows`): dropped at merge."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import BadFitEntry, BadFitReason, BadFitState, Client, Therapist


@dataclasses.dataclass(frozen=True)
class BadFitRow:
    id: int
    client_id: int
    client: str
    client_number: str
    therapist: str
    reason: BadFitReason
    on: dt.date
    notes: str | None
    state: BadFitState


def bad_fit_rows(session: Session, *, state: BadFitState | str | None = None) -> list[BadFitRow]:
    query = (
        select(
            BadFitEntry.id,
            Client.id,
            Client.full_name,
            Client.client_number,
            Therapist.full_name,
            BadFitEntry.reason,
            BadFitEntry.on,
            BadFitEntry.notes,
            BadFitEntry.state,
        )
        .join(Client, Client.id == BadFitEntry.client_id)
        .join(Therapist, Therapist.id == BadFitEntry.therapist_id)
        .order_by(BadFitEntry.on, BadFitEntry.id)
    )
    if state is not None:
        query = query.where(BadFitEntry.state == BadFitState(state))
    return [BadFitRow(*row) for row in session.execute(query)]
