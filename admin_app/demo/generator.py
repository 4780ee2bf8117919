"""The demo practices: deterministic, realistic practices to try the back office on.

One generator, two practices (demo/practices.py holds what differs: names and
languages, national IDs or none, phones, sites and rooms, payers, prices, compensation,
caseloads, hours). `flask seed-demo --practice lima|vancouver` loads one into an empty database:
sites with rooms, payers, therapists on both compensation models, their clients (minors with a
guardian, couples, families, referred and self-paying clients, each with a client number) and
months of weekly or fortnightly appointments with realistic attendance. A fixed random seed means
the same inputs (practice, size and "today") always give the same data, so demos, screenshots and
benchmarks repeat.

Appointments and participants are bulk-inserted month by month with Core executemany: the
sizes benchmarks use (hundreds of therapists, ten years) would take minutes as ORM objects and
would hold every row in memory. The audit trail only sees the few ORM records; that is fine for
a demo.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import random
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from admin_app.demo.practices import LIMA, Caseload, DemoPractice, Pricing
from admin_app.models import (
    CLIENT_NUMBER_SERIES,
    AppointmentKind,
    AppointmentStatus,
    AssignmentKind,
    Attendance,
    BilledTo,
    CareAssignment,
    Client,
    ClientLink,
    CompensationModel,
    LinkKind,
    Modality,
    Payer,
    PaymentSource,
    ReminderPreference,
    Room,
    Site,
    Therapist,
    User,
)
from admin_app.models.scheduling import Appointment, Participant
from admin_app.services.accounts import logins
from admin_app.services.people import compensation
from admin_app.services.platform import clinic_time
from admin_app.services.platform.clinic_time import clinic_zone, from_local
from admin_app.services.platform.documents.numbering import next_numbers
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.money import shared_fees
from admin_app.services.scheduling import appointments as scheduling

SEED = 2026
ADMIN_PASSWORD = "demo-admin-2026"
THERAPIST_PASSWORD = "demo-therapist-2026"
FUTURE_WEEKS = 3
AFTER_SCHOOL_HOUR = 15
SATURDAY = 5
# Cumulative shares of past appointments by outcome; the rest were attended.
PAST_OUTCOMES = (
    (0.07, Attendance.CANCELLED),
    (0.10, Attendance.LATE_CANCELLED),
    (0.14, Attendance.NO_SHOW),
)


class DemoOutcome(enum.StrEnum):
    LOADED = "loaded"
    ALREADY_LOADED = "already_loaded"
    NOT_EMPTY = "not_empty"  # another practice's records are there: the demo never mixes in


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


@dataclass(frozen=True)
class DemoSummary:
    outcome: DemoOutcome
    logins: tuple[DemoLogin, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    first_day: dt.date | None = None
    last_day: dt.date | None = None


def _slug(text: str) -> str:
    """ASCII lower-case without spaces, for email local parts ("Ángel" -> "angel")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def _therapist_email(practice: DemoPractice, first: str, paternal: str) -> str:
    return f"{_slug(first)}.{_slug(paternal)}@{practice.email_domain}"


def marker_email(practice: DemoPractice) -> str:
    """The first therapist's email: there when the demo is, whatever its size."""
    return _therapist_email(practice, *practice.first_therapist[:2])


def demo_logins(practice: DemoPractice) -> tuple[DemoLogin, ...]:
    return (
        DemoLogin("admin", practice.admin_email, ADMIN_PASSWORD),
        DemoLogin("therapist", marker_email(practice), THERAPIST_PASSWORD),
    )


def max_therapists(practice: DemoPractice) -> int:
    """Therapists have distinct (first name, surname) pairs, so that their emails are unique."""
    return sum(len(pool.first_names) * len(pool.surnames) for pool in practice.therapist_names)


@dataclass(frozen=True)
class _Period:
    """The months the appointments cover: M calendar months up to today's, plus three weeks."""

    first_day: dt.date
    last_day: dt.date
    today: dt.date

    @classmethod
    def ending(cls, today: dt.date, months: int) -> _Period:
        index = today.year * 12 + today.month - 1 - (months - 1)
        first_day = dt.date(index // 12, index % 12 + 1, 1)
        return cls(first_day, today + dt.timedelta(weeks=FUTURE_WEEKS), today)

    @property
    def epoch(self) -> dt.date:
        """The Monday fortnightly cases count their weeks from."""
        return self.first_day - dt.timedelta(days=self.first_day.weekday())

    def months(self) -> Iterator[list[dt.date]]:
        """The days of the period, one calendar month at a time (the unit of a bulk insert)."""
        day = self.first_day
        while day <= self.last_day:
            month_days = []
            month = day.month
            while day <= self.last_day and day.month == month:
                month_days.append(day)
                day += dt.timedelta(days=1)
            yield month_days


@dataclass(frozen=True)
class _SiteInfo:
    id: int
    room_ids: tuple[int, ...]


@dataclass(frozen=True)
class _Staff:
    id: int
    site: _SiteInfo
    fee: Decimal
    currency: str
    video_link: str


_Slot = tuple[int, int]  # (weekday, local hour), every week
HOUSEHOLD_KINDS = {
    "adult": AppointmentKind.INDIVIDUAL,
    "minor": AppointmentKind.INDIVIDUAL,
    "couple": AppointmentKind.COUPLE,
    "family": AppointmentKind.FAMILY,
}


@dataclass(frozen=True)
class _Case:
    """A course of therapy: who meets the therapist, when, where, and who pays."""

    staff: _Staff
    members: tuple[int, ...]  # positions in the roster until the client ids are known
    payers: tuple[int | None, ...]
    kind: AppointmentKind
    slot: _Slot
    every_weeks: int
    parity: int
    room_id: int | None
    starts_on: dt.date
    ends_on: dt.date | None  # first day without meetings
    booked_at: dt.datetime

    @property
    def fees(self) -> list[Decimal]:
        """Each member's share of the therapist's fee: a couple's partners share one fee."""
        return shared_fees(self.staff.fee, self.staff.currency, len(self.members))

    def meets_on(self, day: dt.date, epoch: dt.date) -> bool:
        in_course = self.starts_on <= day and (self.ends_on is None or day < self.ends_on)
        return in_course and ((day - epoch).days // 7) % self.every_weeks == self.parity


class _SlotBook:
    """Hands out weekly slots so that no therapist and no room is ever booked twice at once.

    A fortnightly case keeps its slot (and room) every week: a little capacity is lost, but the
    check stays trivial. Each client belongs to exactly one case, so clients cannot clash either.
    When every room is taken at the therapist's free times, the case is seen virtually.
    """

    def __init__(self, hours: list[int], weekdays: tuple[int, ...]) -> None:
        self._hours = hours
        self._weekdays = weekdays
        self._free: dict[int, list[_Slot]] = {}
        self._rooms_taken: dict[tuple[int, _Slot], set[int]] = defaultdict(set)

    def book(
        self, rng: random.Random, staff: _Staff, *, wants_room: bool, after_school: bool
    ) -> tuple[_Slot, int | None]:
        free = self._free.setdefault(staff.id, [(day, hour) for day in self._weekdays for hour in self._hours])
        candidates = [s for s in free if not after_school or s[1] >= AFTER_SCHOOL_HOUR or s[0] >= SATURDAY] or free
        if wants_room and (with_room := [s for s in candidates if self._free_room(staff.site, s)]):
            slot = rng.choice(with_room)
            room_id = self._free_room(staff.site, slot)
            self._rooms_taken[(staff.site.id, slot)].add(room_id)
        else:
            slot, room_id = rng.choice(candidates), None
        free.remove(slot)
        return slot, room_id

    def _free_room(self, site: _SiteInfo, slot: _Slot) -> int | None:
        taken = self._rooms_taken[(site.id, slot)]
        return next((room for room in site.room_ids if room not in taken), None)


@dataclass
class _Roster:
    """Client rows and what hangs off them, by roster position until the ids are known."""

    practice: DemoPractice
    clients: list[dict] = field(default_factory=list)
    links: list[tuple[int, int, LinkKind]] = field(default_factory=list)
    assignments: list[tuple[int, int, AssignmentKind, dt.date, dt.date | None]] = field(default_factory=list)
    sources: list[tuple[int, int, str, str | None]] = field(default_factory=list)
    cases: list[_Case] = field(default_factory=list)
    national_ids: set[str] = field(default_factory=set)

    def add(self, row: dict) -> int:
        self.clients.append(row)
        return len(self.clients) - 1


def load_demo_practice(
    session: Session,
    *,
    practice: DemoPractice = LIMA,
    therapists: int | None = None,
    months: int,
    today: dt.date | None = None,
) -> DemoSummary:
    """Load a demo practice (default: its own number of therapists) into an empty database; the caller commits.

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
    period = _Period.ending(today or clinic_time.today(zone), months)
    rng = random.Random(SEED)
    sites = _add_sites(session, practice)
    payer_ids = _add_payers(session, practice)
    staff = _add_therapists(session, rng, practice, therapists, sites)
    compensation.start_terms(session, session.scalars(select(Therapist)), since=period.first_day)
    roster = _plan_clients(rng, practice, staff, payer_ids, period, zone)
    client_ids = _insert_roster(session, roster)
    booked = _insert_appointments(session, rng, roster.cases, client_ids, period, zone)
    _add_logins(session, practice)
    counts = {
        "sites": len(sites),
        "rooms": sum(len(site.room_ids) for site in sites),
        "payers": len(payer_ids),
        "therapists": len(staff),
        "clients": len(client_ids),
        "client links": len(roster.links),
        "care assignments": len(roster.assignments),
        "payment sources": len(roster.sources),
        **booked,
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


def _add_sites(session: Session, practice: DemoPractice) -> list[_SiteInfo]:
    sites = [
        Site(name=site.name, address=site.address, rooms=[Room(name=room) for room in site.rooms])
        for site in practice.sites
    ]
    session.add_all(sites)
    session.flush()
    return [_SiteInfo(site.id, tuple(room.id for room in site.rooms)) for site in sites]


def _add_payers(session: Session, practice: DemoPractice) -> list[int]:
    payers = [Payer(name=payer.name, kind=payer.kind, billing_email=payer.billing_email) for payer in practice.payers]
    session.add_all(payers)
    session.flush()
    return [payer.id for payer in payers]


def _therapist_names(rng: random.Random, practice: DemoPractice, count: int) -> list[tuple[str, str, str | None]]:
    """The fixed first therapist, then distinct (first name, surname) pairs so emails are unique."""
    first_therapist = practice.first_therapist
    pairs = [
        (f, s, pool)
        for pool in practice.therapist_names
        for f in pool.first_names
        for s in pool.surnames
        if (f, s) != first_therapist[:2]
    ]
    drawn = rng.sample(pairs, count - 1)
    return [
        first_therapist,
        *(
            (f, s, rng.choice([m for m in pool.surnames if m != s]) if pool.second_surname else None)
            for f, s, pool in drawn
        ),
    ]


def _full_name(*parts: str | None) -> str:
    return " ".join(part for part in parts if part)


def _add_therapists(
    session: Session, rng: random.Random, practice: DemoPractice, count: int, sites: list[_SiteInfo]
) -> list[_Staff]:
    """Compensation and prices follow the practice's cycles by position; sites take turns."""
    records = []
    low, high = practice.commission_percent
    for index, (first, paternal, maternal) in enumerate(_therapist_names(rng, practice, count)):
        pricing = practice.pricing[index % len(practice.pricing)]
        model = practice.compensation[index % len(practice.compensation)]
        on_commission = model == CompensationModel.COMMISSION
        records.append(
            Therapist(
                full_name=_full_name(first, paternal, maternal),
                email=_therapist_email(practice, first, paternal),
                phone=_mobile(rng, practice),
                compensation_model=model,
                commission_percent=Decimal(rng.randint(low, high)) if on_commission else None,
                service_fee=None if on_commission else _amount(rng, pricing, pricing.service_fee),
                default_fee=_amount(rng, pricing, pricing.fee),
                default_currency=pricing.currency,
                site_id=sites[index % len(sites)].id,
            )
        )
    session.add_all(records)
    session.flush()
    site_by_id = {site.id: site for site in sites}
    return [
        _Staff(
            id=record.id,
            site=site_by_id[record.site_id],
            fee=record.default_fee,
            currency=record.default_currency,
            video_link=f"https://meet.example.com/{record.email.split('@')[0].replace('.', '-')}",
        )
        for record in records
    ]


def _amount(rng: random.Random, pricing: Pricing, bounds: tuple[int, int]) -> Decimal:
    """A round price: a multiple of the currency's step."""
    low, high = bounds
    return Decimal(rng.randrange(low, high + 1, pricing.step))


def _mobile(rng: random.Random, practice: DemoPractice) -> str:
    """A mobile number in E.164 (in Lima nine digits starting with 9; in Vancouver a 604, 778 or 236 number)."""
    plan = practice.phones
    # One prefix draws nothing: choice() of one would still consume the generator and move Lima's data.
    prefix = rng.choice(plan.prefixes) if len(plan.prefixes) > 1 else plan.prefixes[0]
    return f"{prefix}{rng.randrange(*plan.subscriber):0{plan.width}d}"


def _birth_date(rng: random.Random, today: dt.date, youngest: int, oldest: int) -> dt.date:
    """A birth date for an age in [youngest, oldest]; days are kept clear of leap-year edges."""
    return today - dt.timedelta(days=rng.randint(youngest * 366, (oldest + 1) * 365 - 3))


def _national_id(rng: random.Random, roster: _Roster) -> str | None:
    """An unused national ID (in Lima an 8-digit DNI), or none where the practice has none."""
    if roster.practice.national_ids is None:
        return None
    while (number := str(rng.randrange(*roster.practice.national_ids))) in roster.national_ids:
        pass
    roster.national_ids.add(number)
    return number


def _drawn_by_share(rng: random.Random, shares: list[float]) -> int:
    """The index an rng draw falls on when the shares (adding up to 1) are laid end to end."""
    draw = rng.random()
    return next((i for i, edge in enumerate(accumulate(shares)) if draw < edge), len(shares) - 1)


def _person(rng: random.Random, roster: _Roster, today: dt.date, *, youngest: int, oldest: int) -> dict:
    """An adult with contact data in the practice's mix of languages, reminders following what they gave."""
    pools = roster.practice.client_names
    pool = pools[_drawn_by_share(rng, [pool.share for pool in pools])]
    first = rng.choice(pool.first_names)
    paternal = rng.choice(pool.surnames)
    maternal = rng.choice(pool.surnames) if pool.second_surname else None
    national_id = _national_id(rng, roster)
    # A few digits keep namesakes' addresses apart: the DNI's last four, or four drawn.
    tag = national_id[-4:] if national_id else f"{rng.randrange(10**4):04d}"
    domain = roster.practice.email_domain
    email = f"{_slug(first)}.{_slug(paternal)}{tag}@{domain}" if rng.random() < 0.85 else None
    phone = _mobile(rng, roster.practice) if rng.random() < 0.9 or email is None else None
    return {
        "full_name": _full_name(first, paternal, maternal),
        "national_id": national_id,
        "email": email,
        "phone": phone,
        "birth_date": _birth_date(rng, today, youngest, oldest),
        "preferred_language": pool.language,
        "reminder_preference": _reminders(rng, email, phone),
        "survey_opt_out": rng.random() < 0.05,
    }


def _reminders(rng: random.Random, email: str | None, phone: str | None) -> ReminderPreference:
    if email and phone:
        return rng.choices(
            [ReminderPreference.EMAIL, ReminderPreference.SMS, ReminderPreference.BOTH], weights=[5, 2, 3]
        )[0]
    return ReminderPreference.EMAIL if email else ReminderPreference.SMS


def _minor(rng: random.Random, roster: _Roster, today: dt.date, parent: dict) -> dict:
    """A child or teenager with the parent's surname and language, and no contact data of their own."""
    pool = next(pool for pool in roster.practice.client_names if pool.language == parent["preferred_language"])
    names = pool.children or pool
    first = rng.choice(names.first_names)
    second = rng.choice(names.surnames) if names.second_surname else None
    return {
        "full_name": _full_name(first, parent["full_name"].split()[1], second),
        "national_id": _national_id(rng, roster),
        "email": None,
        "phone": None,
        "birth_date": _birth_date(rng, today, 6, 17),
        "preferred_language": parent["preferred_language"],
        "reminder_preference": ReminderPreference.NONE,
        "survey_opt_out": False,
    }


def _plan_clients(
    rng: random.Random, practice: DemoPractice, staff: list[_Staff], payer_ids: list[int], period: _Period, zone
) -> _Roster:
    """Each therapist's caseload as the practice sets it: adults, minors with a guardian, couples, families.

    Every case runs from the start of the period, so even February is full. Some adults finish
    and hand their slot to a new client, so months have new clients without the caseload shrinking.
    """
    roster = _Roster(practice)
    load = practice.caseload
    minutes = current_app.config["DEFAULT_APPOINTMENT_MINUTES"]
    step = math.ceil(minutes / 60)
    opens, closes = practice.open_hours
    hours = [h for h in range(opens, closes, step) if h * 60 + minutes <= closes * 60]
    book = _SlotBook(hours, practice.working_weekdays)
    for index, therapist in enumerate(staff):
        kinds = (
            ["adult"] * rng.randint(*load.adults)
            + ["minor"] * load.minors[index % len(load.minors)]
            + ["couple"] * load.couples[index % len(load.couples)]
            + ["family"] * load.families[index % len(load.families)]
        )
        rng.shuffle(kinds)
        for kind in kinds:
            household = _plan_household(rng, roster, kind, period.today)
            slot, room_id = book.book(
                rng, therapist, wants_room=rng.random() < load.on_site_share, after_school=kind in ("minor", "family")
            )
            ends_on = _hand_over_day(rng, load, period) if kind == "adult" else None
            case = _plan_case(
                rng, roster, therapist, household, payer_ids, zone, slot, room_id, period.first_day, ends_on
            )
            if ends_on is not None:
                successor = _plan_household(rng, roster, kind, period.today)
                starts_on = ends_on + dt.timedelta(weeks=1)
                _plan_case(rng, roster, therapist, successor, payer_ids, zone, case.slot, case.room_id, starts_on, None)
    return roster


def _hand_over_day(rng: random.Random, load: Caseload, period: _Period) -> dt.date | None:
    """For some adult cases, the day it ends: at least four weeks in, three weeks ago at the latest.

    The successor then starts a week later, still in the past, so nobody is registered in the future.
    """
    earliest = period.first_day + dt.timedelta(weeks=4)
    latest = period.today - dt.timedelta(weeks=3)
    if rng.random() >= load.hand_over_share or earliest >= latest:
        return None
    return earliest + dt.timedelta(days=rng.randrange((latest - earliest).days))


@dataclass(frozen=True)
class _Household:
    kind: str
    members: tuple[int, ...]  # in therapy
    guardian: int | None = None  # seen only within the child's case


def _plan_household(rng: random.Random, roster: _Roster, kind: str, today: dt.date) -> _Household:
    """Add the clients of one household: an adult, a couple, or a minor and their guardian (a family
    meets the therapist together; otherwise the guardian is seen within the child's case)."""
    if kind in ("minor", "family"):
        parent = _person(rng, roster, today, youngest=30, oldest=55)
        guardian = roster.add(parent)
        child = roster.add(_minor(rng, roster, today, parent))
        roster.links.append((guardian, child, LinkKind.GUARDIAN_OF))
        if kind == "family":
            return _Household(kind, (guardian, child))
        return _Household(kind, (child,), guardian)
    if kind == "couple":
        first = roster.add(_person(rng, roster, today, youngest=25, oldest=65))
        second = roster.add(_person(rng, roster, today, youngest=25, oldest=65))
        roster.links.append((first, second, LinkKind.PARTNER_OF))
        return _Household(kind, (first, second))
    return _Household(kind, (roster.add(_person(rng, roster, today, youngest=19, oldest=70)),))


def _plan_case(
    rng: random.Random,
    roster: _Roster,
    therapist: _Staff,
    household: _Household,
    payer_ids: list[int],
    zone,
    slot: _Slot,
    room_id: int | None,
    starts_on: dt.date,
    ends_on: dt.date | None,
) -> _Case:
    """Assign the household's clients to the therapist in a booked slot and decide who pays."""
    booked_on = starts_on - dt.timedelta(days=rng.randint(1, 10))
    booked_at = from_local(dt.datetime.combine(booked_on, dt.time(10, rng.randrange(60))), zone)
    assigned = [(position, AssignmentKind.DIRECT) for position in household.members]
    if household.guardian is not None:
        assigned.append((household.guardian, AssignmentKind.INDIRECT))
    for position, kind in assigned:
        roster.clients[position]["registered_at"] = booked_at
        roster.assignments.append((position, therapist.id, kind, starts_on, ends_on))
    every_weeks = 1 if rng.random() < roster.practice.caseload.weekly_share else 2
    case = _Case(
        staff=therapist,
        members=household.members,
        payers=tuple(_plan_payment(rng, roster, position, payer_ids) for position in household.members),
        kind=HOUSEHOLD_KINDS[household.kind],
        slot=slot,
        every_weeks=every_weeks,
        parity=rng.randrange(every_weeks),
        room_id=room_id,
        starts_on=starts_on,
        ends_on=ends_on,
        booked_at=booked_at,
    )
    roster.cases.append(case)
    return case


def _plan_payment(rng: random.Random, roster: _Roster, position: int, payer_ids: list[int]) -> int | None:
    """The practice's share of clients are referred by a payer (drawn by its share); the rest pay themselves."""
    practice = roster.practice
    if rng.random() >= practice.referred_share:
        return None
    index = _drawn_by_share(rng, [payer.share for payer in practice.payers])
    payer = practice.payers[index]
    policy = f"{payer.policy_prefix}-{rng.randrange(10**5, 10**6)}" if payer.policy_prefix else None
    roster.sources.append((position, payer_ids[index], f"{payer.member_prefix}-{rng.randrange(10**7, 10**8)}", policy))
    return payer_ids[index]


def _insert_roster(session: Session, roster: _Roster) -> list[int]:
    """Insert the clients (ids returned in roster order), then their links, assignments and sources.

    Client numbers are taken from the practice's series in one step, in roster order (the
    column default would take them one UPDATE per row).
    """
    numbers = next_numbers(session, CLIENT_NUMBER_SERIES, len(roster.clients))
    rows = [{**row, "client_number": str(number)} for row, number in zip(roster.clients, numbers, strict=True)]
    _insert(session, Client, rows)
    # Read the ids back by number: RETURNING in parameter order is one statement per row on SQLite.
    id_by_number = dict(session.execute(select(Client.client_number, Client.id)).all())
    client_ids = [id_by_number[row["client_number"]] for row in rows]
    _insert(
        session,
        ClientLink,
        [{"client_id": client_ids[a], "related_client_id": client_ids[b], "kind": k} for a, b, k in roster.links],
    )
    _insert(
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
    _insert(
        session,
        PaymentSource,
        [
            {"client_id": client_ids[p], "payer_id": payer, "member_number": member, "policy_number": policy}
            for p, payer, member, policy in roster.sources
        ],
    )
    return client_ids


def _insert(session: Session, model, rows: list[dict]) -> None:
    if rows:
        session.execute(insert(model.__table__), rows)


def _insert_appointments(
    session: Session, rng: random.Random, cases: list[_Case], client_ids: list[int], period: _Period, zone
) -> dict[str, int]:
    """Every meeting of every case, inserted one month at a time to keep memory flat."""
    by_weekday: dict[int, list[_Case]] = defaultdict(list)
    for case in cases:
        by_weekday[case.slot[0]].append(case)
    minutes = dt.timedelta(minutes=current_app.config["DEFAULT_APPOINTMENT_MINUTES"])
    tally: Counter[str] = Counter()
    for days in period.months():
        meetings = [
            (case, day, _attendance(rng, day, period.today))
            for day in days
            for case in by_weekday[day.weekday()]
            if case.meets_on(day, period.epoch)
        ]
        if meetings:
            _insert_month(session, meetings, client_ids, minutes, zone, tally)
    return {
        "appointments": tally["appointments"],
        "participants": tally["participants"],
        **{f"participants {a.value}": tally[a.value] for a in Attendance},
    }


def _attendance(rng: random.Random, day: dt.date, today: dt.date) -> Attendance:
    """Past days get a realistic outcome; today and later are still expected."""
    if day >= today:
        return Attendance.EXPECTED
    draw = rng.random()
    return next((outcome for share, outcome in PAST_OUTCOMES if draw < share), Attendance.ATTENDED)


def _status(attendance: Attendance) -> AppointmentStatus:
    """The appointment's status for one outcome shared by every participant."""
    return scheduling.appointment_status((attendance,))


def _insert_month(
    session: Session,
    meetings: list[tuple[_Case, dt.date, Attendance]],
    client_ids: list[int],
    minutes: dt.timedelta,
    zone,
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
                "status": _status(attendance),
                "video_link": None if case.room_id else case.staff.video_link,
                "created_at": case.booked_at,
            }
        )
    _insert(session, Appointment, rows)
    appointment_ids = _appointment_ids(session, rows)
    participants = [
        _participant_row(
            appointment_ids[(row["therapist_id"], row["starts_at"])], case, client_ids[position], payer, fee, attendance
        )
        for row, (case, _day, attendance) in zip(rows, meetings, strict=True)
        for position, payer, fee in zip(case.members, case.payers, case.fees, strict=True)
    ]
    _insert(session, Participant, participants)
    tally["appointments"] += len(rows)
    tally["participants"] += len(participants)
    tally.update(row["attendance"].value for row in participants)


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
    appointment_id: int, case: _Case, client_id: int, payer_id: int | None, fee: Decimal, attendance: Attendance
) -> dict:
    return {
        "appointment_id": appointment_id,
        "client_id": client_id,
        "attendance": attendance,
        "fee": fee,
        "currency": case.staff.currency,
        "billed_to": BilledTo.PAYER if payer_id else BilledTo.CLIENT,
        "payer_id": payer_id,
    }


def _add_logins(session: Session, practice: DemoPractice) -> None:
    logins.create_admin(session, email=practice.admin_email, password=ADMIN_PASSWORD, locale=practice.locale)
    logins.create_therapist_login(
        session, therapist_email=marker_email(practice), password=THERAPIST_PASSWORD, locale=practice.locale
    )
