"""The invoice run, draft editing, issuing and voiding (DESIGN.md, "Invoices").

October 2026 in Lima, missed sessions at 50 %, figured by hand:
- Ana (ICBC, one invoice per client): 6 Oct attended 120.00 PEN → ICBC; 7 Oct no-show, fee 100.00 →
  50.00 PEN to Ana herself (never ICBC); 2 Nov attended 120.00 → after the run's date.
- Ben (ICBC): 8 Oct attended 150.00 PEN → ICBC.
- Carla (pays herself): 9 Oct 90.00 PEN and 12 Oct 100.00 USD → two drafts, one per currency.
- Dan and Eva (Acme EAP, one invoice per period): 13 and 14 Oct, 110.00 PEN each → one draft, 220.00.
A run through 31 Oct gives 6 drafts and 7 lines: ICBC/Ana 120.00, ICBC/Ben 150.00, Ana 50.00,
Carla 90.00 PEN, Carla 100.00 USD, Acme 220.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    Allocation,
    AllocationKind,
    Attendance,
    AuditAction,
    AuditEvent,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Participant,
)
from admin_app.services.billing import drafts, issuing
from admin_app.services.billing.authorizations import authorization_rows
from admin_app.services.billing.invoice_run import commit_run, invoice_run
from admin_app.services.billing.linking import link_waiting
from admin_app.services.platform.errors import RuleViolation
from tests.factories import make_authorization
from tests.queries import counted_queries

OCTOBER_END = dt.date(2026, 10, 31)
NOW = "2026-11-05T15:00Z"
pytestmark = pytest.mark.parametrize("clock", [NOW], indirect=True)


def drafts_seen():
    """(bill-to, currency, [(day, amount)]) for each invoice, by id."""
    seen = []
    for invoice in db.session.scalars(select(Invoice).order_by(Invoice.id)):
        bill_to = " / ".join(
            filter(None, [invoice.payer and invoice.payer.name, invoice.client and invoice.client.full_name])
        )
        lines = [(line.date_of_service.day, line.amount) for line in invoice.lines if line.holds]
        seen.append((bill_to, invoice.currency, lines))
    return seen


def test_a_run_drafts_one_invoice_per_bill_to_and_currency_as_each_payer_asks(october):
    outcome = commit_run(db.session, through=OCTOBER_END)

    assert (outcome.new_drafts, outcome.extended_drafts, outcome.lines) == (6, 0, 7)
    assert drafts_seen() == [
        ("ICBC / Ana", "PEN", [(6, Decimal("120.00"))]),
        ("Ana", "PEN", [(7, Decimal("50.00"))]),
        ("ICBC / Ben", "PEN", [(8, Decimal("150.00"))]),
        ("Carla", "PEN", [(9, Decimal("90.00"))]),
        ("Carla", "USD", [(12, Decimal("100.00"))]),
        ("Acme EAP", "PEN", [(13, Decimal("110.00")), (14, Decimal("110.00"))]),
    ]


def test_a_run_dates_its_new_drafts_today_or_on_the_day_given(october):
    invoice_run(db.session, through=dt.date(2026, 10, 10), invoice_date=dt.date(2026, 11, 1))
    invoice_run(db.session, through=OCTOBER_END)

    dated = db.session.execute(
        select(Invoice.client_id, Invoice.currency, Invoice.invoice_date).where(Invoice.payer_id.is_(None))
    ).all()
    # The first run took Ana's no-show and Carla's soles; Carla's dollars (12 October) came with the second.
    ana, carla = october["Ana"].id, october["Carla"].id
    assert set(dated) == {
        (ana, "PEN", dt.date(2026, 11, 1)),
        (carla, "PEN", dt.date(2026, 11, 1)),
        (carla, "USD", dt.date(2026, 11, 5)),
    }


def test_a_missed_session_fee_is_never_on_a_payer_invoice(october):
    commit_run(db.session, through=OCTOBER_END)

    on_payer_invoices = db.session.execute(
        select(Participant.attendance, InvoiceLine.description)
        .join(InvoiceLine, InvoiceLine.participant_id == Participant.id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.payer_id.is_not(None))
    ).all()
    assert {attendance for attendance, _ in on_payer_invoices} == {Attendance.ATTENDED}
    missed = db.session.scalars(select(InvoiceLine).where(InvoiceLine.amount == Decimal("50.00"))).one()
    assert (missed.invoice.payer_id, missed.invoice.client.full_name) == (None, "Ana")
    assert missed.description == "Missed session fee (no-show)"


def test_running_it_again_creates_nothing_and_a_later_run_adds_to_the_open_draft(october):
    commit_run(db.session, through=OCTOBER_END)

    again = commit_run(db.session, through=OCTOBER_END)

    assert again.run is None
    assert db.session.scalar(select(func.count(Invoice.id))) == 6
    november = commit_run(db.session, through=dt.date(2026, 11, 30), payer_id=october["icbc"].id)
    assert (november.new_drafts, november.extended_drafts, november.lines) == (0, 1, 1)
    assert drafts_seen()[0] == ("ICBC / Ana", "PEN", [(6, Decimal("120.00")), (2, Decimal("120.00"))])


def test_a_run_for_one_payer_or_for_self_pay_takes_only_those(october):
    icbc = commit_run(db.session, through=OCTOBER_END, payer_id=october["icbc"].id)
    assert (icbc.new_drafts, icbc.lines) == (2, 2)

    clients = commit_run(db.session, through=OCTOBER_END, self_pay=True)

    assert (clients.new_drafts, clients.lines) == (3, 3)
    assert {invoice.payer_id for invoice in db.session.scalars(select(Invoice)).all()} == {october["icbc"].id, None}


def test_invoice_selected_takes_only_the_chosen_charges(october):
    chosen = db.session.scalars(
        select(Participant.id).where(Participant.client_id.in_([october["Dan"].id, october["Carla"].id]))
    ).all()

    outcome = commit_run(db.session, through=OCTOBER_END, participant_ids=chosen)

    assert (outcome.new_drafts, outcome.lines) == (3, 3)


def test_the_run_is_a_few_statements_whatever_the_number_of_charges(october):
    with counted_queries() as statements:
        invoice_run(db.session, through=OCTOBER_END)
        db.session.flush()
    # 10, the audit chain's two per transaction (its lock, then the read of its last row), and the
    # three of the run's table of charges (dropped if a failed run left it, created, dropped)
    assert len(statements) <= 15, "\n".join(statements)


def test_an_edited_draft_keeps_what_staff_changed_and_gives_removed_charges_back(october):
    commit_run(db.session, through=OCTOBER_END)
    acme = db.session.scalars(select(Invoice).where(Invoice.payer_id == october["acme"].id)).one()
    dan, eva = acme.lines

    with pytest.raises(RuleViolation, match="reason"):
        drafts.adjust_line(dan, "100.00", "")
    drafts.adjust_line(dan, "100.00", "Agreed EAP rate")
    drafts.remove_line(db.session, eva)
    drafts.set_notes(acme, "PO 4471")
    drafts.set_invoice_date(acme, dt.date(2026, 11, 2))
    db.session.commit()

    db.session.expire_all()
    assert [(line.amount, line.charge_amount, line.adjustment_reason) for line in acme.lines] == [
        (Decimal("100.00"), Decimal("110.00"), "Agreed EAP rate")
    ]
    assert (acme.notes, acme.invoice_date) == ("PO 4471", dt.date(2026, 11, 2))
    again = commit_run(db.session, through=OCTOBER_END)
    assert (again.new_drafts, again.extended_drafts, again.lines) == (0, 1, 1)  # Eva's session, back on Acme's draft


def test_an_adjusted_line_carries_its_tax_rounded_half_up(october):
    october["icbc"].tax_rate = Decimal("5")
    db.session.commit()
    commit_run(db.session, through=OCTOBER_END, payer_id=october["icbc"].id)
    line = db.session.scalars(select(InvoiceLine).where(InvoiceLine.amount == Decimal("150.00"))).one()
    assert line.tax == Decimal("7.50")

    drafts.adjust_line(line, "100.10", "Rate agreed with the adjuster")

    assert (line.amount, line.tax, line.total) == (Decimal("100.10"), Decimal("5.01"), Decimal("105.11"))


def test_issuing_numbers_each_series_in_order_and_the_invoice_is_then_read_only(october):
    commit_run(db.session, through=OCTOBER_END)

    loaded = db.session.scalars(select(Invoice).order_by(Invoice.id)).all()
    issued = issuing.issue(db.session, issuing.all_drafts(db.session))
    # The drafts the session held read as issued (the bulk UPDATE goes around it), before any commit.
    assert [(invoice.status, invoice.number) for invoice in loaded] == [
        (InvoiceStatus.ISSUED, each.number) for each in issued
    ]
    db.session.commit()

    assert [invoice.number for invoice in issued] == [
        "ICBC-000001",
        "INV-000001",
        "ICBC-000002",
        "INV-000002",
        "INV-000003",
        "INV-000004",
    ]
    assert [invoice.id for invoice in issued] == [invoice.id for invoice in loaded]
    audited = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "invoice", AuditEvent.action == AuditAction.UPDATE)
    ).all()
    assert sorted(event.entity_id for event in audited) == [invoice.id for invoice in issued]
    assert set(audited[0].changed_fields) == {"status", "series", "number", "issued_at"}
    first = loaded[0]
    with pytest.raises(RuleViolation, match="ICBC-000001 is issued"):
        drafts.adjust_line(first.lines[0], "1.00", "typo")
    with pytest.raises(RuleViolation, match="ICBC-000001 is issued"):
        drafts.set_notes(first, "changed")
    with pytest.raises(RuleViolation, match="already issued"):
        issuing.issue(db.session, [first.id])


def test_issuing_is_all_or_nothing_and_never_post_dated(october, clock):
    commit_run(db.session, through=OCTOBER_END)
    carla = db.session.scalars(select(Invoice).where(Invoice.currency == "USD")).one()
    drafts.set_invoice_date(carla, clock.today("America/Lima") + dt.timedelta(days=1))
    early = db.session.scalars(select(Invoice).where(Invoice.payer_id == october["acme"].id)).one()
    drafts.set_invoice_date(early, dt.date(2026, 10, 13))
    db.session.commit()

    with pytest.raises(RuleViolation) as refused:
        issuing.issue(db.session, issuing.all_drafts(db.session))
    db.session.rollback()

    assert "never post-dated" in str(refused.value)
    assert "before its last date of service (2026-10-14)" in str(refused.value)
    assert db.session.scalar(select(func.count(Invoice.id)).where(Invoice.number.is_not(None))) == 0


def test_an_invoice_the_session_holds_reads_as_issued_after_issuing(october):
    commit_run(db.session, through=OCTOBER_END)
    held = db.session.scalars(select(Invoice).where(Invoice.currency == "USD")).one()
    assert held.status == InvoiceStatus.DRAFT

    issuing.issue(db.session, issuing.all_drafts(db.session))

    assert held.status == InvoiceStatus.ISSUED
    assert held.number.startswith("INV-")


def test_a_draft_without_lines_and_an_invoice_that_does_not_exist_are_refused_by_name(october):
    commit_run(db.session, through=OCTOBER_END)
    carla = db.session.scalars(select(Invoice).where(Invoice.currency == "USD")).one()
    empty = Invoice(
        client_id=carla.client_id, currency="PEN", invoice_date=dt.date(2026, 11, 1), period_end=OCTOBER_END
    )
    db.session.add(empty)
    db.session.commit()

    with pytest.raises(RuleViolation) as refused:
        issuing.issue(db.session, [carla.id, empty.id, 999999])
    db.session.rollback()

    assert str(refused.value) == (
        f"Nothing was issued: 2 problems. Invoice 999999 does not exist. Draft {empty.id} has no lines."
    )
    assert db.session.scalar(select(func.count(Invoice.id)).where(Invoice.number.is_not(None))) == 0


def test_voiding_issues_a_credit_note_and_frees_the_charges(october):
    commit_run(db.session, through=OCTOBER_END, payer_id=october["icbc"].id)
    issuing.issue(db.session, issuing.all_drafts(db.session))
    db.session.commit()
    ben = db.session.scalars(select(Invoice).where(Invoice.client_id == october["Ben"].id)).one()

    with pytest.raises(RuleViolation, match="reason"):
        issuing.void(db.session, ben, " ")
    credit = issuing.void(db.session, ben, "Wrong claim number")
    db.session.commit()

    assert (ben.status, ben.void_reason) == (InvoiceStatus.VOID, "Wrong claim number")
    assert (credit.kind, credit.number, credit.credits_id) == (InvoiceKind.CREDIT_NOTE, "CN-000001", ben.id)
    assert [(line.date_of_service.day, line.amount) for line in credit.lines] == [(8, Decimal("-150.00"))]
    again = commit_run(db.session, through=OCTOBER_END, payer_id=october["icbc"].id)
    assert (again.new_drafts, again.lines) == (1, 1)
    redraft = db.session.scalars(select(Invoice).where(Invoice.status == InvoiceStatus.DRAFT)).one()
    assert (redraft.client_id, redraft.status) == (october["Ben"].id, InvoiceStatus.DRAFT)
    with pytest.raises(RuleViolation, match="Only an issued invoice"):
        issuing.void(db.session, ben, "again")


def test_an_invoice_with_a_payment_applied_cannot_be_voided(october):
    commit_run(db.session, through=OCTOBER_END, payer_id=october["icbc"].id)
    (ana, _ben) = (
        db.session.get(Invoice, each.id) for each in issuing.issue(db.session, issuing.all_drafts(db.session))
    )
    db.session.add(
        Allocation(
            participant_id=ana.lines[0].participant_id,
            kind=AllocationKind.WRITTEN_OFF,
            amount=Decimal("10.00"),
            currency="PEN",
            applied_on=dt.date(2026, 11, 5),
            reason="Goodwill",
        )
    )
    db.session.commit()

    with pytest.raises(RuleViolation, match="ICBC-000001 has payments"):
        issuing.void(db.session, ana, "Wrong amount")


def test_the_commands_run_and_issue_as_the_screens_do(october, runner):
    ran = runner.invoke(args=["billing", "invoice-run", "--through", "2026-10-31", "--payer", "icbc"])
    assert ran.exit_code == 0, ran.output
    assert "2 charge(s) on 2 new draft(s) and 0 existing draft(s)" in ran.output
    again = runner.invoke(args=["billing", "invoice-run", "--through", "2026-10-31", "--payer", "ICBC"])
    assert "Nothing to invoice through 2026-10-31." in again.output
    unknown = runner.invoke(args=["billing", "invoice-run", "--through", "2026-10-31", "--payer", "Nobody"])
    assert (unknown.exit_code, "No payer is called Nobody.") == (1, unknown.output.strip().removeprefix("Error: "))

    issued = runner.invoke(args=["billing", "issue", "--all-drafts"])

    assert issued.exit_code == 0, issued.output
    assert "Issued 2 invoice(s): ICBC-000001 to ICBC-000002." in issued.output
    nothing = runner.invoke(args=["billing", "issue", "--all-drafts"])
    assert "No drafts to issue." in nothing.output


def test_an_authorization_counts_as_billed_the_charges_on_issued_invoices_only(october):
    """Ana's ICBC authorization covers 6 Oct and 2 Nov: a draft bills nothing, an issued invoice
    bills what it holds, a void one nothing again."""
    icbc, ana = october["icbc"], october["Ana"]
    authorization = make_authorization(ana, icbc, 10, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="CLM-1")
    link_waiting(db.session, [(ana.id, icbc.id)])
    db.session.commit()

    def billed():
        (row,) = authorization_rows(db.session, ids=[authorization.id])
        return row.counts.billed

    commit_run(db.session, through=OCTOBER_END, payer_id=icbc.id)
    assert billed() == 0
    (invoice, _ben) = (
        db.session.get(Invoice, each.id) for each in issuing.issue(db.session, issuing.all_drafts(db.session))
    )
    assert billed() == 1
    issuing.void(db.session, invoice, "Wrong claim number")
    assert billed() == 0
