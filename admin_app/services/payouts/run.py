"""The payout run: each therapist's draft statement for a month (DESIGN.md, "Payout statements").

The statement of therapist T for month M (cut-off: M's last day, clinic time) holds each of T's charges
with a date of service up to the cut-off that is on no other statement and was settled (paid, or its rest
written off) on or before the cut-off, as **paid lines**; the charges up to the cut-off not settled by then
are its **held lines**, and come back on the first later statement by whose cut-off they are settled.
With `PAYOUTS_WAIT_FOR_PAYMENT=false` every such charge is a paid line, as billed.

Where each charge stood at the cut-off comes from the ledger (`ledger.charge_positions_query` with
`applied_through`), the terms from `compensation.terms_in_force`, and the earning from
`compensation.earning_of_cents`, all in one statement; the lines are written in one bulk insert. The
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
from sqlalchemy import Select, and_, case, delete, exists, func, or_, select, true, union, update
from sqlalchemy.orm import Session

from admin_app.models import (
    Allocation,
    Appointment,
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
from admin_app.services.platform.money import from_cents
from admin_app.services.platform.months import Month
from admin_app.services.platform.progress import Progress, ignore

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
    rows = session.execute(_candidates_query(session, month, kept)).all()
    _refuse_without_terms(session, rows)
    progress(1, RUN_STEPS)
    statement_ids = _statements_for(session, month, {row.therapist_id for row in rows})
    _insert_lines(session, rows, statement_ids)
    _drop_empty_drafts(session, month)
    progress(2, RUN_STEPS)
    session.execute(
        update(PayoutStatement).where(PayoutStatement.id.in_(drafts_of(month))).values(refreshed_at=utcnow())
    )
    progress(RUN_STEPS, RUN_STEPS)
    return RunSummary(
        month=month,
        statements=session.scalar(select(func.count()).select_from(drafts_of(month).subquery())) or 0,
        lines=sum(1 for row in rows if row.ready),
        held=sum(1 for row in rows if not row.ready),
        kept=session.scalar(select(func.count()).select_from(kept.subquery())) or 0,
    )


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
            terms.c.id.label("terms_id"),
            terms.c.compensation_model,
            terms.c.commission_percent,
            terms.c.service_fee,
            compensation.earning_of_cents(earned_on, terms).label("earning_cents"),
        )
        .select_from(positions)
        .outerjoin(terms, compensation.in_force_for(terms, p.therapist_id, p.starts_at))
        .where(concerned, ~paid_out, p.therapist_id.not_in(kept))
        .order_by(p.therapist_id, p.starts_at, p.participant_id)
    )


def _concerned(start: dt.date, cut_off: dt.date, waits: bool) -> Select:
    """The ids of the charges a run may pay or hold: those with a date of service from the start to the
    cut-off, and (payments tracked) those with money applied from the start to the cut-off. A union of
    two index reads: the ledger then reads these charges only, not the whole history."""
    in_window = (
        select(Participant.id)
        .join(Appointment, Appointment.id == Participant.appointment_id)
        .where(
            Appointment.starts_at >= clinic_time.day_start(start),
            Appointment.starts_at < clinic_time.day_start(cut_off + dt.timedelta(days=1)),
        )
    )
    if not waits:
        return in_window
    applied = select(Allocation.participant_id).where(Allocation.applied_on.between(start, cut_off))
    ids = union(in_window, applied).subquery("concerned")
    return select(ids.c[0])


def _refuse_without_terms(session: Session, rows) -> None:
    """Every therapist has terms (each path that creates one gives them); a charge without any would be
    paid nothing, so the run stops and names the therapist instead."""
    missing = {row.therapist_id for row in rows if row.terms_id is None}
    if missing:
        names = session.scalars(
            select(Therapist.full_name).where(Therapist.id.in_(missing)).order_by(Therapist.full_name)
        )
        raise RuleViolation(
            _l("%(names)s: no compensation terms, so no earning can be worked out.", names=", ".join(names))
        )


def _statements_for(session: Session, month: Month, therapist_ids: set[int]) -> dict[int, int]:
    """The draft statement of each therapist (created where missing), by therapist id."""

    def drafts() -> dict[int, int]:
        return dict(
            session.execute(
                select(PayoutStatement.therapist_id, PayoutStatement.id).where(PayoutStatement.id.in_(drafts_of(month)))
            ).all()
        )

    found = drafts()
    missing = sorted(therapist_ids - set(found))
    if not missing:
        return found
    now = utcnow()
    bulk.insert_records(
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
            for therapist_id in missing
        ],
        bulk.audit_stamp(),
    )
    return drafts()


def _insert_lines(session: Session, rows, statement_ids: dict[int, int]) -> None:
    """The lines, in one bulk insert (no audit event each: they are the run's output, rewritten by the
    next run; the run itself and the statements are recorded). `render_nulls` keeps every row's columns
    the same, so it is one batch: without it the ORM leaves out each row's NULLs and sends one INSERT
    per change of shape (paid and held, payer and self-pay alternate: hundreds per run)."""
    if rows:
        bulk.insert_rows(
            session,
            PayoutLine,
            [
                {
                    "statement_id": statement_ids[row.therapist_id],
                    "participant_id": row.participant_id,
                    "held": not row.ready,
                    "date_of_service": clinic_time.to_local(row.starts_at).date(),
                    "client_id": row.client_id,
                    "payer_id": row.payer_id,
                    "currency": row.currency,
                    "amount": from_cents(row.amount_cents),
                    "collected": from_cents(row.collected_cents),
                    "compensation_model": row.compensation_model,
                    "commission_percent": row.commission_percent,
                    "service_fee": row.service_fee,
                    "earning": from_cents(row.earning_cents),
                    "held_reason": None if row.ready else _HELD_REASON[row.state],
                }
                for row in rows
            ],
            render_nulls=True,
        )


def _drop_empty_drafts(session: Session, month: Month) -> None:
    """A draft left with no line and no adjustment says nothing: it goes."""
    empty = drafts_of(month).where(
        ~exists().where(PayoutLine.statement_id == PayoutStatement.id),
        ~exists().where(PayoutAdjustment.statement_id == PayoutStatement.id),
    )
    ids = list(session.scalars(empty))
    if ids:
        session.execute(delete(PayoutStatement).where(PayoutStatement.id.in_(ids)))
