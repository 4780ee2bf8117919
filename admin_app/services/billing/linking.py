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
from typing import Protocol, TypeVar

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import inspect, select, update
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
from admin_app.services.billing.authorizations import MISSED, authorization_rows, counts_query
from admin_app.services.platform.clinic_time import day_start, to_local
from admin_app.services.platform.errors import NotFound, RuleViolation
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


class Pickable(Protocol):
    """What the rule reads of an authorization: a `Candidate`, or a listed `AuthorizationRow`."""

    @property
    def valid_from(self) -> dt.date: ...

    @property
    def valid_until(self) -> dt.date: ...

    @property
    def remaining(self) -> int: ...


P = TypeVar("P", bound=Pickable)


def pick_among(authorizations: Iterable[P], day: dt.date) -> P | None:
    """The rule's pick on `day` among one client's open authorizations from one payer, given in order
    of `valid_until`: the first covering the day that has a session left, else the first covering it."""
    covering = [a for a in authorizations if a.valid_from <= day <= a.valid_until]
    with_room = [a for a in covering if a.remaining > 0]
    return (with_room or covering or [None])[0]


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
        open_of_pairs = (
            Authorization.client_id.in_({client for client, _ in pairs}),
            Authorization.payer_id.in_({payer for _, payer in pairs}),
            Authorization.closed_at.is_(None),
        )
        counted = counts_query(*open_of_pairs, excluding_participants=excluding).subquery()
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
        return pick_among(self.candidates.get((client_id, payer_id), []), day)

    def candidate(self, authorization_id: int) -> Candidate | None:
        for candidates in self.candidates.values():
            for candidate in candidates:
                if candidate.id == authorization_id:
                    return candidate
        return None

    def take(self, candidate: Candidate, attendance: Attendance | None) -> None:
        if consumes(attendance, counts_missed=candidate.counts_missed):
            candidate.taken += 1

    def link(self, session: Session, participant: Participant, client_id: int, payer_id: int, day: dt.date) -> None:
        """Link the participant to what the rule picks (or to nothing), counting it for the next."""
        candidate = self.pick(client_id, payer_id, day)
        participant.authorization = session.get(Authorization, candidate.id) if candidate else None
        participant.authorization_id = candidate.id if candidate else None
        if candidate is not None:
            self.take(candidate, participant.attendance)


# What, changed on a saved participant, makes the rule pick again.
_RELINKED_BY = ("client_id", "client", "payer_id", "payer", "billed_to", "authorization_chosen")


def _changed(participant: Participant, appointment: Appointment) -> bool:
    """Whether the rule must pick again: a new participant; its client, payer or date moved; the
    staff handed the choice back to the rule; or a cancelled session is expected again. Anything
    else (an old appointment's notes) keeps the link as it is, even none: `link_waiting` links
    those once an authorization covering them is recorded."""
    state = inspect(participant)
    if state.transient or state.pending:
        return True
    if any(state.attrs[name].history.has_changes() for name in _RELINKED_BY):
        return True
    if _booked_anew(participant):
        return True
    return inspect(appointment).attrs.starts_at.history.has_changes()


def _booked_anew(participant: Participant) -> bool:
    """A cancelled or missed session that did not use an approved one, expected again: a booking.
    (Recording what happened, a no-show corrected to attended, is no booking: it is never refused.)"""
    history = inspect(participant).attrs.attendance.history
    if participant.attendance != Attendance.EXPECTED or not history.deleted:
        return False
    counts_missed = participant.payer is not None and participant.payer.counts_missed_sessions
    return not consumes(history.deleted[0], counts_missed=counts_missed)


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
        elif participant.authorization_chosen and _key(participant, "authorization") is not None:
            _check_choice(session, participant)
        elif _changed(participant, appointment):
            to_link.append(participant)
    if not to_link:
        return []
    excluding = [p.id for p in to_link if p.id is not None]
    linker = Linker(session, {(_key(p, "client"), _key(p, "payer")) for p in to_link}, excluding=excluding)
    for participant in to_link:
        linker.link(session, participant, _key(participant, "client"), _key(participant, "payer"), day)
    return to_link


def link_waiting(session: Session, pairs: Iterable[tuple[int, int]]) -> list[Participant]:
    """Link by the rule, in order of start, the participants of these (client, payer) pairs that
    wait for an authorization: billed to the payer, linked to none, no staff choice.

    A booking made before its authorization (an extension recorded after the series was booked,
    an approval that arrives after the first session) is linked to nothing; editing it later does
    not link it (see `_changed`), so whoever records authorizations (the screen, an extension, the
    import) calls this. Returns those linked; nothing is refused (the bookings were made already),
    `booking_notices` tells what is over. Flushes.
    """
    pairs = set(pairs)
    if not pairs:
        return []
    session.flush()  # the authorizations just recorded, so the rule sees them
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
    linked = []
    for participant, starts_at in waiting:
        if (participant.client_id, participant.payer_id) not in pairs:
            continue  # another client's pair
        candidate = linker.pick(participant.client_id, participant.payer_id, service_date(starts_at))
        if candidate is not None:  # else no authorization covers its date: it keeps waiting
            participant.authorization_id = candidate.id
            linker.take(candidate, participant.attendance)
            linked.append(participant)
    session.flush()
    for participant in linked:
        session.expire(participant, ["authorization"])  # read again from the id just written
    return linked


def release_uncovered(session: Session, authorization: Authorization) -> None:
    """Let go of the participants the rule linked to this authorization on dates it no longer covers
    (its dates were corrected); `link_waiting` then links them again, to another one or to none.
    A staff choice is kept."""
    start = day_start(authorization.valid_from)
    end = day_start(authorization.valid_until + dt.timedelta(days=1))
    outside = select(Appointment.id).where((Appointment.starts_at < start) | (Appointment.starts_at >= end))
    session.execute(
        update(Participant)
        .where(
            Participant.authorization_id == authorization.id,
            Participant.authorization_chosen.is_(False),
            Participant.appointment_id.in_(outside),
        )
        .values(authorization_id=None)
        .execution_options(synchronize_session="fetch")
    )


def _check_choice(session: Session, participant: Participant) -> None:
    authorization = participant.authorization or session.get(Authorization, participant.authorization_id)
    if authorization is None:
        raise NotFound(_l("%(field)s: not found", field=field_label("authorization")), field="authorization")
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
    return lazy_ngettext(
        "Authorization %(payer)s %(reference)s (%(client)s): %(num)d session approved, %(taken)s booked "
        "or used: %(over)s beyond what is approved.",
        "Authorization %(payer)s %(reference)s (%(client)s): %(num)d sessions approved, %(taken)s booked "
        "or used: %(over)s beyond what is approved.",
        approved,
        payer=payer,
        reference=reference,
        client=client,
        taken=taken,
        over=taken - approved,
    )


def uncovered_message(*, payer: str, client: str, days: Sequence[dt.date]):
    return _l(
        "No open authorization from %(payer)s covers %(dates)s for %(client)s.",
        payer=payer,
        client=client,
        dates=", ".join(day.isoformat() for day in sorted(days)),
    )


def refusal_message(*, payer: str):
    return _l("%(payer)s does not accept sessions beyond what it approved: this booking will be refused.", payer=payer)


def booking_notices(
    session: Session, appointments: Iterable[Appointment], *, only: Iterable[Participant] | None = None
) -> list[Notice]:
    """What these saved appointments leave beyond what is approved: one notice per authorization
    that is over, and one per participant billed to a payer that no authorization covers. Two
    queries whatever the number of appointments. `only`: about these participants alone."""
    appointment_ids = {appointment.id for appointment in appointments}
    if not appointment_ids:
        return []
    chosen = None if only is None else {participant.id for participant in only}
    billed = session.execute(
        select(
            Participant.id,
            Participant.authorization_id,
            Appointment.starts_at,
            Client.full_name.label("client"),
            Payer.name.label("payer"),
            Payer.refuses_over_approved,
        )
        .join(Appointment, Appointment.id == Participant.appointment_id)
        .join(Client, Client.id == Participant.client_id)
        .join(Payer, Payer.id == Participant.payer_id)
        .where(
            Participant.appointment_id.in_(appointment_ids),
            Participant.billed_to == BilledTo.PAYER,
            Participant.attendance != Attendance.CANCELLED,
        )
        .order_by(Appointment.starts_at, Participant.id)
    ).all()
    billed = [row for row in billed if chosen is None or row.id in chosen]
    # A participant's authorization is always from its own payer (`_check_choice`).
    refuses = {row.authorization_id: row.refuses_over_approved for row in billed}
    notices = [
        Notice(
            row.id,
            refuses[row.id],
            str(
                beyond_message(
                    payer=row.payer,
                    reference=row.reference,
                    client=row.client,
                    approved=row.approved,
                    taken=row.counts.used + row.counts.scheduled,
                )
            ),
        )
        for row in authorization_rows(session, ids=refuses.keys() - {None})
        if row.remaining < 0
    ]
    # One notice per payer and client that nothing covers, naming the dates (a series past its end).
    uncovered: dict[tuple[str, str], list] = {}
    for row in billed:
        if row.authorization_id is None:
            uncovered.setdefault((row.payer, row.client), []).append(row)
    notices.extend(
        Notice(
            None,
            rows[0].refuses_over_approved,
            str(uncovered_message(payer=payer, client=client, days=[service_date(row.starts_at) for row in rows])),
        )
        for (payer, client), rows in uncovered.items()
    )
    return notices


def refuse_beyond_approved(session: Session, appointment: Appointment, linked: Sequence[Participant]) -> None:
    """After the write (flushed): refuse, for a payer that says so, a booking that took an
    authorization beyond what it approved, or that no authorization covers. The message names the
    date, so the one date of a series that goes over is plain."""
    if not linked:
        return
    refused = [notice for notice in booking_notices(session, [appointment], only=linked) if notice.refused]
    if refused:
        raise RuleViolation(
            _l(
                "This payer does not accept sessions beyond what it approved (session of %(date)s). %(reasons)s",
                date=service_date(appointment.starts_at).isoformat(),
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
    """What booking this client's session on `starts_at`, billed to this payer, does to the
    authorization the rule would pick."""
    day = service_date(starts_at)
    linker = Linker(session, {(client_id, payer_id)})
    candidate = linker.pick(client_id, payer_id, day)
    if candidate is not None:
        linker.take(candidate, None)
    client = session.get(Client, client_id)
    return preview_of(candidate, payer=session.get(Payer, payer_id), client=client.full_name if client else "", day=day)


def preview_of(candidate: Candidate | None, *, payer: Payer | None, client: str, day: dt.date) -> Preview:
    """The preview of a booking on `day` that `candidate` already counts (`Linker.take`; None: no
    authorization covers the day): the sessions left after it, or why it goes beyond, and whether
    the payer will refuse it. A batch (the dates of a series) calls it once per date."""
    refuses = bool(payer and payer.refuses_over_approved)
    if candidate is None:
        text = str(uncovered_message(payer=payer.name if payer else "", client=client, days=[day]))
        if refuses:
            text = f"{text} {refusal_message(payer=payer.name)}"
        return Preview(None, "", 0, 0, None, True, refuses, text)
    after = candidate.remaining
    if after >= 0:
        text = str(
            _l(
                "Authorization %(payer)s %(reference)s: %(left)s of %(approved)s left after this booking "
                "(valid until %(until)s).",
                payer=candidate.payer,
                reference=candidate.reference,
                left=after,
                approved=candidate.approved,
                until=candidate.valid_until.isoformat(),
            )
        )
    else:
        text = str(
            beyond_message(
                payer=candidate.payer,
                reference=candidate.reference,
                client=client,
                approved=candidate.approved,
                taken=candidate.taken,
            )
        )
        if candidate.refuses_over:
            text = f"{text} {refusal_message(payer=candidate.payer)}"
    return Preview(
        candidate.id,
        f"{candidate.payer} {candidate.reference}",
        candidate.approved,
        after,
        candidate.valid_until,
        after < 0,
        after < 0 and candidate.refuses_over,
        text,
    )
