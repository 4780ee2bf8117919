"""The payout statement's email (issue 16, "Email"), figured by hand and delivered for real to an SMTP
sink (jobs in-process).

October 2026 in Lima. Lucía Torres (40 % commission, her login in Spanish):
- Ana, 6 Oct, 120.00 PEN, self-pay, paid on the day → earning 48.00 PEN;
- Ben, 8 Oct, 150.00 PEN to ICBC, invoiced, never paid by the cut-off → held (one held session);
- Carla, 12 Oct, 100.00 USD, self-pay, paid on the day → earning 40.00 USD;
- an adjustment of +10.00 PEN ("Room refund").
Due to Lucía: 58.00 PEN and 40.00 USD; 1 held session.
Marco Díaz (40 %, no login: the practice's language, English here): Dan, 7 Oct, 200.00 PEN, self-pay, paid
→ due 80.00 PEN, no held session.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import MessageStatus, OutboundMessage, PaymentMethod, PayoutStatement, PayoutStatus
from admin_app.services.billing import payments
from admin_app.services.payouts import emails, statements
from admin_app.services.payouts.run import payout_run
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month
from tests.conftest import login
from tests.factories import (
    book,
    issued_invoice,
    make_admin,
    make_client,
    make_payer,
    make_therapist,
    make_therapist_user,
)
from tests.integration.test_month_report import pdf_text
from tests.pages import flashed

pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)

OCTOBER = Month(2026, 10)
D = Decimal
NBSP = "\xa0"


def paid_session(therapist, client, day, fee, currency="PEN"):
    participant = book(therapist, [client], dt.datetime(2026, 10, day, 10, 0), fee=fee, currency=currency)
    payments.record_client_payment(
        db.session,
        client_id=client.id,
        received_on=dt.date(2026, 10, day),
        amount=D(fee),
        currency=currency,
        method=PaymentMethod.CASH,
    )
    return participant


@pytest.fixture
def october(mail_app):
    lucia = make_therapist(full_name="Lucía Torres", email="lucia@example.com")
    marco = make_therapist(full_name="Marco Díaz", email="marco@example.com")
    make_therapist_user(lucia, locale="es")
    icbc = make_payer("ICBC")
    ana, ben, carla = (make_client(lucia, full_name=name) for name in ("Ana", "Ben", "Carla"))
    dan = make_client(marco, full_name="Dan")
    paid_session(lucia, ana, 6, "120.00")
    issued_invoice(icbc, book(lucia, [ben], dt.datetime(2026, 10, 8, 10, 0), fee="150.00", payer=icbc).participants)
    paid_session(lucia, carla, 12, "100.00", "USD")
    paid_session(marco, dan, 7, "200.00")
    db.session.commit()
    payout_run(db.session, OCTOBER)
    db.session.commit()
    ids = {row.therapist_name: row.statement_id for row in statements.month_overview(db.session, OCTOBER)}
    statements.add_adjustment(db.session, ids["Lucía Torres"], amount="10.00", currency="PEN", reason="Room refund")
    db.session.commit()
    return ids["Lucía Torres"], ids["Marco Díaz"]


def approve(*statement_ids):
    statements.approve(db.session, statement_ids)
    db.session.commit()


def attached_pdfs(message) -> list[tuple[str, bytes]]:
    return [
        (part.get_filename(), part.get_payload(decode=True))
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]


def plain(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_the_default_text_is_filled_with_the_statement_in_the_therapists_language(october):
    lucia, marco = october

    spanish = emails.statement_email(db.session, lucia)
    assert spanish.subject == "Su liquidación de octubre de 2026"
    assert f"A pagarle: S/{NBSP}58.00, USD{NBSP}40.00." in spanish.body
    assert "Sesiones retenidas hasta que llegue su pago: 1." in spanish.body
    assert spanish.body.startswith("Hola Lucía Torres:") and spanish.body.endswith("Demo Practice")

    english = emails.statement_email(db.session, marco)
    assert english.subject == "Your payout statement for October 2026"
    assert f"Due to you: PEN{NBSP}80.00." in english.body
    assert "Sessions held over until their payment arrives: 0." in english.body


def test_the_practices_default_replaces_the_built_in_text(october):
    lucia, _ = october
    emails.save_default_text(
        db.session, "es", "Liquidación {month}", "Hola {therapist}: {totals}; retenidas {held_sessions}. {{{practice}}}"
    )
    db.session.commit()

    text = emails.statement_email(db.session, lucia)
    assert text == emails.EmailText(
        "Liquidación octubre de 2026",
        f"Hola Lucía Torres: S/{NBSP}58.00, USD{NBSP}40.00; retenidas 1. {{Demo Practice}}",
    )
    assert emails.default_text(db.session, "en") == emails.built_in_text("en")


@pytest.mark.parametrize(
    ("subject", "body", "message"),
    [
        (
            "{mes}",
            "Hola",
            "Subject: unknown placeholder {mes}; use {therapist} {month} {totals} {held_sessions} {practice}",
        ),
        (
            "Hola",
            "Total {totals:>9}",
            "Message: unknown placeholder {totals:>9}; use {therapist} {month} {totals} {held_sessions} {practice}",
        ),
        (
            "Hola",
            "Total {totals",
            "Message: a brace is not closed or not opened; write a placeholder as {month}, "
            "and a brace on its own as {{ or }}",
        ),
        (
            "Hola",
            "Total }",
            "Message: a brace is not closed or not opened; write a placeholder as {month}, "
            "and a brace on its own as {{ or }}",
        ),
        ("  ", "Hola", "Subject: this field is required"),
    ],
)
def test_a_bad_default_is_refused_naming_the_field_and_the_placeholder(mail_app, subject, body, message):
    with pytest.raises(RuleViolation) as refused:
        emails.save_default_text(db.session, "es", subject, body)
    assert str(refused.value) == message
    assert refused.value.field == ("subject" if message.startswith("Subject") else "body")


def test_an_edited_email_is_sent_with_the_pdf_and_frozen(mail_app, smtp_sink, october):
    lucia, _ = october
    emails.save_statement_email(db.session, lucia, "Tu liquidación de octubre", "Hola Lucía,\n\n<b>Gracias</b>.")
    db.session.commit()
    approve(lucia)

    message = emails.send_statement(db.session, lucia, user_id=None)
    db.session.commit()

    [email] = smtp_sink.to("lucia@example.com")
    assert email["Subject"] == "Tu liquidación de octubre"
    assert plain(email).strip() == "Hola Lucía,\n\n<b>Gracias</b>."
    html = email.get_body(("html",)).get_content()
    assert "<p>Hola Lucía,</p>" in html and "&lt;b&gt;Gracias&lt;/b&gt;" in html
    [(name, content)] = attached_pdfs(email)
    assert name.endswith(".pdf") and "Lucía Torres" in pdf_text(content)
    db.session.expire_all()
    statement = db.session.get(PayoutStatement, lucia)
    assert (statement.status, statement.message_id) == (PayoutStatus.SENT, message.id)
    assert statement.sent_at is not None
    assert db.session.get(OutboundMessage, message.id).status == MessageStatus.SENT
    with pytest.raises(RuleViolation) as refused:
        emails.save_statement_email(db.session, lucia, "Otra", "Otro")
    assert str(refused.value) == f"Statement {statement.number} is Sent: its email no longer changes."
    with pytest.raises(RuleViolation) as refused:
        emails.send_statement(db.session, lucia, user_id=None)
    assert str(refused.value) == f"Statement {statement.number} was already sent."


def test_the_sent_text_stays_when_the_default_changes_afterwards(mail_app, smtp_sink, october):
    _, marco = october
    approve(marco)
    emails.send_statement(db.session, marco, user_id=None)
    db.session.commit()
    sent = emails.statement_email(db.session, marco)
    assert sent.subject == "Your payout statement for October 2026"

    emails.save_default_text(db.session, "en", "Changed {month}", "Changed body")
    db.session.commit()

    assert emails.statement_email(db.session, marco) == sent
    [email] = smtp_sink.to("marco@example.com")
    assert email["Subject"] == sent.subject and f"PEN{NBSP}80.00" in plain(email)


def test_a_draft_and_a_therapist_without_email_are_refused(mail_app, smtp_sink, october):
    lucia, marco = october
    with pytest.raises(RuleViolation) as refused:
        emails.send_statement(db.session, lucia, user_id=None)
    assert str(refused.value) == "The statement of Lucía Torres for 2026-10 is a draft: approve it first."
    approve(marco)
    db.session.get(PayoutStatement, marco).therapist.email = ""
    db.session.commit()
    number = db.session.get(PayoutStatement, marco).number
    with pytest.raises(RuleViolation) as refused:
        emails.send_statement(db.session, marco, user_id=None)
    assert str(refused.value) == f"Marco Díaz has no email address: add one to send statement {number}."
    assert db.session.scalars(select(OutboundMessage)).all() == []
    assert db.session.get(PayoutStatement, marco).status == PayoutStatus.APPROVED


def test_send_all_approved_sends_them_leaves_drafts_and_collects_refusals(mail_app, smtp_sink, october):
    lucia, marco = october
    sofia = make_therapist(full_name="Sofía Ruiz", email="sofia@example.com")
    paid_session(sofia, make_client(sofia, full_name="Eva"), 9, "50.00")
    db.session.commit()
    payout_run(db.session, OCTOBER)  # Sofía's draft; Lucía's and Marco's refreshed, adjustment kept
    db.session.commit()
    sofia_id = statements.statement_ids_of(db.session, [sofia.id], OCTOBER)[sofia.id]
    approve(marco, sofia_id)
    sofia.email = ""
    db.session.commit()
    number = db.session.get(PayoutStatement, sofia_id).number

    outcome = emails.send_approved(db.session, OCTOBER, user_id=None)
    db.session.commit()

    assert outcome == emails.SendOutcome(
        sent=1, refused=[f"Sofía Ruiz has no email address: add one to send statement {number}."]
    )
    [email] = smtp_sink.to("marco@example.com")
    assert f"Due to you: PEN{NBSP}80.00." in plain(email) and "arrives: 0." in plain(email)
    assert smtp_sink.to("lucia@example.com") == []
    db.session.expire_all()
    assert [db.session.get(PayoutStatement, i).status for i in (lucia, marco, sofia_id)] == [
        PayoutStatus.DRAFT,
        PayoutStatus.SENT,
        PayoutStatus.APPROVED,
    ]

    approve(lucia)
    assert emails.send_approved(db.session, OCTOBER, user_id=None).sent == 1
    db.session.commit()
    [email] = smtp_sink.to("lucia@example.com")
    assert email["Subject"] == "Su liquidación de octubre de 2026"
    assert f"A pagarle: S/{NBSP}58.00, USD{NBSP}40.00." in plain(email) and "su pago: 1." in plain(email)
    assert len(attached_pdfs(email)) == 1
    assert len(smtp_sink.to("marco@example.com")) == 1  # not sent twice


def test_the_default_text_screen_saves_and_refuses_a_bad_placeholder(mail_app, october):
    make_admin()
    db.session.commit()
    staff = mail_app.test_client()
    assert login(staff, "staff@example.com").status_code == 302

    page = staff.get("/admin/payouts/email/").get_data(as_text=True)
    assert "{held_sessions}" in page and "Your payout statement for {month}" in page

    refused = staff.post(
        "/admin/payouts/email/", data={"language": "fr", "fr-subject": "Relevé {mois}", "fr-body": "Bonjour"}
    )
    assert refused.status_code == 200
    text = refused.get_data(as_text=True)
    assert "Subject: unknown placeholder {mois}" in text
    assert emails.default_text(db.session, "fr") == emails.built_in_text("fr")

    saved = staff.post(
        "/admin/payouts/email/",
        data={"language": "fr", "fr-subject": "Relevé de {month}", "fr-body": "Bonjour {therapist}"},
        follow_redirects=True,
    )
    assert flashed(saved) == ["The payout email in French is saved."]
    assert "Relevé de {month}" in saved.get_data(as_text=True)
    db.session.expire_all()
    assert emails.default_text(db.session, "fr") == emails.EmailText("Relevé de {month}", "Bonjour {therapist}")

    back = staff.post("/admin/payouts/email/", data={"language": "fr", "reset": "1"}, follow_redirects=True)
    assert flashed(back) == ["The payout email in French is back to the built-in text."]
    db.session.expire_all()
    assert emails.default_text(db.session, "fr") == emails.built_in_text("fr")


@pytest.mark.parametrize("language", ["es", "en", "fr"])
def test_the_built_in_text_fills_in_every_language(app, language):
    """A translation that breaks a placeholder would make every statement's email fail: caught here."""
    text = emails.built_in_text(language)
    values = dict.fromkeys(emails.PLACEHOLDERS, "X")
    for field, value in (("subject", text.subject), ("body", text.body)):
        assert "{" not in emails.fill(value, values, field=field)
    assert "{month}" in text.subject and "{totals}" in text.body
