"""The Bad Fit list (DESIGN.md, "Bad Fit"): clients flagged by their own pattern of attendance.

The rule, for each client without an open entry, over their past participations (appointment start
before now) that start after their latest resolution, in order of start:
- a no-show flags (reason `no_show`);
- two consecutive cancellations by the client flag (`two_cancellations`). Cancelled by the client is
  late-cancelled (unless the practice cancelled), or cancelled with the client as canceller;
  consecutive is nothing attended between them. A practice cancellation, or a participation still
  expected, in between neither counts nor breaks the pair: the rule only looks at what attended,
  what did not show and what the client cancelled.

Only the recent past counts: participations that started within the last `BAD_FIT_DAYS` (90 by default).
A practice that imports ten years of history is not handed a list of every no-show since it opened,
and the periodic scan, which runs every quarter of an hour, sees every new pattern well within it.

The entry is for the earliest event that qualifies (the first no-show, or the second cancellation of
the first pair), so it does not depend on how often the scan runs: a scan a week late opens the same
entry, dated the same day, as one that ran every hour. The whole rule is one SQL statement for every
client at once (window functions, on SQLite and PostgreSQL alike).

One open entry per client is a partial unique index; scans are serialised (`locking.serialize`) so
two at once never both try to open it. Resolving (kept, or client deactivated) needs a note; only
participations that start after the resolution can open the next entry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from admin_app.models import (
    Appointment,
    Attendance,
    BadFitEntry,
    BadFitReason,
    BadFitResolution,
    BadFitState,
    CancelledBy,
    Client,
    Participant,
    Therapist,
    User,
)
from admin_app.models.base import utcnow
from admin_app.services.platform import bounds, bulk, clinic_time, documents, locking
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.scheduling.attendance import choice

SCAN_LOCK = 0x62616466  # "badf": one Bad Fit scan at a time, on every machine
STATES = tuple(state.value for state in BadFitState)
LISTING_COLUMNS = (
    "client_national_id",
    "client_number",
    "client",
    "therapist_email",
    "reason",
    "on",
    "state",
)
EXPORT = documents.Export(BadFitEntry.__tablename__)

# What a participation is to the rule; anything else (a practice cancellation, still expected) is left out.
_ATTENDED, _NO_SHOW, _CANCELLED = "attended", "no_show", "cancelled"


@dataclasses.dataclass(frozen=True)
class BadFitRow:
    """One entry as the list shows it: the client, the therapist, why, and where it stands."""

    id: int
    client_id: int
    client: str
    client_number: str
    national_id: str | None
    therapist_name: str
    therapist_email: str
    reason: BadFitReason
    on: dt.date
    notes: str | None
    state: BadFitState
    resolution: BadFitResolution | None
    resolution_note: str | None
    resolved_at: dt.datetime | None
    resolved_by: str | None  # the login's email

    @property
    def resolved_on(self) -> dt.date | None:
        """The clinic day it was resolved."""
        return None if self.resolved_at is None else clinic_time.to_local(self.resolved_at).date()


def cancelled_by_client():
    """Whether a participation was cancelled by the client: late-cancelled (unless the practice
    says it cancelled), or cancelled with the client as canceller."""
    return or_(
        and_(
            Participant.attendance == Attendance.LATE_CANCELLED,
            or_(Participant.cancelled_by.is_(None), Participant.cancelled_by != CancelledBy.PRACTICE),
        ),
        and_(Participant.attendance == Attendance.CANCELLED, Participant.cancelled_by == CancelledBy.CLIENT),
    )


def _flagging_events(now: dt.datetime):
    """The first qualifying event of each client who qualifies: (participant_id, client_id,
    therapist_id, starts_at, reason), in one statement."""
    resolved = (
        select(BadFitEntry.client_id, func.max(BadFitEntry.resolved_at).label("resolved_at"))
        .where(BadFitEntry.state == BadFitState.RESOLVED)
        .group_by(BadFitEntry.client_id)
        .subquery("resolved")
    )
    event = case(
        (Participant.attendance == Attendance.ATTENDED, _ATTENDED),
        (Participant.attendance == Attendance.NO_SHOW, _NO_SHOW),
        else_=_CANCELLED,
    )
    in_order = {"partition_by": Participant.client_id, "order_by": (Appointment.starts_at, Participant.id)}
    events = (
        select(
            Participant.id.label("participant_id"),
            Participant.client_id,
            Appointment.therapist_id,
            Appointment.starts_at,
            event.label("event"),
            func.lag(event).over(**in_order).label("previous"),
        )
        .join(Appointment, Appointment.id == Participant.appointment_id)
        .outerjoin(resolved, resolved.c.client_id == Participant.client_id)
        .where(
            Appointment.starts_at < now,
            Appointment.starts_at >= now - dt.timedelta(days=current_app.config["BAD_FIT_DAYS"]),
            or_(resolved.c.resolved_at.is_(None), Appointment.starts_at > resolved.c.resolved_at),
            ~exists().where(BadFitEntry.client_id == Participant.client_id, BadFitEntry.state == BadFitState.OPEN),
            or_(Participant.attendance.in_((Attendance.ATTENDED, Attendance.NO_SHOW)), cancelled_by_client()),
        )
        .subquery("events")
    )
    qualifying = (
        select(
            events.c.participant_id,
            events.c.client_id,
            events.c.therapist_id,
            events.c.starts_at,
            case(
                (events.c.event == _NO_SHOW, BadFitReason.NO_SHOW.value),
                else_=BadFitReason.TWO_CANCELLATIONS.value,
            ).label("reason"),
            func.row_number()
            .over(partition_by=events.c.client_id, order_by=(events.c.starts_at, events.c.participant_id))
            .label("rank"),
        )
        .where(
            or_(
                events.c.event == _NO_SHOW,
                and_(events.c.event == _CANCELLED, events.c.previous == _CANCELLED),
            )
        )
        .subquery("qualifying")
    )
    return select(
        qualifying.c.participant_id,
        qualifying.c.client_id,
        qualifying.c.therapist_id,
        qualifying.c.starts_at,
        qualifying.c.reason,
    ).where(qualifying.c.rank == 1)


def scan_bad_fit(session: Session, *, now: dt.datetime | None = None) -> list[BadFitEntry]:
    """Open an entry for every client the rule flags now; returns the new entries (the caller commits).

    A few statements whatever the number of clients (the lock, the rule, one bulk insert audited in
    bulk, the new entries read back). Serialised on its own, so it is safe whether or not its caller
    (the admin-task scan) holds a lock of its own.
    """
    locking.serialize(session, SCAN_LOCK)
    zone = clinic_time.clinic_zone()
    rows = [
        {
            "client_id": row.client_id,
            "participant_id": row.participant_id,
            "therapist_id": row.therapist_id,
            "reason": BadFitReason(row.reason),
            "on": clinic_time.to_local(row.starts_at, zone).date(),
        }
        for row in session.execute(_flagging_events(now or utcnow()))
    ]
    ids = bulk.insert_records(session, BadFitEntry, rows, bulk.audit_stamp())
    if not ids:
        return []
    return list(session.scalars(select(BadFitEntry).where(BadFitEntry.id.in_(ids)).order_by(BadFitEntry.id)))


def _entry(session: Session, entry_id: int) -> BadFitEntry:
    """The entry, locked until commit (two people resolving it at once: the second sees it resolved)."""
    entry = session.get(BadFitEntry, entry_id, with_for_update=True, populate_existing=True)
    if entry is None:
        raise NotFound(_l("This Bad Fit entry does not exist (any more)."))
    return entry


def save_notes(session: Session, entry_id: int, notes: str | None) -> BadFitEntry:
    """Staff's notes on an entry, open or resolved; empty clears them."""
    entry = _entry(session, entry_id)
    entry.notes = (notes or "").strip() or None
    bounds.check_record(entry)
    session.flush()
    return entry


def resolve(
    session: Session, entry_id: int, *, resolution: BadFitResolution | str, note: str | None, user
) -> BadFitEntry:
    """Resolve an open entry with a note: the client is kept on, or deactivated in the same
    transaction. Refuses an entry already resolved, a resolution that is not one, an empty note."""
    entry = _entry(session, entry_id)
    if entry.state == BadFitState.RESOLVED:
        raise RuleViolation(
            _l(
                "This Bad Fit entry was already resolved on %(day)s.",
                day=clinic_time.to_local(entry.resolved_at).date().isoformat(),
            )
        )
    chosen = choice(BadFitResolution, resolution, "resolution")
    note = (note or "").strip()
    if not note:
        raise RuleViolation(
            _l("Write a note saying why: a Bad Fit entry is resolved with one."), field="resolution_note"
        )
    # Read before changing anything, so a load's autoflush cannot split the change in two.
    resolver_id, client = (user.id if user is not None else None), entry.client
    entry.state = BadFitState.RESOLVED
    entry.resolution = chosen
    entry.resolution_note = note
    entry.resolved_at = utcnow()
    entry.resolved_by_id = resolver_id
    bounds.check_record(entry)
    if chosen == BadFitResolution.DEACTIVATED:
        client.active = False
    session.flush()
    return entry


def bad_fit_rows(
    session: Session, *, state: BadFitState | str | None = None, limit: int | None = None
) -> list[BadFitRow]:
    """The list (every entry, or those in `state`; the first `limit`): open first, then the latest
    first; one query."""
    resolver = aliased(User)
    query = (
        select(
            BadFitEntry.id,
            BadFitEntry.client_id,
            Client.full_name.label("client"),
            Client.client_number,
            Client.national_id,
            Therapist.full_name.label("therapist_name"),
            Therapist.email.label("therapist_email"),
            BadFitEntry.reason,
            BadFitEntry.on,
            BadFitEntry.notes,
            BadFitEntry.state,
            BadFitEntry.resolution,
            BadFitEntry.resolution_note,
            BadFitEntry.resolved_at,
            resolver.email.label("resolved_by"),
        )
        .join(Client, Client.id == BadFitEntry.client_id)
        .join(Therapist, Therapist.id == BadFitEntry.therapist_id)
        .outerjoin(resolver, resolver.id == BadFitEntry.resolved_by_id)
        .order_by(_open_first(), BadFitEntry.on.desc(), BadFitEntry.id.desc())
    )
    if state is not None:
        query = query.where(BadFitEntry.state == BadFitState(state))
    return [BadFitRow(**row._asdict()) for row in session.execute(query.limit(limit))]


def entries_of_client(session: Session, client_id: int) -> list[BadFitEntry]:
    """A client's entries, open first, then the latest first, with their therapist and resolver."""
    return list(
        session.scalars(
            select(BadFitEntry)
            .options(joinedload(BadFitEntry.therapist), joinedload(BadFitEntry.resolved_by))
            .where(BadFitEntry.client_id == client_id)
            .order_by(_open_first(), BadFitEntry.on.desc(), BadFitEntry.id.desc())
        )
    )


def _open_first():
    return case((BadFitEntry.state == BadFitState.OPEN, 0), else_=1)


def listing(session: Session, state: BadFitState | str | None = None) -> list[dict]:
    """The list as `flask bad-fit list` prints it: ids a spreadsheet can match, plain values."""
    return [
        {
            "client_national_id": row.national_id,
            "client_number": row.client_number,
            "client": row.client,
            "therapist_email": row.therapist_email,
            "reason": row.reason.value,
            "on": row.on.isoformat(),
            "state": row.state.value,
        }
        for row in bad_fit_rows(session, state=state)
    ]


def listing_json(session: Session, state: BadFitState | str | None = None) -> documents.Document:
    text = json.dumps(listing(session, state), ensure_ascii=False, indent=2) + "\n"
    return documents.text_document(session, text, mimetype="application/json", filename=_name("json"), export=EXPORT)


def listing_csv(session: Session, state: BadFitState | str | None = None) -> documents.Document:
    rows = ([entry[column] for column in LISTING_COLUMNS] for entry in listing(session, state))
    return documents.csv_document(session, LISTING_COLUMNS, rows, filename=_name("csv"), export=EXPORT)


def _name(extension: str) -> str:
    return documents.file_name("bad-fit", clinic_time.today().isoformat(), extension=extension)
