"""The payout run: each therapist's draft statement for a month (DESIGN.md, "Payout statements").

The statement of therapist T for month M (cut-off: M's last day, clinic time) holds each of T's charges
with a date of service up to the cut-off that is on no other statement and was settled (paid, or its rest
written off) on or before the cut-off, as **paid lines**; the charges up to the cut-off not settled by then
are its **held lines**, and come back on the first later statement by whose cut-off they are settled.
With `PAYOUTS_WAIT_FOR_PAYMENT=false` every such charge is a paid line, as billed.

Where each charge stood at the cut-off comes from the ledger (`ledger.charge_positions_query` with
`applied_through`), the terms from `compensation.terms_in_force`, and the earning from
`compensation.earning_of_cents`, all in one statement, which writes the lines (`INSERT ... SELECT`). The
earning of a paid line is worked out of what was **collected** (a written-off part earns nothing); that
of a held line out of the amount billed (what it brings once paid in full). A charge of 0 is settled as
it is (nothing to wait for).

Payouts begin with the first month a run was ever made for (the **start**): what was settled before it
was paid out before the practice used the product (its spreadsheets), so the first statements do not
carry ten years of history. A charge from before the start that is settled on or after it is paid out
like any other (a July session an insurer pays in August is on August's statement), but it is never
listed as held: only charges from the start on are (without payments tracked, only those are paid out).

A run rewrites the lines of the month's drafts and never touches an approved, sent or paid statement:
a therapist whose statement of M is past draft keeps it, and their charges wait for M+1. Two runs at
once are serialised (`locking.serialize` on `RUN_LOCK`), and so are a run and an approval or an
adjustment (`statements`), so a draft is never approved halfway through its rewriting; the partial
unique index on paid lines is the last guard against paying a session twice.
"""

from __future__ import annotations

import dataclasses
import functools
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BindParameter,
    Insert,
    Select,
    Subquery,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from admin_app.models import (
    Allocation,
    Appointment,
    CompensationTerms,
    HeldReason,
    Participant,
    PayoutAdjustment,
    PayoutLine,
    PayoutRun,
    PayoutStatement,
    PayoutStatus,
    Therapist,
)
from admin_app.models.base import utcnow
from admin_app.services.billing import ledger
from admin_app.services.billing.ledger import ChargeState
from admin_app.services.people import compensation
from admin_app.services.platform import bulk, clinic_time, locking
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.money import amount_sql
from admin_app.services.platform.months import Month
from admin_app.services.platform.progress import Progress, ignore
from admin_app.services.platform.sql_time import local_date

RUN_LOCK = 0x7061796F  # "payo": one payout run at a time, on every machine
RUN_STEPS = 2  # what `progress` counts: drafts opened, lines written
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}  # with ON CONFLICT

_HELD_REASON = {
    ChargeState.UNINVOICED.value: HeldReason.UNINVOICED,
    ChargeState.DRAFT.value: HeldReason.UNINVOICED,
    ChargeState.INVOICED.value: HeldReason.INVOICED,
    ChargeState.PARTLY_PAID.value: HeldReason.PARTLY_PAID,
}


@dataclasses.dataclass(frozen=True)
class RunSummary:
    month: Month
    statements: int  # drafts written (new or refreshed)
    lines: int  # paid lines on them
    held: int  # held lines on them
    kept: int  # statements past draft, left as they were


def payout_run(
    session: Session, month: Month, *, user_id: int | None = None, progress: Progress = ignore
) -> RunSummary:
    """Draft (or refresh) every therapist's statement of `month`; the caller commits.
    Refused for a month that has not begun. `progress` counts its steps (each one statement over
    the whole month)."""
    ensure_begun(month)
    progress(0, RUN_STEPS)
    locking.serialize(session, RUN_LOCK)
    run_id = session.scalar(insert(PayoutRun).values(month=str(month), created_by_id=user_id).returning(PayoutRun.id))
    shape, params = _shape(), _params(session, month)
    opened = _open_drafts(session, month)
    _refuse_without_terms(session, shape, params)  # the candidates are those of therapists with a draft
    progress(1, RUN_STEPS)
    # Core, not the ORM: given to an ORM insert, `params` would be rows to insert.
    session.connection().execute(_lines_insert(shape), params)
    _record_creations(session, run_id, opened, _drop_empty_drafts(session, month))
    progress(RUN_STEPS, RUN_STEPS)
    return _summary(session, month)


def _summary(session: Session, month: Month) -> RunSummary:
    """What the run left, counted in one statement."""

    def count(query: Select):
        return select(func.count()).select_from(query.subquery()).scalar_subquery()

    on_drafts = PayoutLine.statement_id.in_(drafts_of(month))
    counts = session.execute(
        select(
            count(drafts_of(month)).label("statements"),
            count(select(PayoutLine.id).where(on_drafts, PayoutLine.held.is_(False))).label("lines"),
            count(select(PayoutLine.id).where(on_drafts, PayoutLine.held)).label("held"),
            count(_past_draft(str(month))).label("kept"),
        )
    ).one()
    return RunSummary(month=month, **counts._asdict())


def ensure_begun(month: Month) -> None:
    """Refuse a month that has not begun: nothing of it can be owed yet."""
    if month.first_day > clinic_time.today():
        raise RuleViolation(
            _l("%(field)s: %(month)s has not begun yet.", field=_l("Month"), month=str(month)), field="month"
        )


def payouts_start(session: Session) -> Month | None:
    """The first month a payout run was made for: payouts begin there."""
    first = session.scalar(select(func.min(PayoutRun.month)))
    return Month.parse(first) if first else None


def drafts_of(month: Month) -> Select:
    """The ids of `month`'s draft statements."""
    return select(PayoutStatement.id).where(
        PayoutStatement.month == str(month), PayoutStatement.status == PayoutStatus.DRAFT
    )


def _past_draft(month: str) -> Select:
    """The therapists whose statement of `month` is approved, sent or paid: the run leaves them be."""
    return select(PayoutStatement.therapist_id).where(
        PayoutStatement.month == month, PayoutStatement.status != PayoutStatus.DRAFT
    )


def _without_draft(month: BindParameter) -> Select:
    """The therapists without a draft of `month`: those whose statement is past draft (the run leaves
    them be), and any added since the drafts were opened (their charges wait for the next run)."""
    draft = exists().where(
        PayoutStatement.therapist_id == Therapist.id,
        PayoutStatement.month == month,
        PayoutStatement.status == PayoutStatus.DRAFT,
    )
    return select(Therapist.id).where(~draft)


# What the run's statements are given (`_params`): they are built once per `_shape` and cached, because
# building the candidates' statement (the ledger's positions, the terms, the earning) took longer in
# Python than a run at 30 therapists spends in most of its statements.
_MONTH = bindparam("month", type_=PayoutStatement.month.type)
_START = bindparam("start", type_=Allocation.applied_on.type)  # the first day of payouts
_CUT_OFF = bindparam("cut_off", type_=Allocation.applied_on.type)
_START_AT = bindparam("start_at", type_=Appointment.starts_at.type)  # the first day's start, UTC
_END_AT = bindparam("end_at", type_=Appointment.starts_at.type)  # the day after the cut-off's start


def _params(session: Session, month: Month) -> dict:
    start = payouts_start(session) or month
    return {
        "month": str(month),
        "start": start.first_day,
        "cut_off": month.last_day,
        "start_at": clinic_time.day_start(start.first_day),
        "end_at": month.utc_range()[1],
    }


@dataclasses.dataclass(frozen=True)
class _Shape:
    """Every setting the run's statements are built from, so a change of setting builds them anew."""

    waits: bool  # PAYOUTS_WAIT_FOR_PAYMENT
    missed_percent: Decimal
    zone: str
    currencies: tuple[str, ...]


def _shape() -> _Shape:
    config = current_app.config
    return _Shape(
        waits=config["PAYOUTS_WAIT_FOR_PAYMENT"],
        missed_percent=config["MISSED_SESSION_FEE_PERCENT"],
        zone=config["CLINIC_TIMEZONE"],
        currencies=tuple(config["CURRENCIES"]),
    )


@functools.lru_cache(maxsize=16)
def _candidates(shape: _Shape) -> Subquery:
    """Every charge the month's drafts hold, one row each: therapist_id, participant_id, starts_at,
    client_id, payer_id, currency, amount_cents, collected_cents, ready (a paid line, else held),
    state, the terms and earning_cents. The zone and currencies are read from the settings where
    used; `shape` holds them so that the cache keeps a statement per setting."""
    positions = ledger.charge_positions_query(
        missed_percent=shape.missed_percent,
        before=_END_AT,
        applied_through=_CUT_OFF,
        participant_ids=_concerned(shape.waits),
    ).subquery("position")
    p = positions.c
    from_start = p.starts_at >= _START_AT
    if shape.waits:
        ready = or_(p.paid_on.is_not(None), p.billed_cents <= 0)
        collected = case((p.paid_cents > p.billed_cents, p.billed_cents), (ready, p.paid_cents), else_=0)
        concerned = or_(from_start, and_(p.paid_on.is_not(None), p.paid_on >= _START))
    else:
        ready, collected, concerned = true(), p.billed_cents, from_start
    terms = compensation.terms_in_force()
    earned_on = case((ready, collected), else_=p.billed_cents)
    paid_out = exists().where(PayoutLine.participant_id == p.participant_id, PayoutLine.held.is_(False))
    return (
        select(
            p.therapist_id,
            p.participant_id,
            p.starts_at,
            p.client_id,
            p.payer_id,
            p.currency,
            p.billed_cents.label("amount_cents"),
            collected.label("collected_cents"),
            ready.label("ready"),
            p.state,
            terms.c.compensation_model,
            terms.c.commission_percent,
            terms.c.service_fee,
            compensation.earning_of_cents(earned_on, terms).label("earning_cents"),
        )
        .select_from(positions)
        .outerjoin(terms, compensation.in_force_for(terms, p.therapist_id, p.starts_at))
        .where(concerned, ~paid_out, p.therapist_id.not_in(_without_draft(_MONTH)))
        .subquery("candidate")
    )


def _concerned(waits: bool) -> Select:
    """The ids of the charges a run may pay or hold: those with a date of service from the start to the
    cut-off, and (payments tracked) those with money applied from the start to the cut-off. A union of
    two index reads: the ledger then reads these charges only, not the whole history. It is a CTE,
    so the ledger's three uses of it read it once."""
    in_window = (
        select(Participant.id)
        .join(Appointment, Appointment.id == Participant.appointment_id)
        .where(Appointment.starts_at >= _START_AT, Appointment.starts_at < _END_AT)
    )
    applied = select(Allocation.participant_id).where(Allocation.applied_on.between(_START, _CUT_OFF))
    ids = (union(in_window, applied) if waits else in_window).cte("concerned")
    return select(ids.c[0])


def _refuse_without_terms(session: Session, shape: _Shape, params: dict) -> None:
    """Every therapist has terms (each path that creates one gives them), and a therapist's terms cover
    all time (`compensation.terms_in_force`: the first is open at its start, the newest at its end), so
    only a therapist with none has charges without terms. They would be paid nothing, so the run stops
    and names such therapists, where the month holds charges of theirs."""
    without = session.scalars(
        select(Therapist.id).where(~exists().where(CompensationTerms.therapist_id == Therapist.id))
    ).all()
    if not without:
        return
    candidates = _candidates(shape).c
    concerned = select(candidates.therapist_id).where(candidates.therapist_id.in_(without))
    names = session.scalars(
        select(Therapist.full_name).where(Therapist.id.in_(concerned)).order_by(Therapist.full_name), params
    ).all()
    if names:
        raise RuleViolation(
            _l("%(names)s: no compensation terms, so no earning can be worked out.", names=", ".join(names))
        )


def _open_drafts(session: Session, month: Month) -> list[int]:
    """Every therapist's draft of `month`, in one statement (an upsert): a new draft, unaudited, for
    each therapist without a statement of it, and the drafts already there refreshed now; approved,
    sent and paid statements are left as they are (a draft is new when it was created and refreshed
    at one instant: this run's). The refreshed drafts lose their lines, which the run writes anew.
    Then the lines join their therapist's draft in one statement, the drafts left without a line go
    (`_drop_empty_drafts`), and the creation of the rest is recorded (`_record_creations`). The new
    drafts' ids."""
    now = utcnow()
    columns = {
        "therapist_id": Therapist.id,
        "month": literal(str(month), PayoutStatement.month.type),
        "cut_off": literal(month.last_day, PayoutStatement.cut_off.type),
        "status": literal(PayoutStatus.DRAFT, PayoutStatement.status.type),
        "created_at": literal(now, PayoutStatement.created_at.type),
        "refreshed_at": literal(now, PayoutStatement.refreshed_at.type),
    }
    # SQLite parses the SELECT of an upsert only with a WHERE (its docs, "Parsing Ambiguity").
    therapists = select(*columns.values()).where(true())
    upsert = _INSERT[session.get_bind().dialect.name](PayoutStatement).from_select(list(columns), therapists)
    drafts = session.execute(
        upsert.on_conflict_do_update(
            index_elements=[PayoutStatement.therapist_id, PayoutStatement.month],
            set_={"refreshed_at": now},
            where=PayoutStatement.status == PayoutStatus.DRAFT,
        ).returning(PayoutStatement.id, (PayoutStatement.created_at == PayoutStatement.refreshed_at).label("new"))
    ).all()
    refreshed = [draft.id for draft in drafts if not draft.new]
    if refreshed:
        session.execute(delete(PayoutLine).where(PayoutLine.statement_id.in_(refreshed)))
    return [draft.id for draft in drafts if draft.new]


def _record_creations(session: Session, run_id: int, opened: list[int], dropped: set[int]) -> None:
    """The creation of the run and of the drafts `_open_drafts` opened and `_drop_empty_drafts` left,
    in one audit write."""
    drafts = [(PayoutStatement.__tablename__, draft_id) for draft_id in sorted(set(opened) - dropped)]
    bulk.record_created(session, bulk.audit_stamp(), [(PayoutRun.__tablename__, run_id), *drafts])


@functools.lru_cache(maxsize=16)
def _lines_insert(shape: _Shape) -> Insert:
    """The lines, each on its therapist's draft, in one `INSERT ... SELECT`: no row is read into Python.
    No audit event each: they are the run's output, rewritten by the next run; the run itself and the
    statements are recorded. The ids follow each therapist's charges by start.

    Each line finds its draft by the unique (therapist, month) index: drafts opened in the same
    transaction have no statistics yet, so a join to them was planned as one row and read the
    candidates again for each draft."""
    c = _candidates(shape).c
    held_reason = case(
        (c.ready, None), else_=case({state: reason.value for state, reason in _HELD_REASON.items()}, value=c.state)
    )
    draft = (
        select(PayoutStatement.id)
        .where(
            PayoutStatement.therapist_id == c.therapist_id,
            PayoutStatement.month == _MONTH,
            PayoutStatement.status == PayoutStatus.DRAFT,
        )
        .scalar_subquery()
    )
    columns = {
        "statement_id": draft,
        "participant_id": c.participant_id,
        "held": ~c.ready,
        "date_of_service": local_date(c.starts_at, ZoneInfo(shape.zone)),
        "client_id": c.client_id,
        "payer_id": c.payer_id,
        "currency": c.currency,
        "amount": amount_sql(c.amount_cents),
        "collected": amount_sql(c.collected_cents),
        "compensation_model": c.compensation_model,
        "commission_percent": c.commission_percent,
        "service_fee": c.service_fee,
        "earning": amount_sql(c.earning_cents),
        "held_reason": held_reason,
    }
    rows = select(*columns.values()).order_by(c.therapist_id, c.starts_at, c.participant_id)
    return insert(PayoutLine).from_select(list(columns), rows)


def _drop_empty_drafts(session: Session, month: Month) -> set[int]:
    """A draft left with no line and no adjustment says nothing: it goes. The ids of those gone."""
    empty = drafts_of(month).where(
        ~exists().where(PayoutLine.statement_id == PayoutStatement.id),
        ~exists().where(PayoutAdjustment.statement_id == PayoutStatement.id),
    )
    return set(
        session.scalars(delete(PayoutStatement).where(PayoutStatement.id.in_(empty)).returning(PayoutStatement.id))
    )
