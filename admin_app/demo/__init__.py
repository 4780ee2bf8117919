"""The demo practices: deterministic, realistic practices to try the back office on, shared with
the benchmarks.

One generator, two practices (`practices` holds what differs: names and languages, national IDs
or none, phones, sites and rooms, payers, prices, compensation, caseloads, hours).
`flask seed-demo --practice lima|vancouver` loads one into an empty database: sites with rooms,
payers, therapists on both compensation models, their clients (minors with a guardian, couples,
families, referred and self-paying clients, each with a client number) and months of weekly or
fortnightly appointments with realistic attendance. A fixed random seed means the same inputs
(practice, size and "today") always give the same data, so demos, screenshots and benchmarks
repeat.

Modules: `catalogue` (the fixed data: seed, logins, outcomes), `plan` (what to create, drawn
without the database), `authorizations` (what the payers approved, drawn from a generator of its
own), `insert` (the bulk insert, linking referred sessions to authorizations by the rule),
`invoices` (the past months invoiced through the billing services), `payments` (what was paid),
`payouts` (the therapists' payout statements of the last months), `tasks` (the admin home's tasks and Bad Fit
entries); `load_demo_practice` here runs them.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from admin_app.demo.activity import load_activity
from admin_app.demo.authorizations import AUTHORIZATION_SEED, plan_authorizations
from admin_app.demo.catalogue import (
    ADMIN_PASSWORD,
    SEED,
    THERAPIST_PASSWORD,
    DemoLogin,
    demo_logins,
    marker_email,
    max_therapists,
)
from admin_app.demo.credentials import CREDENTIALS_SEED, with_credentials
from admin_app.demo.insert import (
    add_logins,
    add_payers,
    add_sites,
    add_therapists,
    insert_appointments,
    insert_authorizations,
    insert_roster,
    settle_authorizations,
)
from admin_app.demo.invoices import load_invoices
from admin_app.demo.payments import load_payments
from admin_app.demo.payouts import load_payouts
from admin_app.demo.plan import Period, meetings, plan_clients, plan_therapists
from admin_app.demo.portal import load_clinical_notes
from admin_app.demo.practices import LIMA, LIMA_TURNOVER, PRACTICES, DemoPractice
from admin_app.demo.rooms import load_reservations
from admin_app.demo.tasks import load_tasks
from admin_app.models import Client, Site, Therapist, User
from admin_app.services.billing.linking import Linker
from admin_app.services.people import compensation
from admin_app.services.platform import clinic_time
from admin_app.services.platform.clinic_time import clinic_zone
from admin_app.services.platform.errors import RuleViolation

__all__ = [
    "ADMIN_PASSWORD",
    "LIMA",
    "LIMA_TURNOVER",
    "PRACTICES",
    "THERAPIST_PASSWORD",
    "DemoLogin",
    "DemoOutcome",
    "DemoPractice",
    "DemoSummary",
    "load_demo_practice",
    "marker_email",
]


class DemoOutcome(enum.StrEnum):
    LOADED = "loaded"
    ALREADY_LOADED = "already_loaded"
    NOT_EMPTY = "not_empty"  # another practice's records are there: the demo never mixes in


@dataclass(frozen=True)
class DemoSummary:
    outcome: DemoOutcome
    logins: tuple[DemoLogin, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    first_day: dt.date | None = None
    last_day: dt.date | None = None


def load_demo_practice(
    session: Session,
    *,
    practice: DemoPractice = LIMA,
    therapists: int | None = None,
    months: int,
    today: dt.date | None = None,
    invoices: bool = True,
    activity: bool = False,
) -> DemoSummary:
    """Load a demo practice (default: its own number of therapists) into an empty database; the caller commits.

    `invoices=False` leaves every charge uninvoiced, unpaid and not paid out (the benchmarks time the
    invoice run on them).
    `activity=True` adds what years of use leave (reminders, monthly surveys and their answers, the
    audit trail of bookings and attendance: `activity`), as the benchmarks want.

    Nothing is written when this demo is already there (so `make run` can seed every time) or
    when the database holds another practice's records.
    """
    therapists = practice.therapists if therapists is None else therapists
    limit = max_therapists(practice)
    if not 1 <= therapists <= limit:
        raise RuleViolation(_l("therapists: choose between 1 and %(max)s", max=limit), field="therapists")
    if months < 1:
        raise RuleViolation(_l("months: at least one month is required"), field="months")
    if _demo_present(session, practice):
        return DemoSummary(DemoOutcome.ALREADY_LOADED, demo_logins(practice))
    if _practice_present(session, practice):
        return DemoSummary(DemoOutcome.NOT_EMPTY)
    _check_currencies(practice)
    zone = clinic_zone()
    period = Period.ending(today or clinic_time.today(zone), months)
    rng = random.Random(SEED)
    sites = add_sites(session, practice)
    payer_ids = add_payers(session, practice)
    planned = plan_therapists(rng, practice, therapists, sites)
    credentials = with_credentials(random.Random(CREDENTIALS_SEED), practice.credentials, planned)
    staff = add_therapists(session, credentials, sites)
    therapists_with_terms = select(Therapist).options(selectinload(Therapist.compensation_terms))
    compensation.start_terms(session, session.scalars(therapists_with_terms), since=period.first_day)
    roster = plan_clients(rng, practice, staff, payer_ids, period, zone)
    client_ids = insert_roster(session, roster)
    approvals = plan_authorizations(random.Random(AUTHORIZATION_SEED), practice, roster.cases, payer_ids, period, zone)
    authorization_ids = insert_authorizations(session, approvals, client_ids)
    linker = Linker(session, {(client_ids[approval.position], approval.payer_id) for approval in approvals})
    booked = insert_appointments(session, meetings(rng, roster.cases, period), client_ids, zone, linker)
    settle_authorizations(session, approvals, authorization_ids, linker)
    add_logins(session, practice)
    used = load_activity(session, period, zone, actor=practice.admin_email) if activity else {}
    invoiced = load_invoices(session, practice, today=period.today) if invoices else {}
    paid = load_payments(session, practice, today=period.today) if invoices else {}
    paid_out = load_payouts(session, practice, today=period.today) if invoices else {}
    # Reservations before the tasks: the scan asks to release part of the least used ones.
    reserved = load_reservations(
        session, first_day=period.first_day, today=period.today, idle_holder_email=marker_email(practice)
    )
    worked = load_tasks(session, practice, today=period.today) if invoices else {}
    noted = load_clinical_notes(session, practice, today=period.today)
    counts = {
        "sites": len(sites),
        "rooms": sum(len(site.room_ids) for site in sites),
        "payers": len(payer_ids),
        "therapists": len(staff),
        "clients": len(client_ids),
        "client links": len(roster.links),
        "care assignments": len(roster.assignments),
        "payment sources": len(roster.sources),
        "authorizations": len(approvals),
        **booked,
        **invoiced,
        **paid,
        **paid_out,
        **worked,
        "clinical notes": noted,
        **used,
        **reserved,
    }
    return DemoSummary(DemoOutcome.LOADED, demo_logins(practice), counts, period.first_day, period.last_day)


def _demo_present(session: Session, practice: DemoPractice) -> bool:
    return bool(
        session.scalar(select(exists().where(User.email == practice.admin_email)))
        or session.scalar(select(exists().where(Therapist.email == marker_email(practice))))
    )


def _practice_present(session: Session, practice: DemoPractice) -> bool:
    return bool(
        session.scalar(select(exists(select(Therapist.id))))
        or session.scalar(select(exists(select(Client.id))))
        or session.scalar(select(exists().where(Site.name.in_([site.name for site in practice.sites]))))
    )


def _check_currencies(practice: DemoPractice) -> None:
    """A demo prices sessions in its own currencies; a practice without them could not edit it."""
    missing = [code for code in practice.currencies if code not in current_app.config["CURRENCIES"]]
    if missing:
        raise RuleViolation(
            _l(
                "The %(practice)s demo practice needs the currencies %(codes)s in CURRENCIES.",
                practice=practice.label,
                codes=", ".join(missing),
            ),
            field="practice",
        )
