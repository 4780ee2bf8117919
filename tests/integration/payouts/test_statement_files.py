"""Payout statements as files, read back as a therapist reads them: the PDF's text (real wkhtmltopdf,
pypdf) and the ZIP's entries, with the figures the statement screen shows (statement_detail) and the
figures worked out by hand.

October 2026 in Lima. Lucía Torres (40 % commission):
- Ana, 6 Oct, 120.00 PEN to ICBC, paid in full on 20 Oct → paid line, earning 48.00 PEN;
- Ben, 8 Oct, 150.00 PEN to ICBC, paid on 10 Nov → held (invoiced, not paid), 60.00 PEN once paid;
- Carla, 12 Oct, 100.00 USD self-pay, paid the same day → paid line, earning 40.00 USD;
- an adjustment of -10.00 PEN ("Correction of September: one session counted twice").
Totals: PEN earned 48.00, adjustments -10.00, due 38.00, held 60.00; USD earned 40.00, due 40.00.
Ana Ruiz (service fee 30.00): Dan, 9 Oct, 90.00 PEN self-pay, paid that day → earning 60.00 PEN.
Approved in the order of the names: Ana Ruiz PS-000001, Lucía Torres PS-000002.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import AuditEvent, PaymentMethod
from admin_app.services.billing import payments
from admin_app.services.payouts import statement_files, statements
from admin_app.services.payouts.run import payout_run
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.money import format_money
from admin_app.services.platform.months import Month
from tests.factories import book, issued_invoice, make_client, make_payer, make_therapist
from tests.integration.test_month_report import pdf_text
from tests.queries import counted_queries

pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)

OCTOBER = Month(2026, 10)
D = Decimal


def shown(amount: Decimal, currency: str, language: str) -> str:
    """The amount as the PDF's text reads back (its non-breaking spaces read as spaces)."""
    return " ".join(format_money(amount, currency, language).split())


@pytest.fixture
def october(app, monkeypatch):
    """October's two statements, run and adjusted (drafts); returns their ids (Lucía's, Ana Ruiz's)."""
    monkeypatch.setitem(app.config, "PRACTICE_NAME", "Centro Miraflores")
    monkeypatch.setitem(app.config, "PRACTICE_ADDRESS", "Av. Larco 101, Lima")
    lucia = make_therapist(full_name="Lucía Torres")
    ruiz = make_therapist(full_name="Ana Ruiz", service_fee=D("30.00"))
    icbc = make_payer("ICBC")
    ana, ben, carla = (make_client(lucia, full_name=name) for name in ("Ana Díaz", "Ben Soto", "Carla Vega"))
    dan = make_client(ruiz, full_name="Dan Quispe")

    def on(therapist, day, client, fee, payer=None, currency="PEN"):
        start = dt.datetime(2026, 10, day, 10, 0)
        return book(therapist, [client], start, fee=fee, payer=payer, currency=currency).participants[0]

    first, second = (
        issued_invoice(icbc, [on(lucia, day, who, fee, icbc)])
        for day, who, fee in ((6, ana, "120.00"), (8, ben, "150.00"))
    )
    on(lucia, 12, carla, "100.00", currency="USD")
    on(ruiz, 9, dan, "90.00")
    by_icbc = dict(method=PaymentMethod.TRANSFER, currency="PEN", payer_id=icbc.id)
    payments.record_payer_payment(
        db.session, received_on=dt.date(2026, 10, 20), amount=D("120.00"), invoice_ids=[first.id], **by_icbc
    )
    payments.record_payer_payment(
        db.session, received_on=dt.date(2026, 11, 10), amount=D("150.00"), invoice_ids=[second.id], **by_icbc
    )
    for client, amount, currency, day in ((carla, "100.00", "USD", 12), (dan, "90.00", "PEN", 9)):
        payments.record_client_payment(
            db.session,
            client_id=client.id,
            received_on=dt.date(2026, 10, day),
            amount=D(amount),
            currency=currency,
            method=PaymentMethod.CASH,
        )
    db.session.commit()
    payout_run(db.session, OCTOBER)
    ids = {row.therapist_name: row.statement_id for row in statements.month_overview(db.session, OCTOBER)}
    statements.add_adjustment(
        db.session,
        ids["Lucía Torres"],
        amount="-10.00",
        currency="PEN",
        reason="Correction of September: one session counted twice",
    )
    db.session.commit()
    return ids["Lucía Torres"], ids["Ana Ruiz"]


def exports(statement_id: int | None) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "export",
            AuditEvent.entity == "payout_statement",
            AuditEvent.entity_id.is_(None) if statement_id is None else AuditEvent.entity_id == statement_id,
        )
    )


def test_the_screens_figures_are_the_hand_computed_ones(october):
    lucia, ruiz = october
    detail = statements.statement_detail(db.session, lucia)
    assert [(line.date_of_service.day, line.currency, line.earning) for line in detail.lines] == [
        (6, "PEN", D("48.00")),
        (12, "USD", D("40.00")),
    ]
    assert [(line.date_of_service.day, line.earning) for line in detail.held_lines] == [(8, D("60.00"))]
    assert detail.earned == {"PEN": D("48.00"), "USD": D("40.00")}
    assert detail.adjusted == {"PEN": D("-10.00")}
    assert detail.due == {"PEN": D("38.00"), "USD": D("40.00")}
    assert detail.held == {"PEN": D("60.00")}
    assert statements.statement_detail(db.session, ruiz).due == {"PEN": D("60.00")}


@pytest.mark.parametrize(("language", "month_label"), [("en", "October 2026"), ("es", "octubre de 2026")])
def test_the_pdf_shows_the_screens_figures(october, language, month_label):
    lucia, ruiz = october
    statements.approve(db.session, [lucia, ruiz])
    db.session.commit()
    detail = statements.statement_detail(db.session, lucia)

    document = statement_files.statement_pdf(db.session, lucia, language=language)
    db.session.commit()

    assert document.mimetype == "application/pdf"
    assert document.filename == "2026-10-lucia-torres-ps-000002.pdf"
    text = pdf_text(document.content)
    assert month_label in text and "Lucía Torres" in text and "PS-000002" in text
    assert "Centro Miraflores Av. Larco 101, Lima" in text

    # The paid lines: date, client, payer (or self-pay), amount, collected, terms, earning.
    def pen(amount: str) -> str:
        return shown(D(amount), "PEN", language)

    def usd(amount: str) -> str:
        return shown(D(amount), "USD", language)

    assert f"2026-10-06 Ana Díaz ICBC {pen('120.00')} {pen('120.00')} 40 % {pen('48.00')}" in text
    assert "2026-10-12 Carla Vega" in text and f"{usd('100.00')} {usd('100.00')} 40 % {usd('40.00')}" in text
    # The held line, with what it will bring once paid.
    assert f"2026-10-08 Ben Soto ICBC {pen('150.00')}" in text and pen("60.00") in text
    assert "Correction of September: one session counted twice" in text and pen("-10.00") in text
    # Totals per currency, in the order earned, adjustments, due, held: the screen's figures.
    zero = D("0")
    for currency in ("PEN", "USD"):
        row = " ".join(
            shown(totals.get(currency, zero), currency, language)
            for totals in (detail.earned, detail.adjusted, detail.due, detail.held)
        )
        assert f"{currency} {row}" in text, (currency, row)
    assert f"PEN {pen('48.00')} {pen('-10.00')} {pen('38.00')} {pen('60.00')}" in text
    assert f"USD {usd('40.00')} {usd('0.00')} {usd('40.00')} {usd('0.00')}" in text
    assert text.rstrip().endswith("1 / 1")  # the page number
    assert exports(lucia) == 1


def test_the_pdf_in_english_names_why_a_line_is_held_and_the_terms(october):
    lucia, ruiz = october
    text = pdf_text(statement_files.statement_pdf(db.session, lucia, language="en").content)
    assert "Number: Draft" in text and "Status: Draft" in text
    assert "2026-10-12 Carla Vega Self-pay" in text
    assert f"2026-10-08 Ben Soto ICBC {shown(D('150.00'), 'PEN', 'en')} Invoiced, not paid yet" in text
    ruiz_text = pdf_text(statement_files.statement_pdf(db.session, ruiz, language="en").content)
    assert f"2026-10-09 Dan Quispe Self-pay {shown(D('90.00'), 'PEN', 'en')}" in ruiz_text
    assert f"service fee {shown(D('30.00'), 'PEN', 'en')} {shown(D('60.00'), 'PEN', 'en')}" in ruiz_text


def test_the_email_attachment_is_the_same_pdf_and_no_export(october):
    lucia, _ruiz = october
    name, content = statement_files.statement_pdf_bytes(db.session, lucia, language="es")
    assert name == "2026-10-lucia-torres-draft.pdf"
    assert shown(D("38.00"), "PEN", "es") in pdf_text(content)
    assert exports(lucia) == 0


def test_an_export_made_for_someone_names_them(october):
    lucia, _ruiz = october
    statement_files.statement_pdf(db.session, lucia, language="en", actor=(None, "payouts job"))
    db.session.commit()
    assert db.session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "export")).all() == ["payouts job"]


def test_the_months_zip_holds_one_pdf_per_statement(october):
    lucia, ruiz = october
    statements.approve(db.session, [lucia, ruiz])
    db.session.commit()

    with counted_queries() as queries:
        details = statement_files.month_details(db.session, OCTOBER)
    assert [detail.statement.id for detail in details] == [ruiz, lucia]
    assert len(queries) <= 6  # statements, therapists, adjustments, lines, clients, payers: any number of statements

    document = statement_files.month_zip(db.session, OCTOBER, language="en")
    db.session.commit()

    assert document.filename == "2026-10-payout-statements.zip"
    with zipfile.ZipFile(io.BytesIO(document.content)) as bundle:
        names = bundle.namelist()
        assert names == ["2026-10-ana-ruiz-ps-000001.pdf", "2026-10-lucia-torres-ps-000002.pdf"]
        assert all(name.isascii() for name in names)
        ruiz_text = pdf_text(bundle.read(names[0]))
        lucia_text = pdf_text(bundle.read(names[1]))
    assert "Ana Ruiz" in ruiz_text and "PS-000001" in ruiz_text
    assert "Lucía Torres" in lucia_text and "PS-000002" in lucia_text
    assert f"PEN {' '.join(shown(D(a), 'PEN', 'en') for a in ('48.00', '-10.00', '38.00', '60.00'))}" in lucia_text
    assert exports(None) == 1


def test_an_accented_name_gives_an_ascii_file_name(app):
    therapist = make_therapist(full_name="Zoë Ñúñez-Ågård")
    client = make_client(therapist, full_name="Eva")
    book(therapist, [client], dt.datetime(2026, 10, 5, 9, 0), fee="80.00")
    db.session.commit()
    payout_run(db.session, OCTOBER)
    db.session.commit()
    [row] = statements.month_overview(db.session, OCTOBER)
    document = statement_files.statement_pdf(db.session, row.statement_id, language="es")
    assert document.filename == "2026-10-zoe-nunez-agard-draft.pdf"
    assert "Zoë Ñúñez-Ågård" in pdf_text(document.content)


def test_a_month_without_statements_or_a_wrong_month_is_refused(app):
    with pytest.raises(RuleViolation, match="No payout statements for October 2026"):
        statement_files.month_zip(db.session, OCTOBER, language="en")
    with pytest.raises(RuleViolation, match="month: expected a month as YYYY-MM, got 2026-13"):
        statement_files.month_zip(db.session, "2026-13", language="en")
