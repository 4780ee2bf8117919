"""The demo practice: a deterministic, realistic practice to try the back office on.

`flask seed-demo` loads it into an empty database: two sites with rooms, an insurer and an
employer programme, therapists on both compensation models, about nineteen clients each
(minors with a guardian, couples, insured and self-paying clients) and months of weekly or
fortnightly appointments with realistic attendance. A fixed random seed means the same inputs
(size and "today") always give the same data, so demos, screenshots and benchmarks repeat.

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
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from admin_app.models import (
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
    PayerKind,
    PaymentSource,
    ReminderPreference,
    Room,
    Site,
    Therapist,
    User,
)
from admin_app.models.scheduling import Appointment, Participant
from admin_app.services import accounts, clinic_time
from admin_app.services.clinic_time import clinic_zone, from_local
from admin_app.services.errors import RuleViolation

SEED = 2026
DEMO_LOCALE = "es"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "demo-admin-2026"
THERAPIST_PASSWORD = "demo-therapist-2026"
# The first therapist is fixed (not drawn) so that their email marks a loaded demo at any size.
FIRST_THERAPIST = ("Lucía", "Paredes", "Salazar")
CURRENCIES = ("PEN", "USD")
FUTURE_WEEKS = 3
OPEN_HOUR, CLOSE_HOUR = 8, 20
AFTER_SCHOOL_HOUR = 15
WORKING_WEEKDAYS = range(6)  # Monday to Saturday
SATURDAY = 5

SITES = (
    ("Sede Miraflores", "Av. José Larco 1150, Miraflores, Lima", ("Consultorio 1", "Consultorio 2", "Consultorio 3")),
    ("Sede San Isidro", "Calle Las Begonias 475, San Isidro, Lima", ("Consultorio A", "Consultorio B")),
)
PAYERS = (
    ("Andina Seguros EPS", PayerKind.INSURER, "facturacion@andinaseguros.example.com", "AS"),
    ("Programa Bienestar Minera del Sur", PayerKind.EMPLOYER, "bienestar@mineradelsur.example.com", "MS"),
)
# Cumulative shares of past appointments by outcome; the rest were attended.
PAST_OUTCOMES = (
    (0.07, Attendance.CANCELLED),
    (0.10, Attendance.LATE_CANCELLED),
    (0.14, Attendance.NO_SHOW),
)

FIRST_NAMES = (
    "Alejandro", "Ana", "Andrea", "Ángel", "Carla", "Carlos", "Carmen", "Catalina", "César", "Claudia",
    "Cristina", "Daniel", "Daniela", "Diego", "Eduardo", "Elena", "Fernando", "Gabriela", "Gonzalo", "Isabel",
    "Javier", "Jimena", "Jorge", "José", "Juan", "Julia", "Laura", "Leonardo", "Lorena", "Lucas",
    "Luis", "Manuel", "Marco", "María", "Mariana", "Martín", "Natalia", "Nicolás", "Patricia", "Pablo",
    "Paola", "Raúl", "Renato", "Ricardo", "Rocío", "Rosa", "Sebastián", "Sergio", "Sofía", "Valeria",
)  # fmt: skip
SURNAMES = (
    "Aguilar", "Alvarado", "Benavides", "Cáceres", "Castillo", "Chávez", "Córdova", "Cruz", "Delgado", "Espinoza",
    "Flores", "García", "Gonzales", "Gutiérrez", "Huamán", "Lozano", "Mendoza", "Morales", "Núñez", "Ortiz",
    "Palacios", "Paredes", "Quispe", "Ramírez", "Reyes", "Ríos", "Rojas", "Salazar", "Sánchez", "Silva",
    "Soto", "Tapia", "Torres", "Valdivia", "Vargas", "Vásquez", "Vega", "Villanueva", "Zamora", "Zevallos",
)  # fmt: skip
ENGLISH_FIRST_NAMES = ("Emily", "James", "Olivia", "Michael", "Sarah", "David", "Hannah", "Thomas")
ENGLISH_SURNAMES = ("Smith", "Johnson", "Brown", "Miller", "Wilson", "Taylor", "Clarke", "Walker")
MAX_THERAPISTS = len(FIRST_NAMES) * len(SURNAMES)


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


def _therapist_email(first: str, paternal: str) -> str:
    return f"{_slug(first)}.{_slug(paternal)}@example.com"


MARKER_EMAIL = _therapist_email(*FIRST_THERAPIST[:2])
DEMO_LOGINS = (
    DemoLogin("admin", ADMIN_EMAIL, ADMIN_PASSWORD),
    DemoLogin("therapist", MARKER_EMAIL, THERAPIST_PASSWORD),
)


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

    def meets_on(self, day: dt.date, epoch: dt.date) -> bool:
        in_course = self.starts_on <= day and (self.ends_on is None or day < self.ends_on)
        return in_course and ((day - epoch).days // 7) % self.every_weeks == self.parity


class _SlotBook:
    """Hands out weekly slots so that no therapist and no room is ever booked twice at once.

    A fortnightly case keeps its slot (and room) every week: a little capacity is lost, but the
    check stays trivial. Each client belongs to exactly one case, so clients cannot clash either.
    When every room is taken at the therapist's free times, the case is seen virtually.
    """

    def __init__(self, hours: list[int]) -> None:
        self._hours = hours
        self._free: dict[int, list[_Slot]] = {}
        self._rooms_taken: dict[tuple[int, _Slot], set[int]] = defaultdict(set)

    def book(
        self, rng: random.Random, staff: _Staff, *, wants_room: bool, after_school: bool
    ) -> tuple[_Slot, int | None]:
        free = self._free.setdefault(staff.id, [(day, hour) for day in WORKING_WEEKDAYS for hour in self._hours])
        candidates = [s for s in free if not after_school or s[1] >= AFTER_SCHOOL_HOUR or s[0] == SATURDAY] or free
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

    clients: list[dict] = field(default_factory=list)
    links: list[tuple[int, int, LinkKind]] = field(default_factory=list)
    assignments: list[tuple[int, int, AssignmentKind, dt.date, dt.date | None]] = field(default_factory=list)
    sources: list[tuple[int, int, str, str | None]] = field(default_factory=list)
    cases: list[_Case] = field(default_factory=list)
    national_ids: set[str] = field(default_factory=set)

    def add(self, row: dict) -> int:
        self.clients.append(row)
        return len(self.clients) - 1


def load_demo_practice(session: Session, *, therapists: int, months: int, today: dt.date | None = None) -> DemoSummary:
    """Load the demo practice into an empty database; the caller commits.

    Nothing is written when the demo is already there (so `make run` can seed every time) or
    when the database holds another practice's records.
    """
    if not 1 <= therapists <= MAX_THERAPISTS:
        raise RuleViolation(_l("therapists: choose between 1 and %(max)s", max=MAX_THERAPISTS), field="therapists")
    if months < 1:
        raise RuleViolation(_l("months: at least one month is required"), field="months")
    if _demo_present(session):
        return DemoSummary(DemoOutcome.ALREADY_LOADED, DEMO_LOGINS)
    if _practice_present(session):
        return DemoSummary(DemoOutcome.NOT_EMPTY)
    _check_currencies()
    zone = clinic_zone()
    period = _Period.ending(today or clinic_time.today(zone), months)
    rng = random.Random(SEED)
    sites = _add_sites(session)
    payer_ids = _add_payers(session)
    staff = _add_therapists(session, rng, therapists, sites)
    roster = _plan_clients(rng, staff, payer_ids, period, zone)
    client_ids = _insert_roster(session, roster)
    booked = _insert_appointments(session, rng, roster.cases, client_ids, period, zone)
    _add_logins(session)
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
    return DemoSummary(DemoOutcome.LOADED, DEMO_LOGINS, counts, period.first_day, period.last_day)


def _demo_present(session: Session) -> bool:
    return bool(
        session.scalar(select(exists().where(User.email == ADMIN_EMAIL)))
        or session.scalar(select(exists().where(Therapist.email == MARKER_EMAIL)))
    )


def _practice_present(session: Session) -> bool:
    return bool(
        session.scalar(select(exists(select(Therapist.id))))
        or session.scalar(select(exists(select(Client.id))))
        or session.scalar(select(exists().where(Site.name.in_([name for name, _address, _rooms in SITES]))))
    )


def _check_currencies() -> None:
    """The demo prices sessions in soles and dollars; a practice without them could not edit it."""
    missing = [code for code in CURRENCIES if code not in current_app.config["CURRENCIES"]]
    if missing:
        raise RuleViolation(
            _l("The demo practice needs the currencies %(codes)s in CURRENCIES.", codes=", ".join(missing))
        )


def _add_sites(session: Session) -> list[_SiteInfo]:
    sites = [
        Site(name=name, address=address, rooms=[Room(name=room) for room in rooms]) for name, address, rooms in SITES
    ]
    session.add_all(sites)
    session.flush()
    return [_SiteInfo(site.id, tuple(room.id for room in site.rooms)) for site in sites]


def _add_payers(session: Session) -> list[int]:
    payers = [Payer(name=name, kind=kind, billing_email=email) for name, kind, email, _prefix in PAYERS]
    session.add_all(payers)
    session.flush()
    return [payer.id for payer in payers]


def _therapist_names(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    """The fixed first therapist, then distinct (first name, surname) pairs so emails are unique."""
    pairs = [(f, s) for f in FIRST_NAMES for s in SURNAMES if (f, s) != FIRST_THERAPIST[:2]]
    drawn = rng.sample(pairs, count - 1)
    return [FIRST_THERAPIST, *((f, s, rng.choice([m for m in SURNAMES if m != s])) for f, s in drawn)]


def _add_therapists(session: Session, rng: random.Random, count: int, sites: list[_SiteInfo]) -> list[_Staff]:
    """Most on commission, every fourth on a service fee; every fifth prices in USD."""
    records = []
    for index, (first, paternal, maternal) in enumerate(_therapist_names(rng, count)):
        usd = index % 5 == 2
        on_commission = index % 4 != 1
        records.append(
            Therapist(
                full_name=f"{first} {paternal} {maternal}",
                email=_therapist_email(first, paternal),
                phone=_mobile(rng),
                compensation_model=CompensationModel.COMMISSION if on_commission else CompensationModel.SERVICE_FEE,
                commission_percent=Decimal(rng.randint(35, 50)) if on_commission else None,
                service_fee=None if on_commission else _amount(rng, usd, usd_range=(15, 25), pen_range=(40, 60)),
                default_fee=_amount(rng, usd, usd_range=(50, 80), pen_range=(120, 200)),
                default_currency="USD" if usd else "PEN",
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


def _amount(rng: random.Random, usd: bool, *, usd_range: tuple[int, int], pen_range: tuple[int, int]) -> Decimal:
    """A round price: multiples of 5 dollars or 10 soles."""
    low, high = usd_range if usd else pen_range
    step = 5 if usd else 10
    return Decimal(rng.randrange(low, high + 1, step))


def _mobile(rng: random.Random) -> str:
    """A Peruvian mobile number in E.164 (nine digits starting with 9)."""
    return f"+519{rng.randrange(10**8):08d}"


def _birth_date(rng: random.Random, today: dt.date, youngest: int, oldest: int) -> dt.date:
    """A birth date for an age in [youngest, oldest]; days are kept clear of leap-year edges."""
    return today - dt.timedelta(days=rng.randint(youngest * 366, (oldest + 1) * 365 - 3))


def _national_id(rng: random.Random, roster: _Roster) -> str:
    """An unused 8-digit DNI."""
    while (dni := str(rng.randrange(10_000_000, 80_000_000))) in roster.national_ids:
        pass
    roster.national_ids.add(dni)
    return dni


def _person(rng: random.Random, roster: _Roster, today: dt.date, *, youngest: int, oldest: int) -> dict:
    """An adult with contact data (mostly Spanish-speaking), reminders following what they gave."""
    english = rng.random() < 0.08
    first = rng.choice(ENGLISH_FIRST_NAMES if english else FIRST_NAMES)
    paternal = rng.choice(ENGLISH_SURNAMES if english else SURNAMES)
    maternal = "" if english else " " + rng.choice(SURNAMES)
    dni = _national_id(rng, roster)
    email = f"{_slug(first)}.{_slug(paternal)}{dni[-4:]}@example.com" if rng.random() < 0.85 else None
    phone = _mobile(rng) if rng.random() < 0.9 or email is None else None
    return {
        "full_name": f"{first} {paternal}{maternal}",
        "national_id": dni,
        "email": email,
        "phone": phone,
        "birth_date": _birth_date(rng, today, youngest, oldest),
        "preferred_language": "en" if english else "es",
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
    return {
        "full_name": f"{rng.choice(FIRST_NAMES)} {parent['full_name'].split()[1]} {rng.choice(SURNAMES)}",
        "national_id": _national_id(rng, roster),
        "email": None,
        "phone": None,
        "birth_date": _birth_date(rng, today, 6, 17),
        "preferred_language": parent["preferred_language"],
        "reminder_preference": ReminderPreference.NONE,
        "survey_opt_out": False,
    }


def _plan_clients(rng: random.Random, staff: list[_Staff], payer_ids: list[int], period: _Period, zone) -> _Roster:
    """Each therapist's caseload: 14-16 adults, 0-2 minors with a guardian, a couple every other therapist.

    Every case runs from the start of the period, mostly weekly, so even February has 500+
    sessions with ten therapists. Some adults finish and hand their slot to a new client, so
    months have new clients without the caseload shrinking.
    """
    roster = _Roster()
    minutes = current_app.config["DEFAULT_APPOINTMENT_MINUTES"]
    step = math.ceil(minutes / 60)
    book = _SlotBook([h for h in range(OPEN_HOUR, CLOSE_HOUR, step) if h * 60 + minutes <= CLOSE_HOUR * 60])
    for index, therapist in enumerate(staff):
        kinds = ["adult"] * rng.randint(14, 16) + ["minor"] * (index % 3) + ["couple"] * ((index + 1) % 2)
        rng.shuffle(kinds)
        for kind in kinds:
            household = _plan_household(rng, roster, kind, period.today)
            slot, room_id = book.book(rng, therapist, wants_room=rng.random() < 0.5, after_school=kind == "minor")
            ends_on = _hand_over_day(rng, period) if kind == "adult" else None
            case = _plan_case(
                rng, roster, therapist, household, payer_ids, zone, slot, room_id, period.first_day, ends_on
            )
            if ends_on is not None:
                successor = _plan_household(rng, roster, kind, period.today)
                starts_on = ends_on + dt.timedelta(weeks=1)
                _plan_case(rng, roster, therapist, successor, payer_ids, zone, case.slot, case.room_id, starts_on, None)
    return roster


def _hand_over_day(rng: random.Random, period: _Period) -> dt.date | None:
    """For one adult case in sixteen, the day it ends: at least four weeks in, three weeks ago at the latest.

    The successor then starts a week later, still in the past, so nobody is registered in the future.
    """
    earliest = period.first_day + dt.timedelta(weeks=4)
    latest = period.today - dt.timedelta(weeks=3)
    if rng.random() >= 1 / 16 or earliest >= latest:
        return None
    return earliest + dt.timedelta(days=rng.randrange((latest - earliest).days))


@dataclass(frozen=True)
class _Household:
    kind: str
    members: tuple[int, ...]  # in therapy
    guardian: int | None = None  # seen only within the child's case


def _plan_household(rng: random.Random, roster: _Roster, kind: str, today: dt.date) -> _Household:
    """Add the clients of one household: an adult, a couple, or a minor and their guardian."""
    if kind == "minor":
        parent = _person(rng, roster, today, youngest=30, oldest=55)
        guardian = roster.add(parent)
        child = roster.add(_minor(rng, roster, today, parent))
        roster.links.append((guardian, child, LinkKind.GUARDIAN_OF))
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
    every_weeks = 1 if rng.random() < 0.92 else 2
    case = _Case(
        staff=therapist,
        members=household.members,
        payers=tuple(_plan_payment(rng, roster, position, payer_ids) for position in household.members),
        kind=AppointmentKind.COUPLE if household.kind == "couple" else AppointmentKind.INDIVIDUAL,
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
    """A quarter of the clients are covered (two thirds of those by the insurer); the rest pay themselves."""
    if rng.random() >= 0.25:
        return None
    index = 0 if rng.random() < 2 / 3 else 1
    _name, kind, _email, prefix = PAYERS[index]
    policy = f"POL-{rng.randrange(10**5, 10**6)}" if kind == PayerKind.INSURER else None
    roster.sources.append((position, payer_ids[index], f"{prefix}-{rng.randrange(10**7, 10**8)}", policy))
    return payer_ids[index]


def _insert_roster(session: Session, roster: _Roster) -> list[int]:
    """Insert the clients (ids returned in roster order), then their links, assignments and sources."""
    _insert(session, Client, roster.clients)
    # Read the ids back by national ID: RETURNING in parameter order is one statement per row on SQLite.
    id_by_national_id = dict(session.execute(select(Client.national_id, Client.id)).all())
    client_ids = [id_by_national_id[row["national_id"]] for row in roster.clients]
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
    """The same rule as scheduling._sync_status, for one outcome shared by every participant."""
    if attendance in (Attendance.ATTENDED, Attendance.NO_SHOW):
        return AppointmentStatus.HELD
    if attendance in (Attendance.CANCELLED, Attendance.LATE_CANCELLED):
        return AppointmentStatus.CANCELLED
    return AppointmentStatus.SCHEDULED


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
            appointment_ids[(row["therapist_id"], row["starts_at"])], case, client_ids[position], payer, attendance
        )
        for row, (case, _day, attendance) in zip(rows, meetings, strict=True)
        for position, payer in zip(case.members, case.payers, strict=True)
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
    appointment_id: int, case: _Case, client_id: int, payer_id: int | None, attendance: Attendance
) -> dict:
    """The therapist's fee, split between the partners of a couple."""
    fee = (case.staff.fee / len(case.members)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return {
        "appointment_id": appointment_id,
        "client_id": client_id,
        "attendance": attendance,
        "fee": fee,
        "currency": case.staff.currency,
        "billed_to": BilledTo.PAYER if payer_id else BilledTo.CLIENT,
        "payer_id": payer_id,
    }


def _add_logins(session: Session) -> None:
    accounts.create_admin(session, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, locale=DEMO_LOCALE)
    accounts.create_therapist_login(
        session, therapist_email=MARKER_EMAIL, password=THERAPIST_PASSWORD, locale=DEMO_LOCALE
    )
