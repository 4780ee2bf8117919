"""*Send*: an issued invoice's PDF by email through the outbox, delivered for real to an SMTP sink
(jobs in-process), each sending recorded; a payer reads it in the practice's language, a self-paying
client in their own."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import InvoiceSending, MessageStatus, OutboundMessage
from admin_app.services.billing import issuing, sending
from admin_app.services.billing.invoice_run import commit_run
from admin_app.services.messaging import rendering
from admin_app.services.platform.errors import RuleViolation
from tests.conftest import login
from tests.factories import make_admin
from tests.factories.invoices import OCTOBER_END, issued_october
from tests.integration.test_month_report import pdf_text
from tests.pages import flashed

pytestmark = pytest.mark.parametrize("clock", ["2026-11-05T15:00Z"], indirect=True)


@pytest.fixture
def october(mail_app):
    return issued_october()


def attached_pdfs(message) -> list[tuple[str, bytes]]:
    return [
        (part.get_filename(), part.get_payload(decode=True))
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]


def sendings(invoice_id: int) -> list[InvoiceSending]:
    return db.session.scalars(
        select(InvoiceSending).where(InvoiceSending.invoice_id == invoice_id).order_by(InvoiceSending.id)
    ).all()


def test_send_emails_the_pdf_to_the_payer_and_records_the_sending(mail_app, smtp_sink, october):
    staff = make_admin()
    invoice_id = october.ana_invoice.id

    sending.send_invoice(db.session, invoice_id, user_id=staff.id)
    db.session.commit()

    [email] = smtp_sink.to("claims@icbc.example.com")
    assert email["Subject"] == "Invoice ICBC-000001 from Demo Practice"
    assert "Ana" not in email["Subject"]
    [(name, content)] = attached_pdfs(email)
    assert name == "icbc-000001-clm-88812345.pdf"
    text = pdf_text(content)
    assert "Number: ICBC-000001" in text and "Claim reference: CLM-88812345" in text
    assert len(PdfReader(io.BytesIO(content)).pages) == 1
    [row] = sendings(invoice_id)
    message = db.session.get(OutboundMessage, row.message_id)
    assert (row.recipient, row.created_by_id) == ("claims@icbc.example.com", staff.id)
    assert message.status == MessageStatus.SENT


def test_sending_twice_sends_twice(mail_app, smtp_sink, october):
    for _ in range(2):
        sending.send_invoice(db.session, october.acme_invoice.id, user_id=None)
        db.session.commit()

    assert len(smtp_sink.to("eap@acme.example.com")) == 2
    rows = sendings(october.acme_invoice.id)
    assert len(rows) == 2 and rows[0].message_id != rows[1].message_id


def test_a_self_paying_client_gets_it_in_their_language(mail_app, smtp_sink, october):
    sending.send_invoice(db.session, october.carla_invoice.id, user_id=None)
    db.session.commit()

    [email] = smtp_sink.to("carla@example.com")
    number = october.carla_invoice.number
    assert email["Subject"] == f"Facture {number} de Demo Practice"
    assert "Veuillez trouver ci-joint la facture" in email.get_body(("plain",)).get_content()
    assert [name for name, _content in attached_pdfs(email)] == [f"{number.lower()}.pdf"]


def test_a_draft_a_void_invoice_or_no_address_is_refused_and_nothing_is_queued(mail_app, smtp_sink, october):
    credit = issuing.void(db.session, october.carla_invoice, "Billed twice")
    db.session.commit()
    draft = commit_run(db.session, through=OCTOBER_END).run  # the voided charge, on a new draft
    [draft_id] = issuing.all_drafts(db.session)
    october.acme.billing_email = None
    october.ana.email = None
    db.session.commit()

    refusals = {
        draft_id: "A draft cannot be sent: issue it first.",
        october.carla_invoice.id: f"Invoice {october.carla_invoice.number} is void: send its credit note instead.",
        october.acme_invoice.id: "Payer Acme EAP has no billing email: add one to send invoices.",
    }
    for invoice_id, reason in refusals.items():
        with pytest.raises(RuleViolation) as refused:
            sending.send_invoice(db.session, invoice_id, user_id=None)
        assert str(refused.value) == reason
    assert draft is not None
    assert db.session.scalars(select(InvoiceSending)).all() == []
    assert db.session.scalars(select(OutboundMessage)).all() == []
    sending.send_invoice(db.session, credit.id, user_id=None)  # a credit note goes out like an invoice
    db.session.commit()
    [email] = smtp_sink.to("carla@example.com")
    assert email["Subject"] == f"Note de crédit {credit.number} de Demo Practice"


def test_the_send_button_posts_and_comes_back_with_the_news(mail_app, smtp_sink, october):
    make_admin()
    db.session.commit()
    staff = mail_app.test_client()
    assert login(staff, "staff@example.com").status_code == 302
    back = "/admin/invoice-documents/?run=1"

    sent = staff.post(f"/admin/invoice-documents/{october.ana_invoice.id}/send", data={"next": back})
    elsewhere = staff.post(
        f"/admin/invoice-documents/{october.acme_invoice.id}/send", data={"next": "//evil.example.com/"}
    )

    assert sent.status_code == 302 and sent.headers["Location"] == back
    assert elsewhere.headers["Location"] == "/admin/invoice-documents/"
    assert len(smtp_sink.to("claims@icbc.example.com")) == 1
    page = staff.get(back)
    assert "The invoice is on its way to claims@icbc.example.com." in flashed(page)


def test_the_outbox_preview_shows_the_email_without_making_the_pdf(mail_app, october):
    row = sending.send_invoice(db.session, october.ana_invoice.id, user_id=None)
    message = db.session.get(OutboundMessage, row.message_id)

    preview = rendering.render(db.session, message, preview=True)

    assert preview.subject == "Invoice ICBC-000001 from Demo Practice"
    assert preview.attachments == ()


def test_with_selected_send_emails_each_invoice_or_none_naming_the_one_that_cannot_go(mail_app, smtp_sink, october):
    make_admin()
    db.session.commit()
    staff = mail_app.test_client()
    assert login(staff, "staff@example.com").status_code == 302
    chosen = [str(october.ana_invoice.id), str(october.carla_invoice.id)]
    october.carla.email = None
    db.session.commit()

    refused = staff.post("/admin/invoices/action/", data={"action": "send", "rowid": chosen}, follow_redirects=True)

    assert f"{october.carla_invoice.number}: The client has no email address: add one to send the invoice." in flashed(
        refused
    )
    assert (smtp_sink.to("claims@icbc.example.com"), sendings(october.ana_invoice.id)) == ([], [])
    october.carla.email = "carla@example.com"
    db.session.commit()
    sent = staff.post("/admin/invoices/action/", data={"action": "send", "rowid": chosen}, follow_redirects=True)
    assert "2 invoices are on their way." in flashed(sent)
    assert [len(smtp_sink.to(address)) for address in ("claims@icbc.example.com", "carla@example.com")] == [1, 1]
