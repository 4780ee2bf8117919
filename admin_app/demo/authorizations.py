"""What the payers of a demo practice approved: for each referred client of a payer that approves
sessions, a chain of authorizations (each extending the one before, dates never overlapping) from
the start of the course, whose last one ends the way its story says as of the demo's today.

Drawn from a generator of its own (`AUTHORIZATION_SEED`), so adding authorizations moved none of
the practice's earlier draws (and none of its report figures). Only dates are planned here: the
sessions an authorization holds are linked to it by the rule while the appointments are inserted
(`insert`), and only then is the approved number settled, as the sessions taken plus the margin
its story needs (a margin of 0 uses it up). That order changes no link: a client's authorizations
from one payer never overlap, so one covers each date and the rule picks it whatever it approved.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from admin_app.demo.plan import Case, Period
from admin_app.demo.practices import ApprovalPlan, DemoPractice, PayerPlan
from admin_app.services.platform.clinic_time import from_local

AUTHORIZATION_SEED = 14


class Ending(enum.Enum):
    """How the last authorization of a chain stands on the demo's today (the status it shows)."""

    ACTIVE = "active"  # sessions and weeks to spare
    ENDS_SOON = "ends_soon"  # low: valid until within AUTHORIZATION_EXPIRY_DAYS
    FEW_LEFT = "few_left"  # low: one or two sessions left
    EXTENSION_REQUESTED = "extension_requested"  # ends soon (few left where the payer refuses going over)
    USED_UP = "used_up"  # exhausted: every approved session attended, none booked in it
    CLOSED = "closed"  # the course ended and the staff closed it
    LAPSED = "lapsed"  # the course ended and the authorization expired


# Cumulative shares of how a chain stands today: courses still running, courses that ended.
ONGOING_ENDINGS = (
    (0.60, Ending.ACTIVE),
    (0.70, Ending.ENDS_SOON),
    (0.78, Ending.FEW_LEFT),
    (0.90, Ending.EXTENSION_REQUESTED),
    (1.00, Ending.USED_UP),
)
FINISHED_ENDINGS = ((0.5, Ending.CLOSED), (0.8, Ending.USED_UP), (1.0, Ending.LAPSED))
# Where the payer refuses, the sessions still booked could be neither beyond what is approved nor
# on a date no authorization covers.
REFUSED_ENDINGS = {Ending.ENDS_SOON: Ending.FEW_LEFT, Ending.USED_UP: Ending.FEW_LEFT}


@dataclass
class Approval:
    """One planned authorization, by roster position until the client ids are known."""

    position: int
    payer_id: int
    therapist_id: int
    reference: str
    valid_from: dt.date
    valid_until: dt.date
    rate: Decimal | None
    currency: str | None
    created_at: dt.datetime
    margin: int  # approved = sessions it takes + margin (at least one)
    extends: int | None = None  # index of the approval it extends
    extension_requested_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None  # set once its sessions are linked: the rule skips closed ones


def plan_authorizations(
    rng: random.Random, practice: DemoPractice, cases: list[Case], payer_ids: list[int], period: Period, zone
) -> list[Approval]:
    """Every chain of every member of a case billed to a payer that approves sessions, in case order."""
    payers = dict(zip(payer_ids, practice.payers, strict=True))
    numbers = {payer_id: rng.randrange(10**6, 9 * 10**6) for payer_id in payer_ids}
    approvals: list[Approval] = []
    for case in cases:
        for position, payer_id in zip(case.members, case.payers, strict=True):
            payer = payers.get(payer_id)
            if payer is None or payer.approvals is None:
                continue
            chain = []
            for valid_from, valid_until in _windows(rng, case, payer.approvals, period.today):
                numbers[payer_id] += rng.randint(1, 40)  # the payer numbers other practices' claims too
                chain.append(
                    Approval(
                        position=position,
                        payer_id=payer_id,
                        therapist_id=case.staff.id,
                        reference=f"{payer.approvals.reference_prefix}{numbers[payer_id]}",
                        valid_from=valid_from,
                        valid_until=valid_until,
                        rate=payer.approvals.rate,
                        currency=case.staff.currency if payer.approvals.rate is not None else None,
                        created_at=_at(rng, valid_from - dt.timedelta(days=rng.randint(1, 7)), 9, zone),
                        margin=rng.randint(0, 2),
                    )
                )
            _link_chain(rng, chain, len(approvals), zone)
            _end_chain(rng, chain[-1], case, payer, period, zone)
            approvals.extend(chain)
    return approvals


def _windows(rng: random.Random, case: Case, plan: ApprovalPlan, today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Back-to-back blocks from shortly before the first session until one reaches today or the course's end."""
    last_day = case.ends_on - dt.timedelta(days=1) if case.ends_on else None
    start = case.starts_on - dt.timedelta(days=rng.randint(0, 6))
    windows = []
    while True:
        end = start + dt.timedelta(weeks=rng.randint(*plan.weeks), days=-1)
        windows.append((start, end))
        if end >= today or (last_day is not None and end >= last_day):
            return windows
        start = end + dt.timedelta(days=1)


def _link_chain(rng: random.Random, chain: list[Approval], offset: int, zone) -> None:
    """Each block extends the one before (`offset`: where the chain starts in the plan), whose
    extension was requested a week or two before it ended."""
    for index, (previous, approval) in enumerate(pairwise(chain)):
        approval.extends = offset + index
        asked_on = max(previous.valid_from, previous.valid_until - dt.timedelta(days=rng.randint(7, 14)))
        previous.extension_requested_at = _at(rng, asked_on, 14, zone)


def _end_chain(rng: random.Random, last: Approval, case: Case, payer: PayerPlan, period: Period, zone) -> None:
    """Shape the chain's last authorization so that it stands today as its drawn ending says."""
    today = period.today
    ending = _drawn(rng, FINISHED_ENDINGS if case.ends_on else ONGOING_ENDINGS)
    if payer.refuses_over_approved and case.ends_on is None:
        ending = REFUSED_ENDINGS.get(ending, ending)
    if ending is Ending.USED_UP and case.ends_on is None and _next_meeting(case, period) == today:
        ending = Ending.ACTIVE  # today's session would be booked in it, beyond what it approved
    if ending is Ending.ACTIVE:
        last.valid_until = max(last.valid_until, today + dt.timedelta(weeks=rng.randint(8, 20)))
        last.margin = rng.randint(3, 6)
    elif ending is Ending.ENDS_SOON or (ending is Ending.EXTENSION_REQUESTED and not payer.refuses_over_approved):
        last.valid_until = today + dt.timedelta(days=rng.randint(0, 14))
        last.margin = rng.randint(1, 3)
    elif ending in (Ending.FEW_LEFT, Ending.EXTENSION_REQUESTED):
        last.valid_until = max(last.valid_until, today + dt.timedelta(weeks=rng.randint(6, 12)))
        last.margin = rng.randint(1, 2)
    elif ending is Ending.USED_UP and case.ends_on is None:
        last.valid_until = _next_meeting(case, period) - dt.timedelta(days=1)  # nothing booked in it from today
        last.margin = 0
    elif ending is Ending.USED_UP:
        last.valid_until = max(last.valid_until, today + dt.timedelta(days=rng.randint(7, 42)))
        last.margin = 0
    elif ending is Ending.CLOSED:
        last.closed_at = _at(rng, case.ends_on + dt.timedelta(days=rng.randint(1, 10)), 16, zone)
    elif ending is Ending.LAPSED:
        last.valid_until = min(last.valid_until, today - dt.timedelta(days=1))
    if ending is Ending.EXTENSION_REQUESTED:
        asked_on = max(last.valid_from, today - dt.timedelta(days=rng.randint(1, 7)))
        last.extension_requested_at = _at(rng, asked_on, 11, zone)


def _next_meeting(case: Case, period: Period) -> dt.date:
    """The case's first meeting on or after today (within a fortnight: every case meets weekly or fortnightly)."""
    day = period.today
    while not (day.weekday() == case.slot[0] and case.meets_on(day, period.epoch)):
        day += dt.timedelta(days=1)
    return day


def _drawn(rng: random.Random, shares: tuple[tuple[float, Ending], ...]) -> Ending:
    draw = rng.random()
    return next(ending for edge, ending in shares if draw < edge)


def _at(rng: random.Random, day: dt.date, hour: int, zone) -> dt.datetime:
    """A moment of that local working day (UTC, as stored)."""
    return from_local(dt.datetime.combine(day, dt.time(hour, rng.randrange(60))), zone)
