"""Payout statements as staff read and move them: a month's overview, one statement, and its status.

Figures: a statement's **earned** total is the sum of its paid lines' earnings, its **held** total
the sum of its held lines' earnings (what they will bring once paid), its **adjustments** the sum of
its adjustments, and what is **due** to the therapist earned + adjustments; all per currency, sums
of rounded lines (DESIGN.md, "Money"). `month_overview` works them out in SQL for every statement
of a month (the screen, the report and the ZIP read it); `statement_detail` reads one statement's
lines and adds them up the same way, so the PDF adds up to the screen.

Status: draft → approved (numbered, gap-free, `PAYOUT_PREFIX`) → sent (locked: its lines,
adjustments and email never change) → paid (the transfer's date and reference).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, selectinload

from admin_app.models import (
    PAYOUT_SERIES,
    Appointment,
    Participant,
    PayoutAdjustment,
    PayoutLine,
    PayoutStatement,
    PayoutStatus,
    Therapist,
)
from admin_app.models.base import utcnow
from admin_app.services.billing import payments
from admin_app.services.billing.numbers import Series
from admin_app.services.payouts.run import RUN_LOCK, drafts_of
from admin_app.services.platform import locking
from admin_app.services.platform.documents.numbering import next_numbers
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.labels import choice_label, field_label
from admin_app.services.platform.money import cents_sql, from_cents, round_amount, sum_per_currency
from admin_app.services.platform.months import Month

Totals = dict[str, Decimal]


@dataclasses.dataclass(frozen=True)
class StatementSummary:
    """One statement of a month's overview (a row of the screen and of the report)."""

    statement_id: int
    therapist_id: int
    therapist_name: str
    therapist_email: str | None
    status: PayoutStatus
    number: str | None
    lines: int
    held_lines: int
    earned: Totals
    held: Totals
    adjustments: Totals

    @property
    def due(self) -> Totals:
        return add_totals(self.earned, self.adjustments)


@dataclasses.dataclass(frozen=True)
class StatementDetail:
    """One statement with its lines, held lines and adjustments, and the totals they add up to."""

    statement: PayoutStatement
    lines: list[PayoutLine]
    held_lines: list[PayoutLine]
    adjustments: list[PayoutAdjustment]

    @property
    def month(self) -> Month:
        return Month.parse(self.statement.month)

    @property
    def earned(self) -> Totals:
        return sum_per_currency((line.currency, line.earning) for line in self.lines)

    @property
    def collected(self) -> Totals:
        return sum_per_currency((line.currency, line.collected) for line in self.lines)

    @property
    def held(self) -> Totals:
        return sum_per_currency((line.currency, line.earning) for line in self.held_lines)

    @property
    def adjusted(self) -> Totals:
        return sum_per_currency((item.currency, item.amount) for item in self.adjustments)

    @property
    def due(self) -> Totals:
        return add_totals(self.earned, self.adjusted)


def payout_series() -> Series:
    return Series(PAYOUT_SERIES, current_app.config["PAYOUT_PREFIX"])


def add_totals(*parts: Totals) -> Totals:
    """Per-currency totals added currency by currency; zero totals left out."""
    found: dict[str, Decimal] = {}
    for totals in parts:
        for currency, amount in totals.items():
            found[currency] = found.get(currency, Decimal("0")) + amount
    return {currency: amount for currency, amount in sorted(found.items()) if amount}


def month_overview(session: Session, month: Month) -> list[StatementSummary]:
    """Every statement of `month`, by therapist name, with its figures (three statements in all)."""
    statements = session.execute(
        select(
            PayoutStatement.id,
            PayoutStatement.therapist_id,
            Therapist.full_name,
            Therapist.email,
            PayoutStatement.status,
            PayoutStatement.number,
        )
        .join(Therapist, Therapist.id == PayoutStatement.therapist_id)
        .where(PayoutStatement.month == str(month))
        .order_by(Therapist.full_name, Therapist.id)
    ).all()
    ids = select(PayoutStatement.id).where(PayoutStatement.month == str(month))
    counts: dict[int, list[int]] = {}
    earned: dict[int, Totals] = {}
    held: dict[int, Totals] = {}
    for statement_id, is_held, currency, count, cents in session.execute(
        select(
            PayoutLine.statement_id,
            PayoutLine.held,
            PayoutLine.currency,
            func.count(),
            func.sum(cents_sql(PayoutLine.earning)),
        )
        .where(PayoutLine.statement_id.in_(ids))
        .group_by(PayoutLine.statement_id, PayoutLine.held, PayoutLine.currency)
    ):
        counts.setdefault(statement_id, [0, 0])[1 if is_held else 0] += count
        if cents:
            (held if is_held else earned).setdefault(statement_id, {})[currency] = from_cents(cents)
    adjustments: dict[int, Totals] = {}
    for statement_id, currency, cents in session.execute(
        select(PayoutAdjustment.statement_id, PayoutAdjustment.currency, func.sum(cents_sql(PayoutAdjustment.amount)))
        .where(PayoutAdjustment.statement_id.in_(ids))
        .group_by(PayoutAdjustment.statement_id, PayoutAdjustment.currency)
    ):
        if cents:
            adjustments.setdefault(statement_id, {})[currency] = from_cents(cents)
    return [
        StatementSummary(
            statement_id=row.id,
            therapist_id=row.therapist_id,
            therapist_name=row.full_name,
            therapist_email=row.email,
            status=PayoutStatus(row.status),
            number=row.number,
            lines=counts.get(row.id, [0, 0])[0],
            held_lines=counts.get(row.id, [0, 0])[1],
            earned=dict(sorted(earned.get(row.id, {}).items())),
            held=dict(sorted(held.get(row.id, {}).items())),
            adjustments=dict(sorted(adjustments.get(row.id, {}).items())),
        )
        for row in statements
    ]


def statement_ids_of(session: Session, therapist_ids: Iterable[int], month: Month) -> dict[int, int]:
    """The statement of each of these therapists for `month`, where there is one, by therapist id."""
    ids = list(therapist_ids)
    if not ids:
        return {}
    return dict(
        session.execute(
            select(PayoutStatement.therapist_id, PayoutStatement.id).where(
                PayoutStatement.month == str(month), PayoutStatement.therapist_id.in_(ids)
            )
        ).all()
    )


def statement_detail(session: Session, statement_id: int) -> StatementDetail:
    """One statement with its lines (client and payer loaded with them); NotFound for an unknown id."""
    found = statement_details(session, PayoutStatement.id == statement_id)
    if not found:
        raise NotFound(_l("This payout statement does not exist."))
    return found[0]


def month_details(session: Session, month: Month) -> list[StatementDetail]:
    """Every statement of `month` as `statement_detail` reads one, by therapist name (the ZIP's)."""
    return statement_details(session, PayoutStatement.month == str(month))


def statement_details(session: Session, *conditions) -> list[StatementDetail]:
    """The statements meeting `conditions` (e.g. a month's), by therapist name, each with its lines,
    their clients and payers and its adjustments, in a constant number of queries."""
    found = session.scalars(
        select(PayoutStatement)
        .join(Therapist, Therapist.id == PayoutStatement.therapist_id)
        .where(*conditions)
        .order_by(Therapist.full_name, Therapist.id)
        .options(
            selectinload(PayoutStatement.therapist),
            selectinload(PayoutStatement.adjustments),
            selectinload(PayoutStatement.lines).selectinload(PayoutLine.client),
            selectinload(PayoutStatement.lines).selectinload(PayoutLine.payer),
        )
    ).all()
    return [
        StatementDetail(
            statement=statement,
            lines=[line for line in statement.lines if not line.held],
            held_lines=[line for line in statement.lines if line.held],
            adjustments=list(statement.adjustments),
        )
        for statement in found
    ]


def approve(session: Session, statement_ids: Iterable[int], *, user_id: int | None = None) -> int:
    """Approve these drafts, numbering them in the order of their therapists' names; statements past
    draft are left as they are. Returns how many were approved; the caller commits.

    Queued behind a payout run in progress (its lock): else a run could rewrite the lines of a draft
    approved meanwhile, and the approved statement would change under its number."""
    locking.serialize(session, RUN_LOCK)
    drafts = list(
        session.scalars(
            select(PayoutStatement)
            .join(Therapist, Therapist.id == PayoutStatement.therapist_id)
            .where(PayoutStatement.id.in_(list(statement_ids)), PayoutStatement.status == PayoutStatus.DRAFT)
            .order_by(PayoutStatement.month, Therapist.full_name, PayoutStatement.id)
            .with_for_update(of=PayoutStatement)
        )
    )
    if not drafts:
        return 0
    series = payout_series()
    now = utcnow()
    for statement, value in zip(drafts, next_numbers(session, series.key, len(drafts)), strict=True):
        statement.status = PayoutStatus.APPROVED
        statement.number = series.number(value)
        statement.approved_at = now
        statement.approved_by_id = user_id
    session.flush()
    return len(drafts)


def approve_drafts(session: Session, month: Month, *, user_id: int | None = None) -> int:
    """Approve every draft of `month` (*Approve all drafts*); returns how many; the caller commits."""
    return approve(session, list(session.scalars(drafts_of(month))), user_id=user_id)


def mark_paid(
    session: Session, statement_id: int, *, paid_on: dt.date | None, reference: str | None
) -> PayoutStatement:
    """Record the transfer to the therapist of an approved or sent statement; the caller commits."""
    statement = _statement(session, statement_id)
    if statement.status not in (PayoutStatus.APPROVED, PayoutStatus.SENT):
        raise RuleViolation(
            _l(
                "Statement %(number)s is %(status)s: only an approved or sent statement can be marked paid.",
                number=str(statement),
                status=choice_label(statement.status),
            )
        )
    if paid_on is None:
        raise RuleViolation(_l("%(field)s: this field is required", field=field_label("paid_on")), field="paid_on")
    statement.status = PayoutStatus.PAID
    statement.paid_on = paid_on
    statement.paid_reference = (reference or "").strip() or None
    session.flush()
    return statement


def add_adjustment(
    session: Session, statement_id: int, *, amount, currency: str | None, reason: str | None, user_id: int | None = None
) -> PayoutAdjustment:
    """Add an adjustment to a draft (a correction of a sent statement goes on the next one); the caller commits.
    Queued behind a payout run in progress, which may drop the draft if it is left empty."""
    locking.serialize(session, RUN_LOCK)
    statement = _draft(session, statement_id)
    value = _amount(amount, currency)
    text = (reason or "").strip()
    if not text:
        raise RuleViolation(_l("%(field)s: this field is required", field=field_label("reason")), field="reason")
    adjustment = PayoutAdjustment(amount=value, currency=currency, reason=text[:255], created_by_id=user_id)
    statement.adjustments.append(adjustment)
    session.flush()
    return adjustment


def remove_adjustment(session: Session, adjustment_id: int) -> None:
    """Take an adjustment off a draft; the caller commits."""
    adjustment = session.get(PayoutAdjustment, adjustment_id)
    if adjustment is None:
        raise NotFound(_l("This adjustment does not exist."))
    _draft(session, adjustment.statement_id)
    session.delete(adjustment)
    session.flush()


def _amount(amount, currency: str | None) -> Decimal:
    if currency not in current_app.config["CURRENCIES"]:
        raise RuleViolation(
            _l(
                "%(field)s: choose one of %(choices)s",
                field=field_label("currency"),
                choices=", ".join(current_app.config["CURRENCIES"]),
            ),
            field="currency",
        )
    try:
        value = Decimal(str(amount).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite() or value == 0 or round_amount(value, currency) != value:
        raise RuleViolation(
            _l(
                "%(field)s: an amount other than 0, to the cent (negative to take off), got %(value)s",
                field=field_label("amount"),
                value=amount,
            ),
            field="amount",
        )
    if abs(value) >= Decimal("1e10"):
        raise RuleViolation(_l("%(field)s: the amount is too large", field=field_label("amount")), field="amount")
    return value


def _statement(session: Session, statement_id: int) -> PayoutStatement:
    statement = session.get(PayoutStatement, statement_id)
    if statement is None:
        raise NotFound(_l("This payout statement does not exist."))
    return statement


def _draft(session: Session, statement_id: int) -> PayoutStatement:
    statement = _statement(session, statement_id)
    if statement.status != PayoutStatus.DRAFT:
        raise RuleViolation(
            _l(
                "Statement %(number)s is %(status)s and no longer changes: add a correction to a later statement.",
                number=str(statement),
                status=choice_label(statement.status),
            )
        )
    return statement


def locked_statements(session: Session, participant_ids: Iterable[int]) -> dict[int, str]:
    """The number of the approved, sent or paid statement each of these participants is paid out on."""
    ids = list(participant_ids)
    if not ids:
        return {}
    return dict(
        session.execute(
            select(PayoutLine.participant_id, PayoutStatement.number)
            .join(PayoutStatement, PayoutStatement.id == PayoutLine.statement_id)
            .where(
                PayoutLine.participant_id.in_(ids),
                PayoutLine.held.is_(False),
                PayoutStatement.status != PayoutStatus.DRAFT,
            )
        ).all()
    )


def refuse_changing_paid_out(session: Session, appointment: Appointment, participants: Iterable[Participant]) -> None:
    """A session on an approved, sent or paid statement keeps its charge, date and therapist: the
    change is refused with the statement's number (a correction is an adjustment on a later
    statement). One query, and only when a stored charge, start or therapist is being changed."""
    state = inspect(appointment)
    if not state.persistent:
        return
    moved = any(state.attrs[name].history.has_changes() for name in ("starts_at", "therapist_id", "therapist"))
    changed = [p for p in participants if p.id is not None and (moved or payments.charge_changed(p))]
    locked = locked_statements(session, [p.id for p in changed])
    if locked:
        raise RuleViolation(
            _l(
                "This session is paid out on statement %(number)s, so its attendance, fee, date and therapist "
                "no longer change: add an adjustment to the therapist's next statement instead.",
                number=", ".join(sorted(set(locked.values()))),
            ),
            field="participants",
        )
