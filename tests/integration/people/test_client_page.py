"""The staff's client page as a summary (issue 21): name, number and contact with *New appointment* and
*Edit* at the top; the next appointments, the history, the messages sent, who pays and the authorizations,
the links and the Bad Fit state, in a bounded number of queries.

Ana Flores Torres, on Saturday 5 December 2026, 10:00 in Lima (fees 150.00 PEN, ICBC pays):
- history: 2 Nov attended (Lucía, before ICBC took her on: billed to her), 9 Nov attended (Rosa), 16 Nov
  no-show (Rosa: she is on the Bad Fit list);
- next: Mon 7 Dec 10:00 on site in Miraflores · Room 1 (Rosa), Mon 14 Dec 18:00 virtual (Lucía); a
  cancelled 21 Dec is not shown;
- ICBC's authorization IC-1: 10 approved, 1 used, 2 scheduled (the cancelled one is not), 7 left;
- guardian of Luis, partner of Marco (the link written from his side);
- a reminder by SMS (sent), a survey invitation (failed) and a receipt (queued).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import (
    AppointmentStatus,
    Attendance,
    Channel,
    ClientLink,
    LinkKind,
    MessageStatus,
    OutboundMessage,
)
from admin_app.services.billing import receipts
from admin_app.services.messaging import reminders
from admin_app.services.platform.clinic_time import from_local
from admin_app.services.surveys import invitations
from admin_app.services.tasks import bad_fit
from tests.conftest import sign_in_therapist
from tests.factories import (
    book,
    make_authorization,
    make_client,
    make_payer,
    make_site,
    make_therapist,
    pays_for,
)
from tests.pages import body, table_rows, text_of
from tests.queries import counted_queries

pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)


def page_of(admin_client, client):
    response = admin_client.get(f"/admin/client/details/?id={client.id}")
    assert response.status_code == 200
    return body(response)


def section(page: str, section_id: str) -> str:
    found = re.search(rf'<section[^>]*id="{section_id}"[^>]*>(.*?)</section>', page, re.S)
    assert found, f"no section {section_id}"
    return found.group(1)


def message(client, template: str, day: int, *, status=MessageStatus.QUEUED, sent_minute=None, sms=False):
    """An outbox row for the client, written on that day of December at 09:00 Lima (delivered
    `sent_minute` minutes past the hour)."""
    written = from_local(dt.datetime(2026, 12, day, 9, 0))
    row = OutboundMessage(
        channel=Channel.SMS if sms else Channel.EMAIL,
        recipient=client.phone if sms else client.email,
        template=template,
        language="en",
        dedupe_key=f"{template}-{client.id}-{day}-{sms}",
        client_id=client.id,
        status=status,
        created_at=written,
        sent_at=None if sent_minute is None else written + dt.timedelta(minutes=sent_minute),
    )
    db.session.add(row)
    return row


@pytest.fixture
def ana(app):
    rosa = make_therapist(full_name="Rosa Mendoza")
    lucia = make_therapist(full_name="Lucía Paredes")
    room = make_site("Miraflores", rooms=("Room 1",)).rooms[0]
    icbc = make_payer("ICBC")
    ana = make_client(
        rosa,
        full_name="Ana Flores Torres",
        national_id="12345678",
        email="ana.flores@example.com",
        phone="+51987654321",
    )
    book(lucia, [ana], dt.datetime(2026, 11, 2, 18))  # before ICBC took her on: billed to her
    pays_for(ana, icbc).member_number = "M-77"
    make_authorization(ana, icbc, 10, dt.date(2026, 9, 1), dt.date(2027, 3, 31), reference="IC-1")
    book(rosa, [ana], dt.datetime(2026, 11, 9, 10))
    book(rosa, [ana], dt.datetime(2026, 11, 16, 10), attendance=Attendance.NO_SHOW)
    book(rosa, [ana], dt.datetime(2026, 12, 7, 10), attendance=Attendance.EXPECTED, room=room)
    book(lucia, [ana], dt.datetime(2026, 12, 14, 18), attendance=Attendance.EXPECTED)
    book(
        lucia, [ana], dt.datetime(2026, 12, 21, 18), attendance=Attendance.EXPECTED, status=AppointmentStatus.CANCELLED
    )
    luis = make_client(full_name="Luis Flores", client_number="0042")
    marco = make_client(full_name="Marco Díaz", client_number="0043")
    db.session.add_all(
        [
            ClientLink(client=ana, kind=LinkKind.GUARDIAN_OF, related_client=luis),
            ClientLink(client=marco, kind=LinkKind.PARTNER_OF, related_client=ana),
        ]
    )
    bad_fit.scan_bad_fit(db.session)
    message(ana, reminders.TEMPLATE, 1, status=MessageStatus.SENT, sent_minute=5, sms=True)
    message(ana, invitations.TEMPLATE, 2, status=MessageStatus.FAILED)
    message(ana, receipts.TEMPLATE, 3)
    db.session.commit()
    return ana


def test_the_header_names_the_client_with_number_contact_and_the_buttons(admin_client, ana):
    page = page_of(admin_client, ana)

    header = re.search(r'<header[^>]*id="client-header">(.*?)</header>', page, re.S).group(1)
    assert text_of(re.search(r"<h1[^>]*>(.*?)</h1>", header, re.S).group(1)) == "Ana Flores Torres On the Bad Fit list"
    assert text_of(re.search(r'id="client-contact">(.*?)</p>', header, re.S).group(1)) == (
        f"Client no. {ana.client_number} National ID 12345678 ana.flores@example.com +51987654321"
    )
    assert 'href="mailto:ana.flores@example.com"' in header and 'href="tel:+51987654321"' in header
    assert re.search(rf'id="book-client"\s+href="/admin/appointment/new/\?client={ana.id}', header)
    assert f'href="/admin/client/edit/?id={ana.id}' in header
    assert f'href="/admin/client/access/?id={ana.id}"' in header


def test_the_next_appointments_are_the_booked_ones_soonest_first(admin_client, ana):
    assert table_rows(page_of(admin_client, ana), "client-next-appointments") == [
        ["Mon 7 Dec 2026 10:00–10:50", "Rosa Mendoza", "On-site", "Miraflores · Room 1"],
        ["Mon 14 Dec 2026 18:00–18:50", "Lucía Paredes", "Virtual", ""],
    ]


def test_the_history_is_the_past_appointments_newest_first_with_attendance_fee_and_payer(admin_client, ana):
    page = page_of(admin_client, ana)

    assert table_rows(page, "client-past-appointments") == [
        ["Mon 16 Nov 2026 10:00–10:50", "Rosa Mendoza", "No-show", "PEN 150.00 · ICBC"],
        ["Mon 9 Nov 2026 10:00–10:50", "Rosa Mendoza", "Attended", "PEN 150.00 · ICBC"],
        ["Mon 2 Nov 2026 18:00–18:50", "Lucía Paredes", "Attended", "PEN 150.00"],
    ]
    link = re.search(r'href="([^"]+)" id="client-appointments-link"', page).group(1).replace("&amp;", "&")
    listed = admin_client.get(link)
    assert listed.status_code == 200
    assert len(re.findall(r'name="rowid"', body(listed))) == 6  # every appointment of hers, the cancelled too


def test_who_pays_and_the_authorizations(admin_client, ana):
    payment = section(page_of(admin_client, ana), "client-payment")

    assert text_of(re.search(r'id="client-payment-sources">(.*?)</ul>', payment, re.S).group(1)) == (
        "ICBC · Member number M-77 Bills new appointments"
    )
    assert table_rows(payment, "client-authorizations") == [
        ["ICBC", "IC-1", "10", "2", "1", "0", "7", "2026-09-01", "2027-03-31", "Active"]
    ]


def test_a_client_without_a_payer_is_self_pay(admin_client, app):
    alone = make_client(full_name="Eva Luna")
    db.session.commit()

    payment = section(page_of(admin_client, alone), "client-payment")

    assert "New appointments are billed to the client." in text_of(payment)
    assert "No authorization." in text_of(payment)


def test_the_links_read_from_this_clients_side_and_lead_to_the_other_client(admin_client, ana):
    links = section(page_of(admin_client, ana), "client-links")

    assert [text_of(item) for item in re.findall(r"<li[^>]*>(.*?)</li>", links, re.S)] == [
        "guardian of Luis Flores (client 0042)",
        "partner of Marco Díaz (client 0043)",
    ]
    luis_id = db.session.scalar(select(ClientLink.related_client_id).where(ClientLink.client_id == ana.id))
    assert f'href="/admin/client/details/?id={luis_id}"' in links


def test_the_bad_fit_state_shows_the_open_entry(admin_client, ana):
    page = page_of(admin_client, ana)

    assert table_rows(section(page, "client-bad-fit-state"), "client-bad-fit") == [
        ["No-show", "Nov 16, 2026", "Rosa Mendoza", "", "To review", "", ""]
    ]


def test_the_messages_sent_newest_first_with_kind_channel_when_and_state(admin_client, ana):
    assert table_rows(page_of(admin_client, ana), "client-message-list") == [
        ["Receipt", "Email", "Thu 3 Dec 2026 09:00", "Queued"],
        ["Survey invitation", "Email", "Wed 2 Dec 2026 09:00", "Failed"],
        ["Appointment reminder", "SMS", "Tue 1 Dec 2026 09:05", "Sent"],
    ]


def test_a_client_with_nothing_yet_gets_a_line_in_each_section(admin_client, app):
    new = make_client(full_name="Eva Luna")
    db.session.commit()

    page = page_of(admin_client, new)

    for line in ("client-next-none", "client-history-none", "client-messages-none", "client-links-none"):
        assert f'id="{line}"' in page
    assert "Never listed." in text_of(section(page, "client-bad-fit-state"))


def test_the_headings_go_in_order_and_the_record_and_notes_stay(admin_client, ana):
    page = page_of(admin_client, ana)

    levels = [int(level) for level in re.findall(r"<h([1-6])\b", page)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(later <= earlier + 1 for earlier, later in zip(levels, levels[1:], strict=False))
    record = section(page, "client-record")
    assert "National ID" in record and "Therapists" in record
    assert 'id="clinical-notes"' in page


def test_the_page_costs_the_same_queries_however_long_the_history(admin_client, ana):
    with counted_queries() as few:
        page_of(admin_client, ana)
    therapist = make_therapist(full_name="Tomás Vidal")
    for day in range(1, 31):
        book(therapist, [ana], dt.datetime(2026, 10, day, 8))
        message(ana, reminders.TEMPLATE, day)
    db.session.commit()

    with counted_queries() as many:
        page = page_of(admin_client, ana)

    assert len(table_rows(page, "client-past-appointments")) == 20
    assert "The latest 20 of 33." in text_of(section(page, "client-history"))
    assert "The latest 20 of 33." in text_of(section(page, "client-messages"))
    assert len(many) == len(few) <= 20


def test_reading_the_page_is_still_audited(admin_client, ana):
    from admin_app.models import AuditAction, AuditEvent

    page_of(admin_client, ana)

    viewed = db.session.scalars(
        select(AuditEvent.entity_id).where(AuditEvent.action == AuditAction.VIEW, AuditEvent.entity == "client")
    ).all()
    assert viewed == [ana.id]


def test_a_therapist_gets_no_staff_page_and_the_portal_page_only_of_their_own_client(app, ana):
    """The staff page is for the staff, even for the client's own therapist; the portal's page still
    works for her, and another therapist finds no such client there."""
    outsider = make_therapist(full_name="Otro Terapeuta")
    for therapist, portal_status in ((ana.care_assignments[0].therapist, 200), (outsider, 404)):
        browser = sign_in_therapist(app.test_client(), therapist)

        assert browser.get(f"/admin/client/details/?id={ana.id}").status_code == 403
        portal = browser.get(f"/portal/clients/details/?id={ana.id}")
        assert portal.status_code == portal_status
        if portal_status == 200:
            assert "Ana Flores Torres" in body(portal) and 'id="clinical-notes"' in body(portal)
