"""Writing a planned demo practice: the few records the rest hangs on (sites, payers, therapists,
logins) as ORM objects, and the many (clients and what hangs off them, appointments and
participants) with Core executemany, month by month: the sizes benchmarks use (hundreds of
therapists, ten years) would take minutes as ORM objects and would hold every row in memory. The
audit trail only sees the ORM records; that is fine for a demo.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from flask import current_app
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from admin_app.demo.authorizations import Approval
from admin_app.demo.catalogue import ADMIN_PASSWORD, THERAPIST_PASSWORD, marker_email
from admin_app.demo.plan import Case, Roster, SiteInfo, Staff
from admin_app.demo.practices import DemoPractice
from admin_app.models import (
    CLIENT_NUMBER_SERIES,
    Attendance,
    Authorization,
    BilledTo,
    CareAssignment,
    Client,
    ClientLink,
    Modality,
    Payer,
    PaymentSource,
    Room,
    Site,
    Therapist,
)
from admin_app.models.scheduling import Appointment, Participant
from admin_app.services.accounts import logins
from admin_app.services.billing.linking import Linker
from admin_app.services.platform.clinic_time import from_local
from admin_app.services.platform.documents.numbering import next_numbers
from admin_app.services.scheduling.attendance import appointment_status


def add_sites(session: Session, practice: DemoPractice) -> list[SiteInfo]:
    sites = [
        Site(name=site.name, address=site.address, rooms=[Room(name=room) for room in site.rooms])
        for site in practice.sites
    ]
    session.add_all(sites)
    session.flush()
    return [SiteInfo(site.id, tuple(room.id for room in site.rooms)) for site in sites]


def add_payers(session: Session, practice: DemoPractice) -> list[int]:
    payers = [
        Payer(
            name=payer.name,
            kind=payer.kind,
            billing_email=payer.billing_email,
            billing_address=payer.billing_address,
            provider_number=payer.provider_number,
            payment_terms_days=payer.payment_terms_days,
            invoice_grouping=payer.invoice_grouping,
            invoice_prefix=payer.invoice_prefix,
            counts_missed_sessions=payer.counts_missed_sessions,
            refuses_over_approved=payer.refuses_over_approved,
        )
        for payer in practice.payers
    ]
    session.add_all(payers)
    session.flush()
    return [payer.id for payer in payers]


def add_therapists(session: Session, rows: list[dict], sites: list[SiteInfo]) -> list[Staff]:
    """The planned therapists, as records (the few ORM ones the audit trail sees); a supervisor is
    given by position in `rows`."""
    records = [
        Therapist(**{name: value for name, value in row.items() if name != "supervisor_position"}) for row in rows
    ]
    for record, row in zip(records, rows, strict=True):
        if row.get("supervisor_position") is not None:
            record.supervisor = records[row["supervisor_position"]]
    session.add_all(records)
    session.flush()
    site_by_id = {site.id: site for site in sites}
    return [
        Staff(
            id=record.id,
            site=site_by_id[record.site_id],
            fee=record.default_fee,
            currency=record.default_currency,
            video_link=f"https://meet.example.com/{record.email.split('@')[0].replace('.', '-')}",
        )
        for record in records
    ]


def insert_roster(session: Session, roster: Roster) -> list[int]:
    """Insert the clients (ids returned in roster order), then their links, assignments and sources.

    Client numbers are taken from the practice's series in one step, in roster order (the
    column default would take them one UPDATE per row).
    """
    numbers = next_numbers(session, CLIENT_NUMBER_SERIES, len(roster.clients))
    rows = [{**row, "client_number": str(number)} for row, number in zip(roster.clients, numbers, strict=True)]
    insert_rows(session, Client, rows)
    # Read the ids back by number: RETURNING in parameter order is one statement per row on SQLite.
    id_by_number = dict(session.execute(select(Client.client_number, Client.id)).all())
    client_ids = [id_by_number[row["client_number"]] for row in rows]
    insert_rows(
        session,
        ClientLink,
        [{"client_id": client_ids[a], "related_client_id": client_ids[b], "kind": k} for a, b, k in roster.links],
    )
    insert_rows(
        session,
        CareAssignment,
        [
            {
                "client_id": client_ids[p],
                "therapist_id": t,
                "kind": k,
                "active": ended is None,
                "started_on": started,
                "deactivated_on": ended,
            }
            for p, t, k, started, ended in roster.assignments
        ],
    )
    insert_rows(
        session,
        PaymentSource,
        [
            {"client_id": client_ids[p], "payer_id": payer, "member_number": member, "policy_number": policy}
            for p, payer, member, policy in roster.sources
        ],
    )
    return client_ids


def insert_authorizations(session: Session, approvals: list[Approval], client_ids: list[int]) -> list[int]:
    """Insert the planned authorizations (ids returned in plan order), each approving one session until
    `settle_authorizations` knows how many it takes; they are chained there too, once every id is known."""
    insert_rows(
        session,
        Authorization,
        [
            {
                "payer_id": approval.payer_id,
                "client_id": client_ids[approval.position],
                "reference": approval.reference,
                "approved_sessions": 1,
                "valid_from": approval.valid_from,
                "valid_until": approval.valid_until,
                "rate": approval.rate,
                "currency": approval.currency,
                "therapist_id": approval.therapist_id,
                "extension_requested_at": approval.extension_requested_at,
                "created_at": approval.created_at,
            }
            for approval in approvals
        ],
    )
    id_by_key = {
        (payer_id, reference): id_
        for payer_id, reference, id_ in session.execute(
            select(Authorization.payer_id, Authorization.reference, Authorization.id)
        )
    }
    return [id_by_key[(approval.payer_id, approval.reference)] for approval in approvals]


def settle_authorizations(
    session: Session, approvals: list[Approval], authorization_ids: list[int], linker: Linker
) -> None:
    """Once every session is linked: each approves what it took plus its margin, extends the one
    before it in its chain, and is closed where its story says so (the rule skips closed ones, so
    they are closed only now)."""
    taken = {candidate.id: candidate.taken for pair in linker.candidates.values() for candidate in pair}
    table = Authorization.__table__
    session.execute(
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            approved_sessions=bindparam("approved"),
            extends_id=bindparam("extends"),
            closed_at=bindparam("closed"),
        ),
        [
            {
                "row_id": id_,
                "approved": max(1, taken[id_] + approval.margin),
                "extends": None if approval.extends is None else authorization_ids[approval.extends],
                "closed": approval.closed_at,
            }
            for approval, id_ in zip(approvals, authorization_ids, strict=True)
        ],
    )


def insert_rows(session: Session, model, rows: list[dict]) -> None:
    """One executemany. (Multi-row INSERTs, through RETURNING, measured twice as slow: psycopg parses
    each long statement again.)"""
    if rows:
        session.execute(insert(model.__table__), rows)


def insert_appointments(
    session: Session,
    months: Iterable[list[tuple[Case, dt.date, Attendance]]],
    client_ids: list[int],
    zone,
    linker: Linker,
) -> dict[str, int]:
    """Every meeting, inserted one month at a time to keep memory flat; the counts by outcome.

    The participants billed to a payer are linked to an authorization by the rule, in order of
    start (`linker` holds the authorizations of every referred client and counts each link)."""
    minutes = dt.timedelta(minutes=current_app.config["DEFAULT_APPOINTMENT_MINUTES"])
    tally: Counter[str] = Counter()
    for month in months:
        _insert_month(session, month, client_ids, minutes, zone, linker, tally)
    return {
        "appointments": tally["appointments"],
        "participants": tally["participants"],
        **{f"participants {a.value}": tally[a.value] for a in Attendance},
    }


def _insert_month(
    session: Session,
    meetings: list[tuple[Case, dt.date, Attendance]],
    client_ids: list[int],
    minutes: dt.timedelta,
    zone,
    linker: Linker,
    tally: Counter,
) -> None:
    """Insert a month's appointments, read their ids back, then insert their participants."""
    starts: dict[tuple[dt.date, int], dt.datetime] = {}
    rows = []
    for case, day, attendance in meetings:
        key = (day, case.slot[1])
        if key not in starts:
            starts[key] = from_local(dt.datetime.combine(day, dt.time(case.slot[1])), zone)
        rows.append(
            {
                "therapist_id": case.staff.id,
                "starts_at": starts[key],
                "ends_at": starts[key] + minutes,
                "kind": case.kind,
                "modality": Modality.ON_SITE if case.room_id else Modality.VIRTUAL,
                "room_id": case.room_id,
                "status": appointment_status((attendance,)),
                "video_link": None if case.room_id else case.staff.video_link,
                "created_at": case.booked_at,
            }
        )
    insert_rows(session, Appointment, rows)
    appointment_ids = _appointment_ids(session, rows)
    participants = [
        (
            row["starts_at"],
            day,
            _participant_row(
                appointment_ids[(row["therapist_id"], row["starts_at"])],
                case,
                client_ids[position],
                payer,
                fee,
                attendance,
            ),
        )
        for row, (case, day, attendance) in zip(rows, meetings, strict=True)
        for position, payer, fee in zip(case.members, case.payers, case.fees, strict=True)
    ]
    _link(linker, participants)
    insert_rows(session, Participant, [participant for _start, _day, participant in participants])
    tally["appointments"] += len(rows)
    tally["participants"] += len(participants)
    tally.update(participant["attendance"].value for _start, _day, participant in participants)


def _link(linker: Linker, participants: list[tuple[dt.datetime, dt.date, dict]]) -> None:
    """Link the participants billed to a payer by the rule, in order of start (with their local date)."""
    for _start, day, participant in sorted(participants, key=lambda item: item[0]):
        if participant["payer_id"] is None:
            continue
        candidate = linker.pick(participant["client_id"], participant["payer_id"], day)
        if candidate is not None:
            participant["authorization_id"] = candidate.id
            linker.take(candidate, participant["attendance"])


def _appointment_ids(session: Session, rows: list[dict]) -> dict[tuple[int, dt.datetime], int]:
    """The ids of a month's new appointments, by therapist and start (unique: nobody is double-booked).

    Reading them back is one query; RETURNING in parameter order is one statement per row on SQLite.
    """
    starts = [row["starts_at"] for row in rows]
    found = session.execute(
        select(Appointment.therapist_id, Appointment.starts_at, Appointment.id).where(
            Appointment.starts_at.between(min(starts), max(starts))
        )
    )
    return {(therapist_id, starts_at): id_ for therapist_id, starts_at, id_ in found}


def _participant_row(
    appointment_id: int, case: Case, client_id: int, payer_id: int | None, fee: Decimal, attendance: Attendance
) -> dict:
    return {
        "appointment_id": appointment_id,
        "client_id": client_id,
        "attendance": attendance,
        "fee": fee,
        "currency": case.staff.currency,
        "billed_to": BilledTo.PAYER if payer_id else BilledTo.CLIENT,
        "payer_id": payer_id,
        "authorization_id": None,
    }


def add_logins(session: Session, practice: DemoPractice) -> None:
    logins.create_admin(session, email=practice.admin_email, password=ADMIN_PASSWORD, locale=practice.locale)
    logins.create_therapist_login(
        session, therapist_email=marker_email(practice), password=THERAPIST_PASSWORD, locale=practice.locale
    )
