"""Which authorization a participant billed to a payer uses, and what a booking does to it.

The rule (DESIGN.md, "Money after the session"): among the client's open authorizations from that
payer whose dates contain the date of service, the one with the earliest `valid_until` that still
has a session left; when none has, the earliest `valid_until` anyway (the booking goes over and
warns, or is refused where the payer says so). Staff may choose another one on the participant
(`authorization_chosen`), and the rule leaves that choice alone. A batch (a series, an import) is
linked in order of start, each link counting for the next (`Linker`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    Attendance,
    Authorization,
    BilledTo,
    Client,
    Participant,
    Payer,
    PaymentSource,
)
from admin_app.services.billing.authorizations import MISSED, counts_for, counts_query
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import field_label


@dataclasses.dataclass
class Candidate:
    """An open authorization as the rule sees it: its dates and how many sessions are taken."""

    id: int
    client_id: int
    payer_id: int
    reference: str
    payer: str
    valid_from: dt.date
    valid_until: dt.date
    approved: int
    taken: int  # used + scheduled
    counts_missed: bool
    refuses_over: bool

    @property
    def remaining(self) -> int:
        return self.approved - self.taken

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.valid_until


def consumes(attendance: Attendance | None, *, counts_missed: bool) -> bool:
    """Whether a linked participant takes one of the approved sessions (scheduled or used)."""
    if attendance in (None, Attendance.EXPECTED, Attendance.ATTENDED):
        return True
    return counts_missed and attendance in MISSED


def service_date(starts_at: dt.datetime) -> dt.date:
    return to_local(starts_at).date()


class Linker:
    """Picks authorizations for a batch of participants, counting each link for the next one.

    Loads every open authorization of the given (client, payer) pairs with its counts in one query;
    `excluding` are the participants about to be linked again (not counted twice).
    """

    def __init__(self, session: Session, pairs: Iterable[tuple[int, int]], *, excluding: Iterable[int] = ()):
        pairs = set(pairs)
        self.candidates: dict[tuple[int, int], list[Candidate]] = {pair: [] for pair in pairs}
        if not pairs:
            return
        counted = counts_query(excluding_participants=excluding).subquery()
        rows = session.execute(
            select(
                Authorization,
                Payer.name,
                Payer.counts_missed_sessions,
                Payer.refuses_over_approved,
                counted.c.scheduled,
                counted.c.used,
            )
            .join(Payer, Payer.id == Authorization.payer_id)
            .join(counted, counted.c.authorization_id == Authorization.id)
            .where(
                Authorization.client_id.in_({client for client, _ in pairs}),
                Authorization.payer_id.in_({payer for _, payer in pairs}),
                Authorization.closed_at.is_(None),
            )
            .order_by(Authorization.valid_until, Authorization.id)
        )
        for row in rows:
            authorization = row.Authorization
            pair = (authorization.client_id, authorization.payer_id)
            if pair in self.candidates:
                self.candidates[pair].append(
                    Candidate(
                        id=authorization.id,
                        client_id=authorization.client_id,
                        payer_id=authorization.payer_id,
                        reference=authorization.reference,
                        payer=row.name,
                        valid_from=authorization.valid_from,
                        valid_until=authorization.valid_until,
                        approved=authorization.approved_sessions,
                        taken=row.scheduled + row.used,
                        counts_missed=row.counts_missed_sessions,
                        refuses_over=row.refuses_over_approved,
                    )
                )

    def pick(self, client_id: int, payer_id: int, day: dt.date) -> Candidate | None:
        covering = [c for c in self.candidates.get((client_id, payer_id), []) if c.covers(day)]
        with_room = [c for c in covering if c.remaining > 0]
        return (with_room or covering or [None])[0]

    def candidate(self, authorization_id: int) -> Candidate | None:
        for candidates in self.candidates.values():
            for candidate in candidates:
                if candidate.id == authorization_id:
                    return candidate
        return None

    def take(self, candidate: Candidate, attendance: Attendance | None) -> None:
        if consumes(attendance, counts_missed=candidate.counts_missed):
            candidate.taken += 1


def _changed(participant: Participant, appointment: Appointment) -> bool:
    """Whether the rule must pick again: a new participant, or its client, payer or date moved."""
    state = inspect(participant)
    if state.transient or state.pending or participant.authorization_id is None:
        return True
    if any(
        state.attrs[name].history.has_changes() for name in ("client_id", "client", "payer_id", "payer", "billed_to")
    ):
        return True
    return inspect(appointment).attrs.starts_at.history.has_changes()


def _key(participant: Participant, name: str) -> int | None:
    related = getattr(participant, name)
    return related.id if related is not None and related.id is not None else getattr(participant, f"{name}_id")


def link_appointment(
    session: Session, appointment: Appointment, participants: Sequence[Participant]
) -> list[Participant]:
    """Link the appointment's payer-billed participants by the rule; returns those linked here (for
    `refuse_beyond_approved`). Participants billed to the client are linked to nothing. Raises
    RuleViolation for a staff choice of another client's or payer's authorization."""
    day = service_date(appointment.starts_at)
    to_link = []
    for participant in participants:
        if participant.billed_to != BilledTo.PAYER:
            participant.authorization = None
            participant.authorization_id = None
            participant.authorization_chosen = False
        elif participant.authorization_chosen and participant.authorization_id is not None:
            _check_choice(session, participant)
        elif _changed(participant, appointment):
            to_link.append(participant)
    if not to_link:
        return []
    excluding = [p.id for p in to_link if p.id is not None]
    linker = Linker(session, {(_key(p, "client"), _key(p, "payer")) for p in to_link}, excluding=excluding)
    for participant in to_link:
        candidate = linker.pick(_key(participant, "client"), _key(participant, "payer"), day)
        participant.authorization_id = candidate.id if candidate else None
        if candidate is not None:
            participant.authorization = session.get(Authorization, candidate.id)
            linker.take(candidate, participant.attendance)
        else:
            participant.authorization = None
    return to_link


def link_waiting(session: Session, pairs: Iterable[tuple[int, int]]) -> int:
    """Link by the rule, in order of start, the participants of these (client, payer) pairs that
    wait for an authorization (billed to the payer, linked to none, no staff choice): after
    authorizations were added or changed. Returns how many were linked; flushes."""
    pairs = set(pairs)
    if not pairs:
        return 0
    waiting = session.execute(
        select(Participant, Appointment.starts_at)
        .join(Appointment, Appointment.id == Participant.appointment_id)
        .where(
            Participant.billed_to == BilledTo.PAYER,
            Participant.authorization_id.is_(None),
            Participant.authorization_chosen.is_(False),
            Participant.client_id.in_({client for client, _ in pairs}),
            Participant.payer_id.in_({payer for _, payer in pairs}),
        )
        .order_by(Appointment.starts_at, Participant.id)
    ).all()
    linker = Linker(session, pairs)
    linked = 0
    for participant, starts_at in waiting:
        candidate = linker.pick(participant.client_id, participant.payer_id, service_date(starts_at))
        if candidate is None:
            continue  # another client's pair, or no authorization covers its date
        participant.authorization_id = candidate.id
        linker.take(candidate, participant.attendance)
        linked += 1
    session.flush()
    return linked


def _check_choice(session: Session, participant: Participant) -> None:
    authorization = participant.authorization or session.get(Authorization, participant.authorization_id)
    if authorization.client_id != _key(participant, "client") or authorization.payer_id != _key(participant, "payer"):
        raise RuleViolation(
            _l(
                "%(field)s: %(authorization)s is not an authorization of this client from this payer",
                field=field_label("authorization"),
                authorization=str(authorization),
            ),
            field="authorization",
        )


@dataclasses.dataclass(frozen=True)
class Notice:
    """What a booking did to an authorization, written for the person at the screen."""

    authorization_id: int | None
    refused: bool  # the payer refuses bookings beyond what it approved
    text: str


def beyond_message(*, payer: str, reference: str, client: str, approved: int, taken: int):
    return _l(
        "Authorization %(payer)s %(reference)s (%(client)s): %(approved)s sessions approved, %(taken)s booked "
        "or used: %(over)s beyond what is approved.",
        payer=payer,
        reference=reference,
        client=client,
        approved=approved,
        taken=taken,
        over=taken - approved,
    )


def uncovered_message(*, payer: str, client: str, day: dt.date):
    return _l(
        "No open authorization from %(payer)s covers %(date)s for %(client)s.",
        payer=payer,
        client=client,
        date=day.isoformat(),
    )


def booking_notices(
    session: Session, appointments: Iterable[Appointment], *, only: Iterable[Participant] | None = None
) -> list[Notice]:
    """What these saved appointments leave beyond what is approved: one notice per authorization
    that is over, and one per participant billed to a payer that no authorization covers. A few
    queries whatever the number of appointments. `only`: about these participants alone."""
    chosen = None if only is None else {id(p) for p in only}
    participants = [
        (appointment, p)
        for appointment in appointments
        for p in appointment.participants
        if p.billed_to == BilledTo.PAYER
        and p.attendance not in (Attendance.CANCELLED,)
        and (chosen is None or id(p) in chosen)
    ]
    linked_ids = {p.authorization_id for _, p in participants if p.authorization_id is not None}
    counts = counts_for(session, linked_ids)
    authorizations = (
        {a.id: a for a in session.scalars(select(Authorization).where(Authorization.id.in_(linked_ids)))}
        if linked_ids
        else {}
    )
    payers = {p.id: p for p in session.scalars(select(Payer))}
    clients = (
        {c.id: c for c in session.scalars(select(Client).where(Client.id.in_({p.client_id for _, p in participants})))}
        if participants
        else {}
    )
    notices: list[Notice] = []
    for authorization_id in sorted(linked_ids):
        count, authorization = counts[authorization_id], authorizations[authorization_id]
        if count.remaining < 0:
            payer = payers[authorization.payer_id]
            notices.append(
                Notice(
                    authorization_id,
                    payer.refuses_over_approved,
                    str(
                        beyond_message(
                            payer=payer.name,
                            reference=authorization.reference,
                            client=clients[authorization.client_id].full_name,
                            approved=count.approved,
                            taken=count.used + count.scheduled,
                        )
                    ),
                )
            )
    for appointment, participant in participants:
        if participant.authorization_id is None:
            payer = payers[participant.payer_id]
            notices.append(
                Notice(
                    None,
                    payer.refuses_over_approved,
                    str(
                        uncovered_message(
                            payer=payer.name,
                            client=clients[participant.client_id].full_name,
                            day=service_date(appointment.starts_at),
                        )
                    ),
                )
            )
    return notices


def refuse_beyond_approved(session: Session, appointment: Appointment, linked: Sequence[Participant]) -> None:
    """After the write (flushed): refuse, for a payer that says so, a booking that took an
    authorization beyond what it approved, or that no authorization covers."""
    if not linked:
        return
    refused = [notice for notice in booking_notices(session, [appointment], only=linked) if notice.refused]
    if refused:
        raise RuleViolation(
            _l(
                "This payer does not accept sessions beyond what it approved. %(reasons)s",
                reasons=" ".join(notice.text for notice in refused),
            ),
            field="authorization",
        )


def default_payer(session: Session, client_id: int | None) -> Payer | None:
    """The payer of the client's active payment source: who a new booking is billed to by default."""
    if client_id is None:
        return None
    return session.scalar(
        select(Payer)
        .join(PaymentSource, PaymentSource.payer_id == Payer.id)
        .where(PaymentSource.client_id == client_id, PaymentSource.active.is_(True), Payer.active.is_(True))
        .order_by(PaymentSource.id)
        .limit(1)
    )


@dataclasses.dataclass(frozen=True)
class Preview:
    """What the booking form shows before saving: the authorization this booking will use."""

    authorization_id: int | None
    label: str
    approved: int
    remaining_after: int  # after this booking
    valid_until: dt.date | None
    beyond: bool
    refused: bool
    text: str


def preview(session: Session, *, client_id: int, payer_id: int, starts_at: dt.datetime) -> Preview:
    day = service_date(starts_at)
    candidate = Linker(session, {(client_id, payer_id)}).pick(client_id, payer_id, day)
    payer = session.get(Payer, payer_id)
    if candidate is None:
        client = session.get(Client, client_id)
        return Preview(
            None,
            "",
            0,
            0,
            None,
            True,
            bool(payer and payer.refuses_over_approved),
            str(
                uncovered_message(payer=payer.name if payer else "", client=client.full_name if client else "", day=day)
            ),
        )
    after = candidate.remaining - 1
    text = _l(
        "Authorization %(payer)s %(reference)s: %(left)s of %(approved)s left after this booking "
        "(valid until %(until)s).",
        payer=candidate.payer,
        reference=candidate.reference,
        left=after,
        approved=candidate.approved,
        until=candidate.valid_until.isoformat(),
    )
    return Preview(
        candidate.id,
        f"{candidate.payer} {candidate.reference}",
        candidate.approved,
        after,
        candidate.valid_until,
        after < 0,
        after < 0 and candidate.refuses_over,
        str(text),
    )
