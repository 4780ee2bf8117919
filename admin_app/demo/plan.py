"""What a demo practice is made of, drawn from one seeded random generator and nothing else: the
therapists, the clients and their households, each course of therapy (slot, room, who pays) and
every meeting with its outcome. No database here: `insert` writes what this plans, and the draws
happen in one fixed order, so the same practice, size and "today" always give the same data.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate

from flask import current_app

from admin_app.demo.catalogue import (
    AFTER_SCHOOL_HOUR,
    FUTURE_WEEKS,
    HOUSEHOLD_KINDS,
    PAST_OUTCOMES,
    SATURDAY,
    full_name,
    slug,
    therapist_email,
)
from admin_app.demo.practices import Caseload, DemoPractice, Pricing
from admin_app.models import (
    AppointmentKind,
    AssignmentKind,
    Attendance,
    CompensationModel,
    LinkKind,
    ReminderPreference,
)
from admin_app.services.platform.clinic_time import from_local
from admin_app.services.platform.money import shared_fees


@dataclass(frozen=True)
class Period:
    """The months the appointments cover: M calendar months up to today's, plus three weeks."""

    first_day: dt.date
    last_day: dt.date
    today: dt.date

    @classmethod
    def ending(cls, today: dt.date, months: int) -> Period:
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
class SiteInfo:
    id: int
    room_ids: tuple[int, ...]


@dataclass(frozen=True)
class Staff:
    id: int
    site: SiteInfo
    fee: Decimal
    currency: str
    video_link: str


Slot = tuple[int, int]  # (weekday, local hour), every week


@dataclass(frozen=True)
class Case:
    """A course of therapy: who meets the therapist, when, where, and who pays."""

    staff: Staff
    members: tuple[int, ...]  # positions in the roster until the client ids are known
    payers: tuple[int | None, ...]
    kind: AppointmentKind
    slot: Slot
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
        self._free: dict[int, list[Slot]] = {}
        self._rooms_taken: dict[tuple[int, Slot], set[int]] = defaultdict(set)

    def book(
        self, rng: random.Random, staff: Staff, *, wants_room: bool, after_school: bool
    ) -> tuple[Slot, int | None]:
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

    def _free_room(self, site: SiteInfo, slot: Slot) -> int | None:
        taken = self._rooms_taken[(site.id, slot)]
        return next((room for room in site.room_ids if room not in taken), None)


@dataclass
class Roster:
    """Client rows and what hangs off them, by roster position until the ids are known."""

    practice: DemoPractice
    clients: list[dict] = field(default_factory=list)
    links: list[tuple[int, int, LinkKind]] = field(default_factory=list)
    assignments: list[tuple[int, int, AssignmentKind, dt.date, dt.date | None]] = field(default_factory=list)
    sources: list[tuple[int, int, str, str | None]] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    national_ids: set[str] = field(default_factory=set)

    def add(self, row: dict) -> int:
        self.clients.append(row)
        return len(self.clients) - 1


def plan_therapists(rng: random.Random, practice: DemoPractice, count: int, sites: list[SiteInfo]) -> list[dict]:
    """The therapists' rows: compensation and prices follow the practice's cycles by position; sites take turns."""
    rows = []
    low, high = practice.commission_percent
    for index, (first, paternal, maternal) in enumerate(_therapist_names(rng, practice, count)):
        pricing = practice.pricing[index % len(practice.pricing)]
        model = practice.compensation[index % len(practice.compensation)]
        on_commission = model == CompensationModel.COMMISSION
        rows.append(
            {
                "full_name": full_name(first, paternal, maternal),
                "email": therapist_email(practice, first, paternal),
                "phone": _mobile(rng, practice),
                "compensation_model": model,
                "commission_percent": Decimal(rng.randint(low, high)) if on_commission else None,
                "service_fee": None if on_commission else _amount(rng, pricing, pricing.service_fee),
                "default_fee": _amount(rng, pricing, pricing.fee),
                "default_currency": pricing.currency,
                "site_id": sites[index % len(sites)].id,
            }
        )
    return rows


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


def _national_id(rng: random.Random, roster: Roster) -> str | None:
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


def _person(rng: random.Random, roster: Roster, today: dt.date, *, youngest: int, oldest: int) -> dict:
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
    email = f"{slug(first)}.{slug(paternal)}{tag}@{domain}" if rng.random() < 0.85 else None
    phone = _mobile(rng, roster.practice) if rng.random() < 0.9 or email is None else None
    return {
        "full_name": full_name(first, paternal, maternal),
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


def _minor(rng: random.Random, roster: Roster, today: dt.date, parent: dict) -> dict:
    """A child or teenager with the parent's surname and language, and no contact data of their own."""
    pool = next(pool for pool in roster.practice.client_names if pool.language == parent["preferred_language"])
    names = pool.children or pool
    first = rng.choice(names.first_names)
    second = rng.choice(names.surnames) if names.second_surname else None
    return {
        "full_name": full_name(first, parent["full_name"].split()[1], second),
        "national_id": _national_id(rng, roster),
        "email": None,
        "phone": None,
        "birth_date": _birth_date(rng, today, 6, 17),
        "preferred_language": parent["preferred_language"],
        "reminder_preference": ReminderPreference.NONE,
        "survey_opt_out": False,
    }


def plan_clients(
    rng: random.Random, practice: DemoPractice, staff: list[Staff], payer_ids: list[int], period: Period, zone
) -> Roster:
    """Each therapist's caseload as the practice sets it: adults, minors with a guardian, couples, families.

    Every case runs from the start of the period, so even February is full. Some adults finish
    and hand their slot to a new client, so months have new clients without the caseload shrinking.
    """
    roster = Roster(practice)
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
            if load.turnover is not None:
                _plan_courses(rng, roster, therapist, household, payer_ids, zone, period, slot, room_id)
                continue
            ends_on = _hand_over_day(rng, load, period) if kind == "adult" else None
            case = _plan_case(
                rng, roster, therapist, household, payer_ids, zone, slot, room_id, period.first_day, ends_on
            )
            if ends_on is not None:
                successor = _plan_household(rng, roster, kind, period.today)
                starts_on = ends_on + dt.timedelta(weeks=1)
                _plan_case(rng, roster, therapist, successor, payer_ids, zone, case.slot, case.room_id, starts_on, None)
    return roster


def _plan_courses(
    rng: random.Random,
    roster: Roster,
    therapist: Staff,
    household: _Household,
    payer_ids: list[int],
    zone,
    period: Period,
    slot: Slot,
    room_id: int | None,
) -> None:
    """One slot's clients over the whole period, one after another (`Caseload.turnover`): each stays for a
    course of sessions and the next arrives a few weeks later. The first is already in course when the
    period starts; a course still running three weeks before today is in care, and nobody starts later
    than a week before today."""
    turnover = roster.practice.caseload.turnover
    latest_start = period.today - dt.timedelta(weeks=1)
    starts_on = period.first_day
    while True:
        bounds = turnover.long_sessions if rng.random() < turnover.long_share else turnover.sessions
        sessions = rng.randint(*bounds)
        if starts_on == period.first_day:  # met before the period: only the rest of the course is in it
            sessions = rng.randint(1, sessions)
        case = _plan_case(
            rng,
            roster,
            therapist,
            household,
            payer_ids,
            zone,
            slot,
            room_id,
            starts_on,
            None,
            sessions=sessions,
            in_care_after=period.today - dt.timedelta(weeks=3),
        )
        if case.ends_on is None:
            return
        starts_on = case.ends_on + dt.timedelta(weeks=rng.randint(*turnover.gap_weeks))
        if starts_on > latest_start:
            return
        household = _plan_household(rng, roster, household.kind, period.today)


def _hand_over_day(rng: random.Random, load: Caseload, period: Period) -> dt.date | None:
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


def _plan_household(rng: random.Random, roster: Roster, kind: str, today: dt.date) -> _Household:
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
    roster: Roster,
    therapist: Staff,
    household: _Household,
    payer_ids: list[int],
    zone,
    slot: Slot,
    room_id: int | None,
    starts_on: dt.date,
    ends_on: dt.date | None,
    *,
    sessions: int | None = None,
    in_care_after: dt.date | None = None,
) -> Case:
    """Assign the household's clients to the therapist in a booked slot and decide who pays; a course of
    `sessions` ends that many meetings after it starts, unless that is after `in_care_after` (still in care)."""
    booked_on = starts_on - dt.timedelta(days=rng.randint(1, 10))
    booked_at = from_local(dt.datetime.combine(booked_on, dt.time(10, rng.randrange(60))), zone)
    every_weeks = 1 if rng.random() < roster.practice.caseload.weekly_share else 2
    if sessions is not None:
        course_end = starts_on + dt.timedelta(weeks=sessions * every_weeks)
        ends_on = course_end if course_end <= in_care_after else None
    assigned = [(position, AssignmentKind.DIRECT) for position in household.members]
    if household.guardian is not None:
        assigned.append((household.guardian, AssignmentKind.INDIRECT))
    for position, kind in assigned:
        roster.clients[position]["registered_at"] = booked_at
        roster.assignments.append((position, therapist.id, kind, starts_on, ends_on))
    case = Case(
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


def _plan_payment(rng: random.Random, roster: Roster, position: int, payer_ids: list[int]) -> int | None:
    """The practice's share of clients are referred by a payer (drawn by its share); the rest pay themselves."""
    practice = roster.practice
    if rng.random() >= practice.referred_share:
        return None
    index = _drawn_by_share(rng, [payer.share for payer in practice.payers])
    payer = practice.payers[index]
    policy = f"{payer.policy_prefix}-{rng.randrange(10**5, 10**6)}" if payer.policy_prefix else None
    roster.sources.append((position, payer_ids[index], f"{payer.member_prefix}-{rng.randrange(10**7, 10**8)}", policy))
    return payer_ids[index]


def _attendance(rng: random.Random, day: dt.date, today: dt.date) -> Attendance:
    """Past days get a realistic outcome; today and later are still expected."""
    if day >= today:
        return Attendance.EXPECTED
    draw = rng.random()
    return next((outcome for share, outcome in PAST_OUTCOMES if draw < share), Attendance.ATTENDED)


def meetings(rng: random.Random, cases: list[Case], period: Period) -> Iterator[list[tuple[Case, dt.date, Attendance]]]:
    """Every meeting of every case with its outcome, one calendar month at a time (months without any are skipped)."""
    by_weekday: dict[int, list[Case]] = defaultdict(list)
    for case in cases:
        by_weekday[case.slot[0]].append(case)
    for days in period.months():
        month = [
            (case, day, _attendance(rng, day, period.today))
            for day in days
            for case in by_weekday[day.weekday()]
            if case.meets_on(day, period.epoch)
        ]
        if month:
            yield month
