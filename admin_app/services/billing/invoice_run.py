"""The invoice run: drafts for the uninvoiced charges up to a date (DESIGN.md, "Invoices").

A charge is uninvoiced when no invoice line holds it. The run reads those charges in one statement,
groups them as each bill-to asks (one draft per client and currency by default; one per payer and
currency where the payer invoices per period), adds them to the open draft of the same group when
there is one, else to a new draft, and writes the new drafts and lines in two bulk statements.

Running it twice creates nothing new: the second run finds no uninvoiced charge. Two runs at once
cannot both invoice a charge either: the partial unique index on holding lines refuses the second,
whose transaction is rolled back with a message to run it again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale, gettext, lazy_gettext
from sqlalchemy import case, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    Attendance,
    BilledTo,
    Invoice,
    InvoiceGrouping,
    InvoiceKind,
    InvoiceLine,
    InvoiceRun,
    InvoiceStatus,
    Participant,
    Payer,
)
from admin_app.models.base import utcnow
from admin_app.services.billing.charges import charges_query, missed_session_percent
from admin_app.services.platform import bulk, clinic_time
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import choice_label
from admin_app.services.platform.money import from_cents, round_amount
from admin_app.services.platform.progress import Progress, ignore

RUN_STEPS = 4  # what `progress` counts: charges found, drafts extended, drafts made, lines written


@dataclasses.dataclass(frozen=True)
class GroupKey:
    """What one draft collects: a bill-to (a payer, a client of a payer, or a client alone) in one currency."""

    payer_id: int | None
    client_id: int | None
    currency: str


@dataclasses.dataclass
class RunOutcome:
    run: InvoiceRun | None  # None when there was nothing to invoice
    new_drafts: int = 0
    extended_drafts: int = 0
    lines: int = 0


def invoice_run(
    session: Session,
    through: dt.date,
    *,
    payer_id: int | None = None,
    self_pay: bool = False,
    participant_ids: Sequence[int] | None = None,
    user_id: int | None = None,
    invoice_date: dt.date | None = None,
    progress: Progress = ignore,
) -> RunOutcome:
    """Drafts for the uninvoiced charges with a date of service up to `through`, in the caller's
    transaction: of one payer (`payer_id`), of clients billed themselves (`self_pay`), or all;
    `participant_ids` keeps only those charges (*Invoice selected*). New drafts are dated
    `invoice_date` (default today), as `drafts.set_invoice_date` would date each. `progress` counts
    its steps (each is one statement over all the charges)."""
    if payer_id is not None and self_pay:
        raise RuleViolation(lazy_gettext("Choose a payer or self-paying clients, not both."), field="payer")
    progress(0, RUN_STEPS)
    charges = _uninvoiced(session, through, payer_id=payer_id, self_pay=self_pay, participant_ids=participant_ids)
    if not charges:
        progress(RUN_STEPS, RUN_STEPS)
        return RunOutcome(run=None)
    progress(1, RUN_STEPS)
    run = InvoiceRun(through=through, payer_id=payer_id, self_pay=self_pay, created_by_id=user_id)
    session.add(run)
    session.flush()
    groups = _grouped(session, charges)
    drafts = _open_drafts(session, groups)
    stamp = bulk.audit_stamp()
    _extend(session, list(drafts.values()), through, run.id, stamp)
    progress(2, RUN_STEPS)
    new_keys = [key for key in groups if key not in drafts]
    outcome = RunOutcome(run=run, new_drafts=len(new_keys), extended_drafts=len(drafts))
    new = _new_drafts(session, run, new_keys, groups, through, invoice_date or clinic_time.today())
    bulk.record_creations(session, stamp, Invoice.__tablename__, list(new.values()))
    drafts.update(new)
    progress(3, RUN_STEPS)
    outcome.lines = _write_lines(session, groups, drafts, stamp)
    progress(RUN_STEPS, RUN_STEPS)
    return outcome


def commit_run(
    session: Session, *, before_commit: Callable[[RunOutcome], None] | None = None, **arguments
) -> RunOutcome:
    """`invoice_run` committed (with what `before_commit` adds, in the same transaction: a run in
    the background records its end); a run that met another one at the same time is rolled back
    and refused."""
    try:
        outcome = invoice_run(session, **arguments)
        if before_commit is not None:
            before_commit(outcome)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise RuleViolation(
            lazy_gettext("Another invoice run took some of these sessions at the same time. Run it again.")
        ) from None
    except Exception:
        session.rollback()
        raise
    return outcome


@dataclasses.dataclass(frozen=True)
class _Charge:
    participant_id: int
    client_id: int
    therapist_id: int
    payer_id: int | None
    currency: str
    amount: Decimal
    day: dt.date
    attendance: Attendance
    kind: object
    minutes: int
    authorization_id: int | None


def _uninvoiced(
    session: Session,
    through: dt.date,
    *,
    payer_id: int | None,
    self_pay: bool,
    participant_ids: Sequence[int] | None,
) -> list[_Charge]:
    """The uninvoiced charges up to `through`, by start, in one statement."""
    query = charges_query(
        missed_session_percent(),
        until=through,
        payer_id=payer_id,
        billed_to=BilledTo.CLIENT if self_pay else None,
    ).where(~exists().where(InvoiceLine.participant_id == Participant.id, InvoiceLine.holds))
    if participant_ids is not None:
        query = query.where(Participant.id.in_(list(participant_ids)))
    query = query.add_columns(
        Participant.attendance, Appointment.kind, Appointment.ends_at, Participant.authorization_id
    )
    return [
        _Charge(
            participant_id=row.participant_id,
            client_id=row.client_id,
            therapist_id=row.therapist_id,
            payer_id=row.payer_id,
            currency=row.currency,
            amount=from_cents(row.amount_cents),
            day=clinic_time.to_local(row.starts_at).date(),
            attendance=row.attendance,
            kind=row.kind,
            minutes=round((row.ends_at - row.starts_at).total_seconds() / 60),
            authorization_id=row.authorization_id if row.payer_id is not None else None,
        )
        for row in session.execute(query)
    ]


def _grouped(session: Session, charges: Iterable[_Charge]) -> dict[GroupKey, list[_Charge]]:
    per_period = set(session.scalars(select(Payer.id).where(Payer.invoice_grouping == InvoiceGrouping.PER_PERIOD)))
    groups: dict[GroupKey, list[_Charge]] = {}
    for charge in charges:
        client_id = None if charge.payer_id in per_period else charge.client_id
        groups.setdefault(GroupKey(charge.payer_id, client_id, charge.currency), []).append(charge)
    return groups


def _open_drafts(session: Session, groups: dict[GroupKey, list[_Charge]]) -> dict[GroupKey, int]:
    """The drafts already open for these groups (one statement): a run adds to them."""
    drafts = session.execute(
        select(Invoice.id, Invoice.payer_id, Invoice.client_id, Invoice.currency)
        .where(Invoice.status == InvoiceStatus.DRAFT)
        .order_by(Invoice.id)
    )
    found: dict[GroupKey, int] = {}
    for row in drafts:
        key = GroupKey(row.payer_id, row.client_id, row.currency)
        if key in groups:
            found.setdefault(key, row.id)
    return found


def _new_drafts(
    session: Session,
    run: InvoiceRun,
    keys: Sequence[GroupKey],
    groups: dict[GroupKey, list[_Charge]],
    through: dt.date,
    invoice_date: dt.date,
) -> dict[GroupKey, int]:
    """One bulk insert of the new drafts, then one SELECT of their ids (the run's drafts, by group)."""
    if not keys:
        return {}
    rows = [
        {
            "kind": InvoiceKind.INVOICE,
            "status": InvoiceStatus.DRAFT,
            "payer_id": key.payer_id,
            "client_id": key.client_id,
            "currency": key.currency,
            "invoice_date": invoice_date,
            "period_start": min(charge.day for charge in groups[key]),
            "period_end": through,
            "run_id": run.id,
            "created_at": utcnow(),
        }
        for key in keys
    ]
    bulk.insert_rows(session, Invoice, rows, render_nulls=True)
    made = session.execute(
        select(Invoice.id, Invoice.payer_id, Invoice.client_id, Invoice.currency).where(
            Invoice.run_id == run.id, Invoice.status == InvoiceStatus.DRAFT
        )
    )
    wanted = set(keys)
    return {key: row.id for row in made if (key := GroupKey(row.payer_id, row.client_id, row.currency)) in wanted}


def _extend(session: Session, invoice_ids: Sequence[int], through: dt.date, run_id: int, stamp: dict) -> None:
    """The open drafts a run adds to now reach `through` and belong to this run (one UPDATE, and
    its audit events in one batch)."""
    if invoice_ids:
        session.execute(
            update(Invoice)
            .where(Invoice.id.in_(list(invoice_ids)))
            .values(
                period_end=case((Invoice.period_end < through, through), else_=Invoice.period_end),
                run_id=run_id,
            )
            .execution_options(synchronize_session=False)
        )
        changed = {"period_end": through, "run_id": run_id}
        bulk.record_updates(
            session, stamp, [(Invoice.__tablename__, invoice_id, changed) for invoice_id in invoice_ids]
        )


def _write_lines(
    session: Session, groups: dict[GroupKey, list[_Charge]], drafts: dict[GroupKey, int], stamp: dict
) -> int:
    tax_rates = dict(session.execute(select(Payer.id, Payer.tax_rate)).all())
    # A run's lines say a handful of different things: each is translated once, not once a line.
    described = functools.cache(description)
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        rows = [
            _line(
                drafts[key],
                charge,
                tax_rates.get(charge.payer_id, Decimal("0")),
                described(charge.attendance, charge.kind, charge.minutes),
            )
            for key, charges in groups.items()
            for charge in charges
        ]
    bulk.insert_records(session, InvoiceLine, rows, stamp)
    return len(rows)


def _line(invoice_id: int, charge: _Charge, tax_rate: Decimal, text: str) -> dict:
    return {
        "invoice_id": invoice_id,
        "participant_id": charge.participant_id,
        "holds": True,
        "date_of_service": charge.day,
        "therapist_id": charge.therapist_id,
        "client_id": charge.client_id,
        "authorization_id": charge.authorization_id,
        "description": text,
        "charge_amount": charge.amount,
        "amount": charge.amount,
        "tax_rate": tax_rate,
        "tax": line_tax(charge.amount, tax_rate, charge.currency),
    }


def line_tax(amount: Decimal, tax_rate: Decimal, currency: str) -> Decimal:
    """A line's tax, rounded half-up to the cent on the line (DESIGN.md, "Money")."""
    return round_amount(amount * tax_rate / 100, currency)


def description(attendance: Attendance, kind, minutes: int) -> str:
    """What a line says it bills, in the practice's language at the time of the run."""
    if attendance == Attendance.NO_SHOW:
        return gettext("Missed session fee (no-show)")
    if attendance == Attendance.LATE_CANCELLED:
        return gettext("Late cancellation fee")
    return gettext("%(kind)s therapy session, %(minutes)d min", kind=choice_label(kind), minutes=minutes)
