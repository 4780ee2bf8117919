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
import datetime as dt

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, Subquery, and_, case, delete, exists, func, insert, or_, select, true, union, update
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
RUN_STEPS = 3  # what `progress` counts: charges read, lines written, statements refreshed

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
    session.add(PayoutRun(month=str(month), created_by_id=user_id))
    session.flush()
    kept = _past_draft(month)
    session.execute(delete(PayoutLine).where(PayoutLine.statement_id.in_(drafts_of(month))))
    candidates = _candidates_query(session, month, kept).subquery("candidate")
    _refuse_without_terms(session, candidates)
    opened = _open_drafts(session, month)
    progress(1, RUN_STEPS)
    _insert_lines(session, month, candidates)
    _record_opened(session, opened, _drop_empty_drafts(session, month))
    progress(2, RUN_STEPS)
    session.execute(
        update(PayoutStatement).where(PayoutStatement.id.in_(drafts_of(month))).values(refreshed_at=utcnow())
    )
    progress(RUN_STEPS, RUN_STEPS)
    return _summary(session, month, kept)


def _summary(session: Session, month: Month, kept: Select) -> RunSummary:
    """What the run left, counted in one statement."""

    def count(query: Select):
        return select(func.count()).select_from(query.subquery()).scalar_subquery()

    on_drafts = PayoutLine.statement_id.in_(drafts_of(month))
    counts = session.execute(
        select(
            count(drafts_of(month)).label("statements"),
            count(select(PayoutLine.id).where(on_drafts, PayoutLine.held.is_(False))).label("lines"),
            count(select(PayoutLine.id).where(on_drafts, PayoutLine.held)).label("held"),
            count(kept).label("kept"),
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


def _past_draft(month: Month):
    """The therapists whose statement of `month` is approved, sent or paid: the run leaves them be."""
    return select(PayoutStatement.therapist_id).where(
        PayoutStatement.month == str(month), PayoutStatement.status != PayoutStatus.DRAFT
    )


def _candidates_query(session: Session, month: Month, kept):
    """Every charge the month's drafts hold, one row each: therapist_id, participant_id, starts_at,
    client_id, payer_id, currency, amount_cents, collected_cents, ready (a paid line, else held),
    state, the terms and earning_cents."""
    cut_off = month.last_day
    start = (payouts_start(session) or month).first_day
    waits = current_app.config["PAYOUTS_WAIT_FOR_PAYMENT"]
    positions = ledger.charge_positions_query(
        until=cut_off, applied_through=cut_off, participant_ids=_concerned(start, cut_off, waits)
    ).subquery("position")
    p = positions.c
    from_start = p.starts_at >= clinic_time.day_start(start)
    if waits:
        ready = or_(p.paid_on.is_not(None), p.billed_cents <= 0)
        collected = case((p.paid_cents > p.billed_cents, p.billed_cents), (ready, p.paid_cents), else_=0)
        concerned = or_(from_start, and_(p.paid_on.is_not(None), p.paid_on >= start))
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
        .where(concerned, ~paid_out, p.therapist_id.not_in(kept))
    )


def _concerned(start: dt.date, cut_off: dt.date, waits: bool) -> Select:
    """The ids of the charges a run may pay or hold: those with a date of service from the start to the
    cut-off, and (payments tracked) those with money applied from the start to the cut-off. A union of
    two index reads: the ledger then reads these charges only, not the whole history. It is a CTE,
    so the ledger's three uses of it read it once."""
    in_window = (
        select(Participant.id)
        .join(Appointment, Appointment.id == Participant.appointment_id)
        .where(
            Appointment.starts_at >= clinic_time.day_start(start),
            Appointment.starts_at < clinic_time.day_start(cut_off + dt.timedelta(days=1)),
        )
    )
    applied = select(Allocation.participant_id).where(Allocation.applied_on.between(start, cut_off))
    ids = (union(in_window, applied) if waits else in_window).cte("concerned")
    return select(ids.c[0])


def _refuse_without_terms(session: Session, candidates: Subquery) -> None:
    """Every therapist has terms (each path that creates one gives them), and a therapist's terms cover
    all time (`compensation.terms_in_force`: the first is open at its start, the newest at its end), so
    only a therapist with none has charges without terms. They would be paid nothing, so the run stops
    and names such therapists, where the month holds charges of theirs."""
    without = session.scalars(
        select(Therapist.id).where(~exists().where(CompensationTerms.therapist_id == Therapist.id))
    ).all()
    if not without:
        return
    concerned = select(candidates.c.therapist_id).where(candidates.c.therapist_id.in_(without))
    names = session.scalars(
        select(Therapist.full_name).where(Therapist.id.in_(concerned)).order_by(Therapist.full_name)
    ).all()
    if names:
        raise RuleViolation(
            _l("%(names)s: no compensation terms, so no earning can be worked out.", names=", ".join(names))
        )


def _open_drafts(session: Session, month: Month) -> list[int]:
    """A draft statement of `month` for every therapist without a statement of it, unaudited: the lines
    then join their therapist's draft in one statement, the drafts left without a line go
    (`_drop_empty_drafts`), and the creation of the rest is recorded (`_record_opened`). Their ids."""
    has_one = select(PayoutStatement.therapist_id).where(PayoutStatement.month == str(month))
    therapist_ids = session.scalars(select(Therapist.id).where(Therapist.id.not_in(has_one))).all()
    now = utcnow()
    return bulk.insert_rows(
        session,
        PayoutStatement,
        [
            {
                "therapist_id": therapist_id,
                "month": str(month),
                "cut_off": month.last_day,
                "status": PayoutStatus.DRAFT,
                "created_at": now,
                "refreshed_at": now,
            }
            for therapist_id in therapist_ids
        ],
    )


def _record_opened(session: Session, opened: list[int], dropped: set[int]) -> None:
    """The creation of the drafts `_open_drafts` opened and `_drop_empty_drafts` left."""
    ids = sorted(set(opened) - dropped)
    if ids:
        bulk.record_creations(session, bulk.audit_stamp(), PayoutStatement.__tablename__, ids)


def _insert_lines(session: Session, month: Month, candidates: Subquery) -> None:
    """The lines, each on its therapist's draft, in one `INSERT ... SELECT`: no row is read into Python.
    No audit event each: they are the run's output, rewritten by the next run; the run itself and the
    statements are recorded. The ids follow each therapist's charges by start."""
    c = candidates.c
    held_reason = case(
        (c.ready, None), else_=case({state: reason.value for state, reason in _HELD_REASON.items()}, value=c.state)
    )
    columns = {
        "statement_id": PayoutStatement.id,
        "participant_id": c.participant_id,
        "held": ~c.ready,
        "date_of_service": local_date(c.starts_at),
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
    rows = (
        select(*columns.values())
        .select_from(candidates)
        .join(
            PayoutStatement,
            and_(PayoutStatement.therapist_id == c.therapist_id, PayoutStatement.id.in_(drafts_of(month))),
        )
        .order_by(c.therapist_id, c.starts_at, c.participant_id)
    )
    session.execute(insert(PayoutLine).from_select(list(columns), rows))


def _drop_empty_drafts(session: Session, month: Month) -> set[int]:
    """A draft left with no line and no adjustment says nothing: it goes. The ids of those gone."""
    empty = drafts_of(month).where(
        ~exists().where(PayoutLine.statement_id == PayoutStatement.id),
        ~exists().where(PayoutAdjustment.statement_id == PayoutStatement.id),
    )
    ids = set(session.scalars(empty))
    if ids:
        session.execute(delete(PayoutStatement).where(PayoutStatement.id.in_(ids)))
    return ids
