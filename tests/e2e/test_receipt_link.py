"""The receipt link from the client's email, opened over HTTP as a browser would: the PDF while the link
is valid, a page saying it expired after RECEIPT_LINK_VALID_DAYS (no PDF, no data), and a link of one
receipt never opens another. Served by `live_server` (the app on loopback, on the test's clock)."""

from __future__ import annotations

import datetime as dt
import io
import re
import urllib.error
import urllib.request

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AuditEvent, ReceiptLink
from admin_app.services.billing import receipts
from tests.factories import book, client_payment, make_client, make_therapist

NOW = "2026-11-03T18:00Z"
LINK = re.compile(r"http://127\.0\.0\.1:5000(/receipts/[\w-]+)")


def fetch(url: str, language: str = "en") -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers={"Accept-Language": language})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


def paid(number: str, client_name: str, email: str):
    therapist = make_therapist(designation="Psicóloga colegiada", registration_number="CPsP 12345")
    client = make_client(therapist, full_name=client_name, email=email, preferred_language="en")
    session = book(therapist, [client], dt.datetime(2026, 10, 6, 10, 0), fee="150.00", currency="PEN")
    return client_payment(
        client, "150.00", dt.date(2026, 11, 2), allocations=[(session.participants[0], "150.00")], receipt_number=number
    )


@pytest.mark.parametrize("clock", [NOW], indirect=True)
def test_the_emailed_link_opens_the_pdf_until_it_expires(mail_app, smtp_sink, live_server, clock):
    carla = paid("42", "Carla Méndez", "carla@example.com")
    other = paid("43", "Diego Soto", "diego@example.com")
    receipts.send_receipt(db.session, carla)
    receipts.send_receipt(db.session, other)
    db.session.commit()
    [email] = smtp_sink.to("carla@example.com")
    [other_email] = smtp_sink.to("diego@example.com")
    path = LINK.search(email.get_body(("plain",)).get_content()).group(1)
    other_path = LINK.search(other_email.get_body(("plain",)).get_content()).group(1)
    token = path.rsplit("/", 1)[1]

    status, headers, content = fetch(live_server + path)

    assert status == 200
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == 'inline; filename="receipt-42.pdf"'
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    text = pdf_text(content)
    assert "Receipt 42" in text and "Carla Méndez" in text and "2026-10-06" in text
    assert "CPsP 12345" in text and "Paid" in text
    db.session.expire_all()
    link = db.session.scalars(select(ReceiptLink).where(ReceiptLink.payment_id == carla.id)).one()
    assert link.opened_at is not None
    first_open = link.opened_at
    db.session.commit()

    # Opened again: the PDF again, and another audit event; the first open stays the first.
    assert fetch(live_server + path)[0] == 200
    db.session.expire_all()
    assert db.session.get(ReceiptLink, link.id).opened_at == first_open
    views = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "view", AuditEvent.entity == "payment")
    ).all()
    assert [(event.entity_id, event.actor) for event in views] == [(carla.id, "receipt link")] * 2
    assert all(token not in str(event.changed_fields) for event in views)
    db.session.commit()

    # Another receipt's link opens that receipt, never this one.
    status, _headers, content = fetch(live_server + other_path)
    assert status == 200
    other_text = pdf_text(content)
    assert "Receipt 43" in other_text and "Diego Soto" in other_text
    assert "Receipt 42" not in other_text and "Carla" not in other_text

    # An unknown token: not found, nothing of any receipt.
    status, headers, content = fetch(f"{live_server}/receipts/{token[:-2]}xy")
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    assert b"Carla" not in content and b"42" not in content

    # After RECEIPT_LINK_VALID_DAYS (30) the link has expired: a page that says so, never the PDF.
    clock.set(dt.datetime(2026, 12, 3, 18, 1, tzinfo=dt.UTC))
    status, headers, content = fetch(live_server + path)
    assert status == 410
    assert headers["Content-Type"].startswith("text/html")
    page = content.decode()
    assert "This receipt link has expired" in page
    assert "ask the practice" in page
    assert "Carla" not in page and "%PDF" not in page

    status, _headers, content = fetch(live_server + path, language="es")
    assert status == 410 and '<html lang="es">' in content.decode()
