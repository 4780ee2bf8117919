"""The invoice run: drafts for the uninvoiced charges up to a date (DESIGN.md, "Invoices").

A charge is uninvoiced when no invoice line holds it. The run gathers those charges in one statement
into a temporary table (`CHARGES`), groups them as each bill-to asks (one draft per client and currency
by default; one per payer and currency where the payer invoices per period), adds them to the open
draft of the same group when there is one, else to a new draft (one bulk insert), and writes the lines
in one `INSERT ... SELECT` from that table: no charge is read into Python, only the groups and the few
kinds of line (their descriptions are translated here, once each).

Running it twice creates nothing new: the second run finds no uninvoiced charge. Two runs at once
cannot both invoice a charge either: the partial unique index on holding lines refuses the second,
whose transaction is rolled back with a message to run it again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale, gettext, lazy_gettext
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable, DropTable

from admin_app.models import (
    Appointment,
    AppointmentKind,
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
from admin_app.models.base import UTCDateTime, utcnow
from admin_app.services.billing.charges import charges_query, missed_session_percent
from admin_app.services.platform import bulk, clinic_time
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import choice_label
from admin_app.services.platform.money import amount_sql, cents_sql, percent_cents_sql, round_amount, step_cents_sql
from admin_app.services.platform.progress import Progress, ignore
from admin_app.services.platform.sql_time import epoch_seconds, local_date

RUN_STEPS = 4  # what `progress` counts: charges found, drafts extended, drafts made, lines written


# The charges a run invoices, gathered once: the groups read them, then the lines are written from
# them. A table of each connection's own (TEMPORARY), created and dropped by every run, in a metadata
# of its own (no migration knows it).
CHARGES = Table(
    "invoice_run_charge",
    MetaData(),
    Column("participant_id", Integer),
    Column("client_id", Integer),
    Column("therapist_id", Integer),
    Column("payer_id", Integer),  # None for a charge billed to the client
    Column("group_client_id", Integer),  # the client, None where the payer invoices per period
    Column("currency", String(3)),
    Column("amount_cents", BigInteger),
    Column("day", Date),  # the date of service, clinic time
    Column("starts_at", UTCDateTime),
    Column("attendance", String()),
    Column("kind", String()),
    Column("minutes", Integer),
    Column("authorization_id", Integer),
    prefixes=["TEMPORARY"],
)


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
    _gather(session, through, payer_id=payer_id, self_pay=self_pay, participant_ids=participant_ids)
    groups = _groups(session)
    if not groups:
        session.execute(DropTable(CHARGES))
        progress(RUN_STEPS, RUN_STEPS)
        return RunOutcome(run=None)
    progress(1, RUN_STEPS)
    run = InvoiceRun(through=through, payer_id=payer_id, self_pay=self_pay, created_by_id=user_id)
    session.add(run)
    session.flush()
    drafts = _open_drafts(session, groups)
    stamp = bulk.audit_stamp()
    _extend(session, list(drafts.values()), through, run.id, stamp)
    progress(2, RUN_STEPS)
    new_keys = [key for key in groups if key not in drafts]
    new = _new_drafts(session, run, new_keys, groups, through, invoice_date or clinic_time.today())
    bulk.record_creations(session, stamp, Invoice.__tablename__, new)
    progress(3, RUN_STEPS)
    outcome = RunOutcome(run=run, new_drafts=len(new), extended_drafts=len(drafts))
    outcome.lines = _write_lines(session, run, stamp)
    session.execute(DropTable(CHARGES))
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


def _gather(
    session: Session,
    through: dt.date,
    *,
    payer_id: int | None,
    self_pay: bool,
    participant_ids: Sequence[int] | None,
) -> None:
    """The uninvoiced charges up to `through` into `CHARGES` (created here), in one statement. A run
    that failed leaves no table on PostgreSQL (its rollback drops it) but may on SQLite: it goes first."""
    session.execute(DropTable(CHARGES, if_exists=True))
    session.execute(CreateTable(CHARGES))
    query = charges_query(
        missed_session_percent(),
        until=through,
        payer_id=payer_id,
        billed_to=BilledTo.CLIENT if self_pay else None,
    ).where(~exists().where(InvoiceLine.participant_id == Participant.id, InvoiceLine.holds))
    if participant_ids is not None:
        query = query.where(Participant.id.in_(list(participant_ids)))
    charge = (
        query.add_columns(Participant.attendance, Appointment.kind, Appointment.ends_at, Participant.authorization_id)
        .order_by(None)
        .subquery("charge")
    )
    c = charge.c
    per_period = select(Payer.id).where(Payer.invoice_grouping == InvoiceGrouping.PER_PERIOD)
    seconds = epoch_seconds(c.ends_at) - epoch_seconds(c.starts_at)
    columns = {
        "participant_id": c.participant_id,
        "client_id": c.client_id,
        "therapist_id": c.therapist_id,
        "payer_id": c.payer_id,
        "group_client_id": case((c.payer_id.in_(per_period), None), else_=c.client_id),
        "currency": c.currency,
        "amount_cents": c.amount_cents,
        "day": local_date(c.starts_at),
        "starts_at": c.starts_at,
        "attendance": c.attendance,
        "kind": c.kind,
        "minutes": (seconds + 30) // 60,
        "authorization_id": case((c.payer_id.is_not(None), c.authorization_id), else_=None),
    }
    session.execute(insert(CHARGES).from_select(list(columns), select(*columns.values())))


def _groups(session: Session) -> dict[GroupKey, dt.date]:
    """The drafts the charges ask for, each with its first date of service, in the order of their first
    charge (one statement)."""
    c = CHARGES.c
    rows = session.execute(
        select(c.payer_id, c.group_client_id, c.currency, func.min(c.day))
        .group_by(c.payer_id, c.group_client_id, c.currency)
        .order_by(func.min(c.starts_at), func.min(c.participant_id))
    )
    return {GroupKey(payer, client, currency): first_day for payer, client, currency, first_day in rows}


def _open_drafts(session: Session, groups: dict[GroupKey, dt.date]) -> dict[GroupKey, int]:
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
    groups: dict[GroupKey, dt.date],
    through: dt.date,
    invoice_date: dt.date,
) -> list[int]:
    """One bulk insert of the new drafts; their ids."""
    rows = [
        {
            "kind": InvoiceKind.INVOICE,
            "status": InvoiceStatus.DRAFT,
            "payer_id": key.payer_id,
            "client_id": key.client_id,
            "currency": key.currency,
            "invoice_date": invoice_date,
            "period_start": groups[key],
            "period_end": through,
            "run_id": run.id,
            "created_at": utcnow(),
        }
        for key in keys
    ]
    return sorted(bulk.insert_rows(session, Invoice, rows, render_nulls=True))


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


def _write_lines(session: Session, run: InvoiceRun, stamp: dict) -> int:
    """Every charge a line on its group's draft (the run's drafts: one per group), in one
    `INSERT ... SELECT`, by draft and start; their creation recorded. How many."""
    c = CHARGES.c
    tax_rate = func.coalesce(Payer.tax_rate, 0)
    # The tax of each line, rounded half-up to the currency's smallest unit (`line_tax`).
    tax_cents = percent_cents_sql(c.amount_cents, cents_sql(tax_rate), step_cents_sql(c.currency))
    columns = {
        "invoice_id": Invoice.id,
        "participant_id": c.participant_id,
        "holds": true(),
        "date_of_service": c.day,
        "therapist_id": c.therapist_id,
        "client_id": c.client_id,
        "authorization_id": c.authorization_id,
        "description": _descriptions(session),
        "charge_amount": amount_sql(c.amount_cents),
        "amount": amount_sql(c.amount_cents),
        "tax_rate": tax_rate,
        "tax": amount_sql(tax_cents),
    }
    in_group = and_(
        Invoice.run_id == run.id,
        Invoice.status == InvoiceStatus.DRAFT,
        func.coalesce(Invoice.payer_id, 0) == func.coalesce(c.payer_id, 0),
        func.coalesce(Invoice.client_id, 0) == func.coalesce(c.group_client_id, 0),
        Invoice.currency == c.currency,
    )
    rows = (
        select(*columns.values())
        .select_from(CHARGES)
        .join(Invoice, in_group)
        .outerjoin(Payer, Payer.id == c.payer_id)
        .order_by(Invoice.id, c.starts_at, c.participant_id)
    )
    written = session.scalars(insert(InvoiceLine).from_select(list(columns), rows).returning(InvoiceLine.id))
    ids = sorted(written)
    bulk.record_creations(session, stamp, InvoiceLine.__tablename__, ids)
    return len(ids)


def _descriptions(session: Session):
    """What each line says it bills (`description`), in the practice's language at the time of the
    run, as SQL: a run's lines say a handful of different things, each translated once."""
    c = CHARGES.c
    kinds = session.execute(select(c.attendance, c.kind, c.minutes).distinct()).all()
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        texts = [
            (
                and_(c.attendance == attendance, c.kind == kind, c.minutes == minutes),
                description(Attendance(attendance), AppointmentKind(kind), minutes),
            )
            for attendance, kind, minutes in kinds
        ]
    return case(*texts, else_=None)


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
