"""The outbox screen: staff read every message sent or tried, preview it, and send it again.

Reminders are written by the real reminder service and delivered in-process (no Redis): with
the `app` fixture there is no mail server, so they wait "on hold"; with `mail_app` they reach
the SMTP sink for real.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pytest

from admin_app.extensions import db
from admin_app.models import AppointmentStatus, Channel, MessageStatus, OutboundMessage
from admin_app.services.messaging import reminders
from admin_app.services.platform.clinic_time import to_local
from tests.conftest import login, make_app
from tests.factories import PASSWORD, make_admin, make_client
from tests.integration.test_lists import filter_arg
from tests.integration.test_reminders import CLOCKS, outbox_rows, spanish_time
from tests.pages import body, csrf_token, detail_fields, flashed, list_rows, row_ids, text_of
from tests.queries import counted_queries

OUTBOX = "/admin/outbox/"
IN_PROGRESS = "Only a sent, failed or held message can be sent again; this one is still in progress."


def make_message(recipient: str, status: MessageStatus, **fields) -> OutboundMessage:
    """A row written directly (not dispatched): the list and the refusals need no delivery."""
    values = {
        "channel": Channel.EMAIL,
        "recipient": recipient,
        "template": reminders.TEMPLATE,
        "language": "es",
        "context": {"participant_id": 0, "starts_at": "2026-05-04T15:00:00+00:00"},
        "dedupe_key": f"test:{recipient}:{status}",
        "status": status,
        "attempts": 0,
        "created_at": dt.datetime(2026, 5, 3, 15, 0, tzinfo=dt.UTC),
        **fields,
    }
    message = OutboundMessage(**values)
    db.session.add(message)
    db.session.flush()
    return message


def details(client, message_id: int):
    return client.get(f"{OUTBOX}details/?id={message_id}")


def send_again(client, page, *message_ids: int):
    """The list's bulk action "Send again" on the chosen rows (or a hand-made POST of it)."""
    data = {"csrf_token": csrf_token(page), "action": "send_again", "rowid": [str(i) for i in message_ids]}
    return client.post(f"{OUTBOX}action/", data=data, follow_redirects=True)


def press_send_again(client, page):
    """Submit the details page's "Send again" form exactly as the page has it."""
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*id="send-again-form">(.*?)</form>', body(page), re.S)
    assert form, "no Send again button on the page"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2)))
    data = {name: html_lib.unescape(value) for name, value in fields.items()}
    return client.post(html_lib.unescape(form.group(1)), data=data, follow_redirects=True)


def test_the_outbox_lists_messages_newest_first_in_clinic_time_with_labels(admin_client):
    make_message("old@example.com", MessageStatus.SENT, created_at=dt.datetime(2026, 5, 1, 4, 30, tzinfo=dt.UTC))
    make_message(
        "new@example.com",
        MessageStatus.FAILED,
        attempts=5,
        last_error="SMTP 550 mailbox unavailable",
        created_at=dt.datetime(2026, 5, 2, 15, 0, tzinfo=dt.UTC),
    )
    make_message("+51987654321", MessageStatus.HELD, channel=Channel.SMS, language="en")
    db.session.commit()

    response = admin_client.get(OUTBOX)

    assert response.status_code == 200
    rows = list_rows(response)
    assert [row["recipient"] for row in rows] == ["+51987654321", "new@example.com", "old@example.com"]
    assert rows[0]["status"] == "On hold" and rows[0]["channel"] == "SMS" and rows[0]["language"] == "English"
    assert rows[1]["status"] == "Failed" and rows[1]["attempts"] == "5"
    assert rows[1]["last_error"] == "SMTP 550 mailbox unavailable"
    assert rows[1]["template"] == "Appointment reminder" and rows[1]["language"] == "Spanish"
    assert rows[2]["created_at"] == "2026-04-30 23:30"  # Lima time: the evening before in UTC terms
    assert "Outbox" in body(response) and "Messages" in body(response)  # in the menu


def test_the_status_channel_and_template_filters_narrow_the_list(admin_client):
    make_message("sent@example.com", MessageStatus.SENT)
    failed = make_message("failed@example.com", MessageStatus.FAILED)
    sms = make_message("+51987654321", MessageStatus.HELD, channel=Channel.SMS)
    make_message("other@example.com", MessageStatus.SENT, template="survey_invitation")
    db.session.commit()
    page = admin_client.get(OUTBOX)
    assert '["FAILED", "Failed"]' in body(page)  # labelled choices

    status = filter_arg(page, "Status", "equals")
    assert row_ids(admin_client.get(f"{OUTBOX}?{status}=FAILED")) == {failed.id}
    channel = filter_arg(page, "Channel", "equals")
    assert row_ids(admin_client.get(f"{OUTBOX}?{channel}=SMS")) == {sms.id}
    template = filter_arg(page, "Message", "equals")
    by_template = admin_client.get(f"{OUTBOX}?{template}={reminders.TEMPLATE}")
    assert {row["recipient"] for row in list_rows(by_template)} == {
        "sent@example.com",
        "failed@example.com",
        "+51987654321",
    }


def test_the_created_filter_reads_clinic_time(admin_client):
    make_message("evening@example.com", MessageStatus.SENT, created_at=dt.datetime(2026, 5, 1, 4, 30, tzinfo=dt.UTC))
    morning = make_message(
        "morning@example.com", MessageStatus.SENT, created_at=dt.datetime(2026, 5, 1, 14, 0, tzinfo=dt.UTC)
    )
    db.session.commit()
    after = filter_arg(admin_client.get(OUTBOX), "Created", "greater than")

    # 2026-05-01 00:00 in Lima is 05:00 UTC: the 04:30 UTC message was created on 30 April.
    assert row_ids(admin_client.get(f"{OUTBOX}?{after}=2026-05-01 00:00:00")) == {morning.id}


def test_the_list_costs_the_same_queries_for_one_row_or_many(admin_client):
    make_message("one@example.com", MessageStatus.SENT, client_id=make_client().id)
    db.session.commit()
    with counted_queries() as one:
        admin_client.get(OUTBOX)
    for n in range(10):
        make_message(f"more{n}@example.com", MessageStatus.SENT, client_id=make_client().id)
    db.session.commit()
    with counted_queries() as many:
        admin_client.get(OUTBOX)

    assert len(many) == len(one)


@pytest.mark.parametrize("clock", CLOCKS, indirect=True)
def test_the_details_page_previews_the_reminder_as_it_would_be_sent(admin_client, clock, book_soon):
    ana = make_client(full_name="Ana Torres", email="ana@example.com", preferred_language="es")
    appointment = book_soon(ana)
    assert reminders.queue_due_reminders(db.session) == 1
    db.session.commit()  # no mail server: the delivery job puts it on hold
    [message] = outbox_rows()
    local = to_local(appointment.starts_at)

    response = details(admin_client, message.id)

    assert response.status_code == 200
    fields = detail_fields(response)
    assert fields["Status"] == "On hold" and fields["Recipient"] == "ana@example.com"
    page = body(response)
    subject = text_of(re.search(r'<p id="preview-subject">(.*?)</p>', page, re.S).group(1))
    assert subject.startswith("Subject: Recordatorio: su cita del")
    assert f"a las {spanish_time(local)}" in subject
    text = re.search(r'<pre id="preview-text"[^>]*>(.*?)</pre>', page, re.S).group(1)
    assert "Lucía Paredes" in text and f"a las {spanish_time(local)}." in text
    # The HTML body is inside the sandboxed iframe's srcdoc, escaped: none of its tags is on the page.
    srcdoc = re.search(r'<iframe sandbox [^>]*srcdoc="([^"]*)"', page).group(1)
    assert "&lt;strong&gt;Lucía Paredes&lt;/strong&gt;" in srcdoc
    assert "<strong>Lucía Paredes</strong>" not in page
    assert 'id="send-again"' in page  # a held message can be sent again


def test_client_text_in_the_preview_is_escaped_everywhere(admin_client, clock, book_soon):
    client = make_client(full_name='<script>alert("x")</script>', email="x@example.com", preferred_language="en")
    book_soon(client)
    reminders.queue_due_reminders(db.session)
    db.session.commit()

    page = body(details(admin_client, outbox_rows()[0].id))

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page  # the text preview, escaped once
    assert "&amp;lt;script&amp;gt;alert" in page  # the srcdoc: escaped by the email, then by the attribute


def test_a_cancelled_appointments_reminder_shows_why_it_is_no_longer_due(admin_client, clock, book_soon):
    appointment = book_soon(make_client(email="gone@example.com"))
    reminders.queue_due_reminders(db.session)
    db.session.commit()
    appointment.status = AppointmentStatus.CANCELLED
    db.session.commit()

    page = body(details(admin_client, outbox_rows()[0].id))

    assert "This message is no longer due: the appointment was cancelled" in text_of(page)
    assert "<iframe" not in page


def test_an_sms_preview_is_its_text_only(admin_client, clock, book_soon):
    client = make_client(email=None, phone="+51987654321", reminder_preference="sms", preferred_language="es")
    book_soon(client)
    reminders.queue_due_reminders(db.session)
    db.session.commit()

    page = body(details(admin_client, outbox_rows()[0].id))

    text = re.search(r'<pre [^>]*id="preview-text"[^>]*>(.*?)</pre>', page, re.S).group(1)
    assert text.startswith("Recordatorio: cita con Lucia Paredes el ")
    assert "<iframe" not in page and 'id="preview-subject"' not in page


def test_a_failed_reminder_notifies_the_admin_and_send_again_delivers_it(mail_app, smtp_sink, clock, book_soon):
    """The whole path: the server refuses, the admin is told, opens the message, sends it again."""
    admin = make_admin()
    ana = make_client(email="ana@example.com", preferred_language="en")
    book_soon(ana)
    smtp_sink.refuse["ana@example.com"] = "550 5.1.1 mailbox unavailable"
    reminders.queue_due_reminders(db.session)
    db.session.commit()  # delivered in-process: refused for good
    [message] = outbox_rows()
    assert message.status == MessageStatus.FAILED
    browser = mail_app.test_client()
    assert login(browser, admin.email).status_code == 302

    notices = browser.get("/admin/notifications/")
    link = f"/admin/outbox/details/?id={message.id}"
    assert link in body(notices)
    page = browser.get(link)
    assert detail_fields(page)["Last error"] == "SMTP 550 5.1.1 mailbox unavailable"
    smtp_sink.refuse.clear()  # the client fixed their mailbox

    response = press_send_again(browser, page)

    assert "1 message queued to be sent again." in flashed(response)
    assert response.request.path == "/admin/outbox/details/"  # back on the message
    [received] = smtp_sink.to("ana@example.com")
    assert received["Subject"].startswith("Reminder: your appointment on")
    db.session.expire_all()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.SENT, 1, None)
    assert detail_fields(response)["Status"] == "Sent"


def test_the_bulk_action_sends_again_and_refuses_what_is_still_in_progress(admin_client, clock, book_soon):
    book_soon(make_client(email="held@example.com"))
    reminders.queue_due_reminders(db.session)
    db.session.commit()  # no mail server: on hold after its first try
    [held] = outbox_rows()
    held.attempts = 3  # as if tried before
    queued = make_message("queued@example.com", MessageStatus.QUEUED)
    sending = make_message("sending@example.com", MessageStatus.SENDING, attempts=1)
    db.session.commit()

    response = send_again(admin_client, admin_client.get(OUTBOX), held.id, queued.id, sending.id)

    assert response.status_code == 200
    assert flashed(response) == ["1 message queued to be sent again.", IN_PROGRESS]
    db.session.expire_all()
    # Still no mail server: a fresh set of tries, whose first put it on hold again.
    assert (held.status, held.attempts) == (MessageStatus.HELD, 1)
    assert (queued.status, queued.attempts) == (MessageStatus.QUEUED, 0)
    assert (sending.status, sending.attempts) == (MessageStatus.SENDING, 1)


def test_send_again_on_a_message_in_progress_is_refused_with_a_message(admin_client):
    sending = make_message("sending@example.com", MessageStatus.SENDING, attempts=1)
    db.session.commit()
    page = details(admin_client, sending.id)
    assert 'id="send-again"' not in body(page)  # not offered

    response = send_again(admin_client, page, sending.id)  # a stale page, or a hand-made POST

    assert response.status_code == 200
    assert flashed(response) == [IN_PROGRESS]
    db.session.expire_all()
    assert (sending.status, sending.attempts) == (MessageStatus.SENDING, 1)


@pytest.fixture(scope="module")
def csrf_app(database_url, migrated_app):
    """The app with CSRF checks on, as in production (the rest of the suite turns them off)."""
    return make_app(database_url, WTF_CSRF_ENABLED=True)


def test_send_again_needs_the_csrf_token_the_page_gives(app, csrf_app):
    make_admin()
    failed = make_message("failed@example.com", MessageStatus.FAILED)
    db.session.commit()
    browser = csrf_app.test_client()
    token = csrf_token(browser.get("/login"))
    signed_in = browser.post("/login", data={"email": "staff@example.com", "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302
    page = details(browser, failed.id)

    forged = browser.post(f"{OUTBOX}action/", data={"action": "send_again", "rowid": str(failed.id)})
    assert forged.status_code == 400
    db.session.expire_all()
    assert failed.status == MessageStatus.FAILED

    pressed = press_send_again(browser, page)
    assert "1 message queued to be sent again." in flashed(pressed)
    db.session.expire_all()
    # Tried again: its made-up appointment does not exist, so the new try withdraws it.
    assert (failed.status, failed.last_error) == (MessageStatus.WITHDRAWN, "the appointment was deleted")


def test_the_outbox_is_read_only_and_has_no_export(admin_client):
    message = make_message("sent@example.com", MessageStatus.SENT)
    db.session.commit()

    page = body(admin_client.get(OUTBOX))

    assert "/admin/outbox/new/" not in page and "/admin/outbox/edit/" not in page
    assert "/admin/outbox/export/" not in page
    assert admin_client.get(f"{OUTBOX}edit/?id={message.id}").status_code == 302
    admin_client.post(
        f"{OUTBOX}delete/", data={"id": str(message.id), "csrf_token": csrf_token(details(admin_client, message.id))}
    )
    assert db.session.get(OutboundMessage, message.id) is not None


def test_a_therapist_is_refused_the_outbox(therapist_client):
    message = make_message("sent@example.com", MessageStatus.SENT)
    db.session.commit()

    assert therapist_client.get(OUTBOX).status_code == 403
    assert details(therapist_client, message.id).status_code == 403
    assert (
        therapist_client.post(f"{OUTBOX}action/", data={"action": "send_again", "rowid": str(message.id)}).status_code
        == 403
    )
