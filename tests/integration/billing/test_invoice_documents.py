"""Invoice documents read back as a payer reads them: the PDF's text (real wkhtmltopdf, pypdf), the
workbook's cells (openpyxl), the ZIP's entries; figures equal to what the service computed and to
the October invoices figured by hand (tests/factories/invoices.py)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from flask import render_template
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import AuditEvent
from admin_app.services.billing import drafts, invoice_files, issuing
from admin_app.services.billing.invoice_documents import Category, invoice_document, invoice_documents
from admin_app.services.billing.invoice_run import commit_run
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.money import format_money
from tests.conftest import sign_in_therapist
from tests.factories import book
from tests.factories.invoices import issued_october
from tests.integration.test_month_report import pdf_text
from tests.pages import flashed, table_rows
from tests.queries import counted_queries

pytestmark = pytest.mark.parametrize("clock", ["2026-11-05T15:00Z"], indirect=True)


@pytest.fixture
def october(app):
    return issued_october()


def shown(amount: Decimal) -> str:
    """The amount as the PDF's text reads back (its non-breaking space read as a space)."""
    return " ".join(format_money(amount, "PEN", "en").split())


def workbook(content) -> openpyxl.Workbook:
    data = content.read() if hasattr(content, "read") else content
    return openpyxl.load_workbook(io.BytesIO(data))


def cells(sheet) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def labelled(rows, label: str):
    """The last cell of the row whose first cell is `label`."""
    [row] = [row for row in rows if row and row[0] == label]
    return [cell for cell in row if cell is not None][-1]


def test_a_payer_invoice_pdf_carries_what_the_payer_checks_with_the_services_figures(october):
    invoice = invoice_document(db.session, october.ana_invoice.id)

    document = invoice_files.invoice_pdf(db.session, invoice.id, language="en")

    text = pdf_text(document.content)
    assert document.filename == "icbc-000001-clm-88812345.pdf"
    for expected in (
        "Invoice",
        "Number: ICBC-000001",
        "Date: 2026-11-05",
        "Vendor number: V-778812",
        "Bill to ICBC PO Box 2100, Vancouver BC",
        "Client: Ana Díaz",
        "Date of birth: 1990-04-12",
        "Claim reference: CLM-88812345",
        "Lucía Torres, R.Psych., registration 01234 (CHCPBC)",
    ):
        assert expected in text, expected
    assert [(line.amount, line.tax, line.total) for line in invoice.lines] == [
        (Decimal("120.00"), Decimal("6.00"), Decimal("126.00")),
        (Decimal("120.00"), Decimal("6.00"), Decimal("126.00")),
    ]
    for line in invoice.lines:
        figures = f"{shown(line.amount)} 5 % {shown(line.tax)} {shown(line.total)}"
        assert f"{line.date_of_service.isoformat()} {line.description} {figures}" in text
    assert invoice.total == Decimal("252.00")
    assert f"Total (PEN) {shown(invoice.total)}" in text
    assert "Ana Díaz" not in document.filename


def test_a_per_period_invoice_names_each_lines_client_and_a_provisional_therapists_supervisor(october):
    invoice = invoice_document(db.session, october.acme_invoice.id)

    text = pdf_text(invoice_files.invoice_pdf(db.session, invoice.id, language="en").content)

    assert "2026-10-14 Dan Ross 1985-01-02 EAP-1001 Marco Ruiz" in text
    assert "2026-10-15 Eva Lind 1979-11-30 EAP-1002 Lucía Torres" in text
    assert "Marco Ruiz, RCC, registration 55501; supervised by Lucía Torres, R.Psych., registration 01234" in text
    assert invoice.total == Decimal("205.50")
    assert f"Total (PEN) {shown(invoice.total)}" in text
    assert invoice.file_name("pdf") == f"{invoice.number.lower()}.pdf"  # two claims: the number alone


def test_a_draft_says_draft_and_has_no_number_and_a_credit_note_names_what_it_credits(october):
    book(october.lucia, [october.carla], dt.datetime(2026, 10, 20, 10), fee="80.00", currency="USD")
    db.session.commit()
    draft = commit_run(db.session, through=dt.date(2026, 10, 31)).run
    [draft_id] = issuing.all_drafts(db.session)
    drafts.set_notes(db.session.get(type(october.carla_invoice), draft_id), "Paid at the front desk")
    credit = issuing.void(db.session, october.carla_invoice, "Billed twice")
    db.session.commit()

    draft_document = invoice_files.invoice_pdf(db.session, draft_id, language="en")
    credit_text = pdf_text(invoice_files.invoice_pdf(db.session, credit.id, language="en").content)

    assert draft is not None and draft_document.filename == f"draft-{draft_id}.pdf"
    draft_text = pdf_text(draft_document.content)
    assert "DRAFT invoice" in draft_text and "Number: DRAFT" in draft_text and "Paid at the front desk" in draft_text
    assert f"Credits invoice {october.carla_invoice.number}" in credit_text
    assert f"Total (PEN) {shown(Decimal('-90.00'))}" in credit_text


def test_the_workbook_has_the_header_the_lines_and_the_total(october):
    invoice = invoice_document(db.session, october.ana_invoice.id)

    document = invoice_files.invoice_workbook(db.session, invoice.id, language="en")

    assert document.filename == "icbc-000001-clm-88812345.xlsx"
    book_ = workbook(document.content)
    assert book_.sheetnames == ["ICBC-000001"]
    rows = cells(book_.active)
    assert labelled(rows, "Number") == "ICBC-000001"
    assert labelled(rows, "Vendor number") == "V-778812"
    assert labelled(rows, "Claim reference") == "CLM-88812345"
    assert labelled(rows, "Date of birth").date() == dt.date(1990, 4, 12)
    lines = [row for row in rows if row and isinstance(row[0], dt.datetime)]
    assert [(row[0].date(), row[3], row[6], row[8], row[9]) for row in lines] == [
        (line.date_of_service, line.reference, float(line.amount), float(line.tax), float(line.total))
        for line in invoice.lines
    ]
    assert Decimal(str(labelled(rows, "Total"))) == invoice.total == Decimal("252.00")


def test_a_run_gives_one_zip_of_pdfs_named_by_number_and_claim_and_one_workbook_with_a_summary(october):
    category = Category(run_id=october.run_id)
    invoices = (october.ana_invoice, october.carla_invoice, october.acme_invoice)
    expected = invoice_documents(db.session, [invoice.id for invoice in invoices])

    archive = invoice_files.category_pdfs(db.session, category, language="en")
    workbook_document = invoice_files.category_workbook(db.session, category, language="en")
    db.session.commit()

    with zipfile.ZipFile(io.BytesIO(archive.content)) as bundle:
        names = sorted(bundle.namelist())
        texts = {name: pdf_text(bundle.read(name)) for name in names}
    assert names == sorted(document.file_name("pdf") for document in expected)
    assert "icbc-000001-clm-88812345.pdf" in names
    for document in expected:
        assert f"Number: {document.number}" in texts[document.file_name("pdf")]
    book_ = workbook(workbook_document.content)
    assert book_.sheetnames[0] == "Summary"
    assert sorted(book_.sheetnames[1:]) == sorted(document.number for document in expected)
    summary = cells(book_["Summary"])
    assert summary[0] == [
        "Number", "Date", "Kind", "Bill to", "Client", "Claim reference", "Currency", "Subtotal", "Tax", "Total",
    ]  # fmt: skip
    totals = {row[0]: Decimal(str(row[9])) for row in summary[1:]}
    assert totals == {document.number: document.total for document in expected}
    for document in expected:
        assert Decimal(str(labelled(cells(book_[document.number]), "Total"))) == totals[document.number]
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "export", AuditEvent.entity == "invoice")
        )
        == 2
    )


def test_a_payer_and_period_takes_its_issued_invoices_dated_within_it(october):
    inside = Category(payer_id=october.icbc.id, since=dt.date(2026, 11, 1), until=dt.date(2026, 11, 30))
    before = Category(payer_id=october.icbc.id, since=dt.date(2026, 10, 1), until=dt.date(2026, 10, 31))

    document = invoice_files.category_workbook(db.session, inside, language="en")

    assert document.filename == f"invoices-payer-{october.icbc.id}-2026-11-01-2026-11-30.xlsx"
    assert workbook(document.content).sheetnames == ["Summary", "ICBC-000001"]
    with pytest.raises(RuleViolation, match="no invoices"):
        invoice_files.category_workbook(db.session, before, language="en")


def test_documents_are_loaded_in_the_same_few_queries_for_one_invoice_or_many(october):
    with counted_queries() as one:
        invoice_documents(db.session, [october.ana_invoice.id])
    with counted_queries() as three:
        invoice_documents(db.session, [october.ana_invoice.id, october.acme_invoice.id, october.carla_invoice.id])
    assert len(one) == len(three) == 2, "\n".join(three)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "Choose an invoice run, or a payer and a period."),
        ({"run": "x"}, "Run: give the number of an invoice run."),
        ({"payer": "1", "since": "2026-13-01", "until": "2026-10-31"}, "From: give a date as YYYY-MM-DD."),
        ({"payer": "1", "since": "2026-10-01"}, "Until: required."),
        ({"payer": "1", "since": "2026-10-31", "until": "2026-10-01"}, "Until: the period ends before it starts."),
        ({"run": "999999"}, "Invoice run 999999 does not exist."),
    ],
)
def test_a_wrong_category_is_a_message_naming_the_field_never_a_500(admin_client, october, args, message):
    for endpoint in ("category.zip", "category.xlsx"):
        response = admin_client.get(f"/admin/invoice-documents/{endpoint}", query_string=args, follow_redirects=True)
        assert response.status_code == 200
        assert message in flashed(response)


def test_the_staff_download_an_invoice_and_a_therapist_may_not(admin_client, october, client):
    pdf = admin_client.get(f"/admin/invoice-documents/{october.ana_invoice.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="icbc-000001-clm-88812345.pdf"'
    missing = admin_client.get("/admin/invoice-documents/999999.pdf", follow_redirects=True)
    assert (missing.status_code, missing.mimetype) == (200, "text/html")
    assert flashed(missing) == ["This invoice does not exist."]
    admin_client.post("/logout")

    therapist = sign_in_therapist(client, october.lucia)
    invoice_id = october.ana_invoice.id
    for path in (f"{invoice_id}.pdf", f"{invoice_id}.xlsx", f"category.zip?run={october.run_id}"):
        assert therapist.get(f"/admin/invoice-documents/{path}").status_code == 403
    assert therapist.post(f"/admin/invoice-documents/{october.ana_invoice.id}/send").status_code == 403


def test_the_invoice_page_buttons_offer_send_only_for_an_issued_invoice_with_a_recipient(app, october):
    october.acme.billing_email = None
    db.session.commit()

    def buttons(invoice) -> str:
        with app.test_request_context("/admin/invoice/details/?id=1"):
            return render_template("admin/billing/invoice_documents_buttons.html", invoice=invoice)

    ana = buttons(october.ana_invoice)
    assert f"/admin/invoice-documents/{october.ana_invoice.id}.pdf" in ana
    assert f"/admin/invoice-documents/{october.ana_invoice.id}.xlsx" in ana
    assert f"/admin/invoice-documents/{october.ana_invoice.id}/send" in ana
    assert "/send" not in buttons(october.acme_invoice)  # the payer has no billing email
    issuing.void(db.session, october.ana_invoice, "Wrong claim")
    assert "/send" not in buttons(october.ana_invoice)


def test_the_invoice_page_its_pdf_and_its_workbook_show_the_same_figures(admin_client, october):
    """ICBC's invoice for Ana (2 lines of 120.00 + 6.00 tax, total 252.00) as the staff read it on
    the page, then in the PDF and the workbook they download from it."""
    invoice_id = october.ana_invoice.id
    page = admin_client.get(f"/admin/invoices/details/?id={invoice_id}")
    pdf = admin_client.get(f"/admin/invoice-documents/{invoice_id}.pdf")
    xlsx = admin_client.get(f"/admin/invoice-documents/{invoice_id}.xlsx")

    lines = table_rows(page, "invoice-lines")
    on_page = [(row[0], row[4], row[6].split(" (")[0], row[7]) for row in lines if row[0][:1].isdigit()]
    assert on_page == [
        ("2026-10-06", "PEN 120.00", "PEN 6.00", "PEN 126.00"),
        ("2026-10-13", "PEN 120.00", "PEN 6.00", "PEN 126.00"),
    ]
    assert lines[-3:] == [["PEN 240.00"], ["PEN 12.00"], ["PEN 252.00"]]  # subtotal, tax, total
    text = " ".join(pdf_text(pdf.get_data()).split())
    for day, amount, tax, total in on_page:
        assert f"{day} Individual therapy session, 50 min {amount} 5 % {tax} {total}" in text
    assert "Total (PEN) PEN 252.00" in text
    rows = cells(workbook(xlsx.get_data()).active)
    in_book = [
        (row[0].date().isoformat(), row[6], row[8], row[9]) for row in rows if row and isinstance(row[0], dt.datetime)
    ]
    assert in_book == [(day, 120, 6, 126) for day, *_figures in on_page]
    assert labelled(rows, "Total") == 252
