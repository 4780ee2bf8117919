"""Receipts of clients' payments: the PDF a benefit plan accepts, the emailed link, the staff's print.

A Vancouver practice (CAD), figured by hand:
- Ana Ruiz, R.Psych., registration 01234 (College of Psychologists of BC); Bruno Díaz, a provisional
  registrant (Provisional R.Psych., P-555) supervised by Ana.
- Carla attended on 6 Oct 2026 with Ana (individual, 50 min, 120.00, billed to her), on 13 Oct with
  Bruno (individual, 60 min, 150.00 billed to Pacific Blue Cross, which paid 100.00: the other 50.00
  is hers), and on 20 Oct with Ana (120.00, paid by another payment, receipt 41).
- Her card payment of 200.00 on 2 Nov paid 120.00 (6 Oct) and 50.00 (13 Oct): the receipt lists those
  two dates, 120.00 and 50.00, total 170.00, and 30.00 of credit; never 20 Oct, never the payer's 100.00.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from flask import current_app
from pypdf import PdfReader
from sqlalchemy import func, select

from admin_app.extensions import db, limiter
from admin_app.models import (
    Allocation,
    AllocationKind,
    AuditEvent,
    OutboundMessage,
    Payment,
    PaymentMethod,
    ReceiptLink,
)
from admin_app.services.billing import receipts
from admin_app.services.platform.errors import NotFound
from tests.conftest import login, make_app, sign_in_therapist
from tests.factories import book, client_payment, make_admin, make_client, make_payer, make_therapist
from tests.queries import counted_queries

NOW = "2026-11-03T18:00Z"
pytestmark = pytest.mark.parametrize("clock", [NOW], indirect=True)
ADDRESS = "1200 West 73rd Avenue, Suite 500\nVancouver, BC V6P 6G5"
PHONE = "+1 604 555 0100"
LINK = re.compile(r"http://127\.0\.0\.1:5000(/receipts/[\w-]+)")


def pdf_text(data: bytes) -> str:
    """The text of every page, whitespace collapsed (pypdf separates words by tabs or newlines)."""
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


VANCOUVER = {
    "CLINIC_TIMEZONE": "America/Vancouver",
    "CURRENCIES": ("CAD", "USD"),
    "DEFAULT_CURRENCY": "CAD",
    "PHONE_REGION": "CA",
    "PRACTICE_NAME": "Westside Psychology",
    "PRACTICE_ADDRESS": ADDRESS,
    "PRACTICE_PHONE": PHONE,
}


@pytest.fixture
def in_vancouver(monkeypatch):
    """The running app (the mail app when a test uses it) set up as the Vancouver practice."""

    def settle() -> None:
        for key, value in VANCOUVER.items():
            monkeypatch.setitem(current_app.config, key, value)

    return settle


@pytest.fixture
def carla_paid(app, in_vancouver):
    """Carla's card payment of 200.00, receipt 42 (see the module's docstring), in English."""
    in_vancouver()
    return carla_payment(language="en")


def carla_payment(language: str, email: str | None = "carla@example.com") -> Payment:
    ana = make_therapist(
        full_name="Ana Ruiz",
        designation="R.Psych.",
        registration_number="01234",
        registration_body="College of Psychologists of BC",
        default_currency="CAD",
    )
    db.session.flush()
    bruno = make_therapist(
        full_name="Bruno Díaz",
        designation="Provisional R.Psych.",
        registration_number="P-555",
        provisional=True,
        supervisor=ana,
        default_currency="CAD",
    )
    carla = make_client(ana, full_name="Carla Méndez", preferred_language=language, email=email)
    blue_cross = make_payer("Pacific Blue Cross")
    first = book(ana, [carla], dt.datetime(2026, 10, 6, 10, 0), fee="120.00", currency="CAD")
    shared = book(
        bruno, [carla], dt.datetime(2026, 10, 13, 11, 0), minutes=60, fee="150.00", currency="CAD", payer=blue_cross
    )
    later = book(ana, [carla], dt.datetime(2026, 10, 20, 10, 0), fee="120.00", currency="CAD")
    [first_part], [shared_part], [later_part] = first.participants, shared.participants, later.participants
    db.session.add(
        Payment(
            payer=blue_cross,
            received_on=dt.date(2026, 10, 30),
            amount=Decimal("100.00"),
            currency="CAD",
            method=PaymentMethod.TRANSFER,
            allocations=[
                Allocation(
                    participant=shared_part,
                    kind=AllocationKind.PAID,
                    amount=Decimal("100.00"),
                    currency="CAD",
                    applied_on=dt.date(2026, 10, 30),
                )
            ],
        )
    )
    client_payment(carla, "120.00", dt.date(2026, 10, 21), allocations=[(later_part, "120.00")], receipt_number="41")
    payment = client_payment(
        carla,
        "200.00",
        dt.date(2026, 11, 2),
        PaymentMethod.CARD,
        allocations=[(shared_part, "50.00"), (first_part, "120.00")],
        receipt_number="42",
    )
    db.session.commit()
    return payment


# The PDF


def test_the_receipt_lists_each_date_of_service_it_paid_with_the_credentials(app, carla_paid):
    document = receipts.receipt_pdf(db.session, carla_paid.id)
    db.session.commit()

    assert document.mimetype == "application/pdf"
    assert document.filename == "receipt-42.pdf"
    text = pdf_text(document.content)
    assert "Receipt 42" in text
    assert "Carla Méndez" in text
    assert "2026-11-02" in text  # the payment's date
    assert "Card" in text
    # Each date of service it paid, in order, with its service, therapist and amount.
    first, second = text.index("2026-10-06"), text.index("2026-10-13")
    assert first < second
    assert "Individual therapy session, 50 min" in text[first:second]
    assert "Ana Ruiz, R.Psych." in text[first:second]
    assert "01234" in text[first:second] and "College of Psychologists of BC" in text[first:second]
    assert "$120.00" in text[first:second]
    assert "Individual therapy session, 60 min" in text[second:]
    assert "Bruno Díaz, Provisional R.Psych." in text[second:]
    assert "P-555" in text[second:]
    assert "supervised by Ana Ruiz, R.Psych." in text[second:]  # the supervisor of a provisional registrant
    assert "$50.00" in text[second:]  # Carla's share only: the payer's 100.00 is not hers
    assert "$150.00" not in text and "$100.00" not in text
    assert "2026-10-20" not in text  # paid by another payment
    assert "Total $170.00" in text
    assert "Amount received $200.00" in text and "Credit for later sessions $30.00" in text
    assert "Paid" in text
    assert "Westside Psychology" in text
    assert "1200 West 73rd Avenue, Suite 500" in text and "Vancouver, BC V6P 6G5" in text
    assert PHONE in text
    export = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert (export.entity, export.entity_id) == ("payment", carla_paid.id)


def test_the_receipt_data_costs_the_same_queries_for_more_sessions(app, carla_paid):
    carla_id = carla_paid.id
    with counted_queries() as two_sessions:
        receipts.receipt_of(db.session, carla_id)
    therapist = make_therapist(default_currency="CAD")
    more = [
        book(therapist, [carla_paid.client], dt.datetime(2026, 9, day, 10, 0), fee="80.00", currency="CAD")
        for day in (1, 2, 3, 4, 5)
    ]
    bigger = client_payment(
        carla_paid.client,
        "400.00",
        dt.date(2026, 11, 3),
        allocations=[(appointment.participants[0], "80.00") for appointment in more],
    )
    db.session.commit()
    bigger_id = bigger.id
    db.session.expire_all()

    with counted_queries() as five_sessions:
        receipt = receipts.receipt_of(db.session, bigger_id)

    assert len(receipt.lines) == 5 and receipt.total == Decimal("400.00")
    assert len(five_sessions) == len(two_sessions) == 2


@pytest.mark.parametrize(
    ("language", "paid", "amount", "method"),
    [("es", "Pagado", "120,00\xa0CAD", "Tarjeta"), ("fr", "Payé", "120,00\xa0$", "Carte")],
)
def test_the_receipt_speaks_the_clients_language(app, in_vancouver, language, paid, amount, method):
    in_vancouver()
    payment = carla_payment(language=language)

    text = pdf_text(receipts.receipt_pdf(db.session, payment.id).content)

    assert paid in text
    assert amount.replace("\xa0", " ") in text.replace("\xa0", " ")
    assert method in text


def test_a_payers_payment_has_no_receipt(app, carla_paid):
    payers = db.session.scalar(select(Payment.id).where(Payment.payer_id.is_not(None)))
    with pytest.raises(NotFound):
        receipts.receipt_of(db.session, payers)


# The email


def test_the_client_gets_a_link_by_email_never_the_pdf(mail_app, smtp_sink, in_vancouver):
    in_vancouver()
    payment = carla_payment(language="en")

    link = receipts.send_receipt(db.session, payment)
    db.session.commit()

    [email] = smtp_sink.to("carla@example.com")
    assert email["Subject"] == "Your receipt 42"
    assert list(email.iter_attachments()) == []
    text = email.get_body(("plain",)).get_content()
    path = LINK.search(text).group(1)
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 22  # at least 128 bits
    assert receipts.LINK.find(db.session, ReceiptLink, token).id == link.id
    assert token not in {row.token_hash for row in db.session.scalars(select(ReceiptLink))}
    assert "works until December 3, 2026" in text
    assert path in email.get_body(("html",)).get_content()


def test_the_email_speaks_spanish_to_a_spanish_speaking_client(mail_app, smtp_sink, in_vancouver):
    in_vancouver()
    payment = carla_payment(language="es")

    receipts.send_receipt(db.session, payment)
    db.session.commit()

    [email] = smtp_sink.to("carla@example.com")
    assert email["Subject"] == "Su recibo 42"
    assert "Gracias por su pago" in email.get_body(("plain",)).get_content()


def test_a_client_without_email_gets_nothing_and_the_function_says_so(app, in_vancouver):
    in_vancouver()
    payment = carla_payment(language="en", email=None)

    assert receipts.send_receipt(db.session, payment) is None
    assert db.session.scalar(select(func.count(OutboundMessage.id))) == 0
    assert db.session.scalar(select(func.count(ReceiptLink.id))) == 0


def test_the_outbox_preview_does_not_show_the_receipt_link(app, client, in_vancouver):
    in_vancouver()
    payment = carla_payment(language="en")
    link = receipts.send_receipt(db.session, payment)
    make_admin(email="boss@example.com")
    db.session.commit()
    login(client, "boss@example.com")
    message_id = db.session.scalar(select(OutboundMessage.id))

    preview = client.get(f"/admin/outbox/details/?id={message_id}").get_data(as_text=True)

    assert "/receipts/…" in preview
    assert receipts.LINK.token(link) not in preview


# The staff's routes


def test_the_staff_print_a_receipt_and_send_it_again(mail_app, smtp_sink, in_vancouver):
    in_vancouver()
    payment = carla_payment(language="en")
    make_admin(email="boss@example.com")
    db.session.commit()
    staff = mail_app.test_client()
    login(staff, "boss@example.com")

    listed = staff.get("/admin/receipts/").get_data(as_text=True)
    printed = staff.get(f"/admin/receipts/{payment.id}.pdf")
    sent = staff.post(f"/admin/receipts/{payment.id}/resend", follow_redirects=True)
    again = staff.post(f"/admin/receipts/{payment.id}/resend", follow_redirects=True)

    assert "Carla Méndez" in listed and f"/admin/receipts/{payment.id}.pdf" in listed
    assert printed.status_code == 200
    assert printed.headers["Content-Disposition"] == 'attachment; filename="receipt-42.pdf"'
    assert "Receipt 42" in pdf_text(printed.data)
    assert "Receipt 42 is on its way to the client." in sent.get_data(as_text=True)
    assert again.status_code == 200
    emails = smtp_sink.to("carla@example.com")
    assert len(emails) == 2
    paths = {LINK.search(email.get_body(("plain",)).get_content()).group(1) for email in emails}
    assert len(paths) == 2  # a new link each time
    assert db.session.scalar(select(func.count(ReceiptLink.id))) == 2
    export = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert (export.entity, export.entity_id, export.actor) == ("payment", payment.id, "boss@example.com")
    sendings = db.session.scalars(
        select(AuditEvent.actor).where(AuditEvent.action == "create", AuditEvent.entity == "outbound_message")
    ).all()
    assert sendings == ["boss@example.com"] * 2


def test_sending_again_to_a_client_without_email_says_so(app, client, in_vancouver):
    in_vancouver()
    payment = carla_payment(language="en", email=None)
    make_admin(email="boss@example.com")
    db.session.commit()
    login(client, "boss@example.com")

    page = client.post(f"/admin/receipts/{payment.id}/resend", follow_redirects=True).get_data(as_text=True)

    assert "Receipt 42 was not sent: the client has no email address." in page
    assert db.session.scalar(select(func.count(OutboundMessage.id))) == 0


def test_an_unknown_receipt_is_refused_with_a_message(app, client):
    make_admin(email="boss@example.com")
    db.session.commit()
    login(client, "boss@example.com")

    for answer in (client.get("/admin/receipts/999999.pdf"), client.post("/admin/receipts/999999/resend")):
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/admin/receipts/")
    page = client.get("/admin/receipts/").get_data(as_text=True)
    assert page.count("This payment has no receipt.") == 2
    assert db.session.scalar(select(func.count(OutboundMessage.id))) == 0


def test_a_therapist_is_refused(app, client, in_vancouver):
    in_vancouver()
    payment = carla_payment(language="en")
    sign_in_therapist(client, payment.allocations[0].participant.appointment.therapist)

    assert client.get("/admin/receipts/").status_code == 403
    assert client.get(f"/admin/receipts/{payment.id}.pdf").status_code == 403
    assert client.post(f"/admin/receipts/{payment.id}/resend").status_code == 403
    assert db.session.scalar(select(func.count(ReceiptLink.id))) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "export")) == 0


# The public link (opened through the live server in tests/e2e/test_receipt_link.py)


def test_a_link_checker_does_not_open_the_receipt(app, client, in_vancouver):
    in_vancouver()
    link = receipts.send_receipt(db.session, carla_payment(language="en"))
    db.session.commit()

    checked = client.head(receipts.LINK.path.format(token=receipts.LINK.token(link)))

    assert checked.status_code == 200 and checked.data == b""
    db.session.expire_all()
    assert db.session.get(ReceiptLink, link.id).opened_at is None
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "view")) == 0


def test_guessing_receipt_links_is_stopped(app, database_url, in_vancouver):
    in_vancouver()
    strict = make_app(database_url, SURVEY_GUESS_LIMIT="2 per hour")
    limiter.reset()
    link = receipts.send_receipt(db.session, carla_payment(language="en"))
    db.session.commit()
    path = receipts.LINK.path.format(token=receipts.LINK.token(link))
    guesser = strict.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.7"

    assert [guesser.get(f"/receipts/guess-{n}").status_code for n in range(2)] == [404, 404]
    blocked = guesser.get(path, headers={"Accept-Language": "en"})

    assert blocked.status_code == 429  # a real link too, once blocked
    assert "Too many attempts" in blocked.get_data(as_text=True)
    assert blocked.content_type.startswith("text/html")
    limiter.reset()
    make_app(database_url)  # back to the default limit for the tests that follow
