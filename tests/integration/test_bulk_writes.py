"""Bulk writes (services.platform.bulk) write what the ORM would: on PostgreSQL one statement over
arrays, elsewhere executemany. A left-out or None column takes its default unless NULLs are
rendered; enums, decimals and booleans arrive as given; each record gets its audit event, chained."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AuditAction, AuditEvent, InvoiceGrouping, Payer, PayerKind
from admin_app.services.audit.chain import verify_chain
from admin_app.services.platform import bulk


def payers() -> dict[str, Payer]:
    db.session.expire_all()
    return {payer.name: payer for payer in db.session.scalars(select(Payer))}


def test_inserted_rows_take_their_defaults_and_values_as_given(app):
    rows = [
        {"name": "Pacific Blue", "kind": PayerKind.INSURER, "tax_rate": Decimal("5.25"), "invoice_prefix": "PB-"},
        {"name": "Harbour EAP", "kind": PayerKind.EMPLOYER, "payment_terms_days": None, "active": False},
    ]
    ids = bulk.insert_records(db.session, Payer, rows, bulk.audit_stamp())
    db.session.commit()

    found = payers()
    assert sorted(ids) == sorted(payer.id for payer in found.values())
    blue, harbour = found["Pacific Blue"], found["Harbour EAP"]
    assert (blue.kind, blue.tax_rate, blue.invoice_prefix, blue.payment_terms_days, blue.active) == (
        PayerKind.INSURER,
        Decimal("5.25"),
        "PB-",
        30,
        True,
    )
    assert (harbour.kind, harbour.tax_rate, harbour.invoice_prefix, harbour.payment_terms_days, harbour.active) == (
        PayerKind.EMPLOYER,
        Decimal("0.00"),
        None,
        30,
        False,
    )
    assert harbour.invoice_grouping == InvoiceGrouping.PER_CLIENT
    events = db.session.execute(select(AuditEvent.action, AuditEvent.entity, AuditEvent.entity_id)).all()
    assert sorted(events) == sorted((AuditAction.CREATE, "payer", id_) for id_ in ids)
    assert verify_chain(db.session).broken_at is None


def test_rendered_nulls_are_written_as_null(app):
    rows = [{"name": "Crime Victim Assistance", "kind": PayerKind.PUBLIC, "billing_email": None}]
    bulk.insert_rows(db.session, Payer, rows, render_nulls=True)
    db.session.commit()

    assert payers()["Crime Victim Assistance"].billing_email is None


def test_updates_by_id_change_each_row_and_are_audited(app):
    ids = bulk.insert_rows(
        db.session,
        Payer,
        [{"name": name, "kind": PayerKind.OTHER} for name in ("North Shore", "Island Health", "Coast Mutual")],
    )
    first, second, third = sorted(ids)
    changes = [
        (first, {"invoice_prefix": "NS-", "tax_rate": Decimal("12")}),
        (second, {"invoice_prefix": "IH-", "tax_rate": Decimal("7.5")}),
        (third, {"invoice_grouping": InvoiceGrouping.PER_PERIOD}),
    ]
    bulk.update_by_id(db.session, Payer, changes)
    bulk.record_updates(db.session, bulk.audit_stamp(), [("payer", id_, changed) for id_, changed in changes])
    db.session.commit()

    found = {payer.id: payer for payer in payers().values()}
    assert (found[first].invoice_prefix, found[first].tax_rate) == ("NS-", Decimal("12.00"))
    assert (found[second].invoice_prefix, found[second].tax_rate) == ("IH-", Decimal("7.50"))
    assert (found[third].invoice_prefix, found[third].invoice_grouping) == (None, InvoiceGrouping.PER_PERIOD)
    events = db.session.execute(
        select(AuditEvent.entity_id, AuditEvent.changed_fields).where(AuditEvent.action == AuditAction.UPDATE)
    ).all()
    assert sorted(events) == [
        (first, ["invoice_prefix", "tax_rate"]),
        (second, ["invoice_prefix", "tax_rate"]),
        (third, ["invoice_grouping"]),
    ]
    assert verify_chain(db.session).broken_at is None
