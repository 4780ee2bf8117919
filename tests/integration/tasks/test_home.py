"""The staff's home: open tasks first (each saying what it is about and linking to its subject), the
Bad Fit entries to review, the day's summary; the bell counting my tasks. Today is Saturday
5 December 2026, 10:00 in Lima.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from admin_app.extensions import db
from admin_app.models import (
    AppointmentStatus,
    Attendance,
    BadFitEntry,
    BadFitReason,
    Channel,
    Invoice,
    InvoiceStatus,
    MessageStatus,
    OutboundMessage,
    PayoutStatement,
    TaskKind,
    TaskStatus,
)
from admin_app.views.tasks.home import HOME_LIMIT
from tests.conftest import login
from tests.factories import book, make_admin, make_authorization, make_client, make_payer, make_therapist
from tests.integration.tasks.test_task_actions import HOME, TODAY, make_task
from tests.pages import body, list_rows, table_rows
from tests.queries import counted_queries

pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)


def links_of(page, table: str) -> dict[str, str]:
    """Description → href of the first link of each row of a table."""
    found = re.search(rf'<table[^>]*id="{table}"[^>]*>(.*?)</table>', body(page), re.S).group(1)
    return {
        html.unescape(re.sub(r"\s+", " ", text).strip()): html.unescape(href)
        for href, text in re.findall(r'<td class="col-description"><a href="([^"]+)">(.*?)</a>', found, re.S)
    }


def summary(page) -> dict[str, str]:
    items = re.findall(r'<li data-figure="([\w-]+)">.*?<b>(\d+)</b>', body(page), re.S)
    return dict(items)


def message(status: MessageStatus, n: int) -> OutboundMessage:
    sent = OutboundMessage(
        channel=Channel.EMAIL,
        recipient=f"c{n}@example.com",
        template="reminder",
        language="es",
        dedupe_key=f"test-{n}",
        status=status,
    )
    db.session.add(sent)
    return sent


@pytest.fixture
def practice(app):
    """Rosa Mendoza's clients: Ana Quispe's ICBC authorization A-77 is low (an open task), Ben
    Torres did not come on 1 December (an open Bad Fit entry); a day of appointments, messages,
    an invoice draft and a draft payout statement."""
    rosa = make_therapist(full_name="Rosa Mendoza")
    ana = make_client(rosa, full_name="Ana Quispe")
    ben = make_client(rosa, full_name="Ben Torres")
    icbc = make_payer("ICBC")
    authorization = make_authorization(
        ana, icbc, 10, dt.date(2026, 6, 1), dt.date(2026, 12, 20), reference="A-77", therapist=rosa
    )
    make_task(
        TaskKind.AUTHORIZATION_LOW,
        subject=str(authorization.id),
        params={"reference": "A-77", "remaining": 1, "valid_until": "2026-12-20"},
        client_id=ana.id,
        therapist_id=rosa.id,
    )
    make_task(title="Snoozed away", snoozed_until=dt.date(2026, 12, 9))
    make_task(title="Already done", status=TaskStatus.DONE)
    missed = book(rosa, [ben], dt.datetime(2026, 12, 1, 9, 0), attendance=Attendance.NO_SHOW)
    db.session.add(
        BadFitEntry(
            client=ben,
            participant=missed.participants[0],
            therapist=rosa,
            reason=BadFitReason.NO_SHOW,
            on=dt.date(2026, 12, 1),
        )
    )
    book(rosa, [ana], dt.datetime(2026, 12, 5, 11, 0), attendance=Attendance.EXPECTED)
    book(rosa, [ben], dt.datetime(2026, 12, 5, 12, 0), attendance=Attendance.EXPECTED)
    book(
        rosa, [ana], dt.datetime(2026, 12, 5, 16, 0), attendance=Attendance.EXPECTED, status=AppointmentStatus.CANCELLED
    )
    book(rosa, [ana], dt.datetime(2026, 12, 6, 9, 0), attendance=Attendance.EXPECTED)  # tomorrow
    for n, status in enumerate((MessageStatus.QUEUED, MessageStatus.HELD, MessageStatus.FAILED, MessageStatus.SENT)):
        message(status, n)
    db.session.add(Invoice(payer=icbc, client=ana, currency="PEN", invoice_date=TODAY, period_end=TODAY))
    db.session.add(PayoutStatement(therapist=rosa, month="2026-11", cut_off=dt.date(2026, 11, 30)))
    db.session.commit()
    return authorization


def test_the_home_shows_the_open_task_the_bad_fit_entry_and_the_summary(admin_client, practice):
    page = admin_client.get(HOME)

    assert page.status_code == 200
    assert 'id="open-book" href="/admin/book/"' in body(page)
    assert table_rows(page, "home-tasks") == [
        [
            "Authorization A-77 of Ana Quispe is running out: sessions left 1, ends Dec 20, 2026",
            "Ana Quispe",
            "Nobody yet",
            "Sat 5 Dec 2026",
            table_rows(page, "home-tasks")[0][4],  # the actions
        ]
    ]
    assert links_of(page, "home-tasks") == {
        "Authorization A-77 of Ana Quispe is running out: sessions left 1, ends Dec 20, 2026": (
            f"/admin/authorizations/details/?id={practice.id}"
        )
    }
    assert table_rows(page, "home-bad-fit") == [["Ben Torres", "Rosa Mendoza", "No-show", "Tue 1 Dec 2026"]]
    assert 'href="/admin/bad-fit/"' in body(page)
    assert summary(page) == {
        "appointments-today": "2",
        "unsent-messages": "3",
        "invoice-drafts": "1",
        "payouts-waiting": "1",
        "bad-fit-open": "1",
    }


def test_every_kind_says_what_it_is_and_links_to_its_subject(admin_client, practice):
    kinds = [
        (TaskKind.EXTENSION_REQUESTED, "8", {"reference": "A-8", "requested_on": "2026-11-30"}),
        (TaskKind.AUTHORIZATION_EXPIRED, "9", {"reference": "A-9", "valid_until": "2026-11-30", "booked": 2}),
        (
            TaskKind.INVOICE_OVERDUE,
            "3",
            {"payer": "ICBC", "count": 2, "due_on": "2026-11-04", "balances": {"PEN": "150.00", "USD": "40.00"}},
        ),
        (TaskKind.MESSAGE_FAILED, "failed", {"count": 3, "oldest": "2026-12-01"}),
        (TaskKind.BAD_FIT, "5", {"reason": "two_cancellations", "on": "2026-12-02"}),
        (TaskKind.PAYOUTS_WAITING, "2026-11", {"month": "2026-11", "count": 4}),
        (TaskKind.INVOICE_DRAFTS_OLD, "drafts", {"count": 6, "oldest": "2026-11-01", "days": 14}),
    ]
    for kind, subject, params in kinds:
        make_task(kind, subject=subject, params=params, client_id=practice.client_id)
    db.session.commit()

    links = links_of(admin_client.get(HOME), "home-tasks")

    assert links == {
        "Authorization A-77 of Ana Quispe is running out: sessions left 1, ends Dec 20, 2026": (
            f"/admin/authorizations/details/?id={practice.id}"
        ),
        "Extension of authorization A-8 of Ana Quispe requested on Nov 30, 2026: record the new authorization "
        "once the payer approves it": "/admin/authorizations/details/?id=8",
        "Authorization A-9 of Ana Quispe ended Nov 30, 2026 with sessions still booked: 2": (
            "/admin/authorizations/details/?id=9"
        ),
        "Invoices to ICBC unpaid past its terms: 2, the oldest due Nov 4, 2026; PEN 150.00, $40.00 open": (
            "/admin/billing/ageing/"
        ),
        "Messages that could not be sent: 3, the oldest of Dec 1, 2026": links[
            "Messages that could not be sent: 3, the oldest of Dec 1, 2026"
        ],
        "Ana Quispe cancelled twice in a row, the second time on Dec 2, 2026: on the Bad Fit list": "/admin/bad-fit/",
        "Payout statements of November 2026 wait for approval: 4": "/admin/payouts/?month=2026-11",
        "Invoice drafts older than 14 days wait to be issued: 6": links[
            "Invoice drafts older than 14 days wait to be issued: 6"
        ],
    }
    db.session.add(
        Invoice(
            payer_id=practice.payer_id,
            currency="PEN",
            invoice_date=TODAY,
            period_end=TODAY,
            status=InvoiceStatus.ISSUED,
            series="ICBC",
            number="ICBC-000001",
        )
    )
    db.session.commit()
    drafts = admin_client.get(links["Invoice drafts older than 14 days wait to be issued: 6"])
    everything = admin_client.get("/admin/invoices/")
    assert (len(list_rows(drafts)), len(list_rows(everything))) == (1, 2)  # the draft of the practice, alone
    assert [row["status"] for row in list_rows(drafts)] == ["Draft"]

    for number, status in enumerate((MessageStatus.FAILED, MessageStatus.SENT)):
        db.session.add(
            OutboundMessage(
                channel=Channel.EMAIL,
                recipient="ana@example.com",
                template="appointment_reminder",
                language="es",
                dedupe_key=f"home:{number}",
                status=status,
            )
        )
    db.session.commit()
    failed = admin_client.get(links["Messages that could not be sent: 3, the oldest of Dec 1, 2026"])
    outbox = admin_client.get("/admin/outbox/")
    assert {row["status"] for row in list_rows(failed)} == {"Failed"}
    assert "Sent" in {row["status"] for row in list_rows(outbox)}


def test_a_request_and_a_task_added_by_hand_link_to_their_own_page(admin_client, practice):
    task = make_task(title="Phone Ana's employer")
    db.session.commit()

    assert links_of(admin_client.get(HOME), "home-tasks")["Phone Ana's employer"] == f"/admin/tasks/{task.id}"
    page = admin_client.get(f"/admin/tasks/{task.id}")
    assert page.status_code == 200 and "Phone Ana&#39;s employer" in body(page)


def test_a_missing_param_shows_a_dash_not_an_error(admin_client, practice):
    make_task(TaskKind.AUTHORIZATION_LOW, subject="999", params={"reference": "A-1"})
    db.session.commit()

    page = admin_client.get(HOME)

    assert page.status_code == 200
    assert "Authorization A-1 of — is running out: sessions left —, ends —" in links_of(page, "home-tasks")


def test_the_home_shows_a_screenful_of_50_tasks_in_as_many_queries_as_5(admin_client, admin_user):
    rosa = make_therapist(full_name="Rosa Mendoza")
    marta = make_admin("marta@example.com")

    def add_tasks(first: int, count: int) -> None:
        for n in range(first, first + count):
            client = make_client(rosa)
            make_task(
                TaskKind.MESSAGE_FAILED,
                subject=str(1000 + n),
                params={"channel": "email", "template": "reminder"},
                client_id=client.id,
                therapist_id=rosa.id,
                assigned_to_id=(admin_user, marta)[n % 2].id,
            )
        db.session.commit()

    add_tasks(0, 5)
    with counted_queries() as five:
        page = admin_client.get(HOME)
    assert len(table_rows(page, "home-tasks")) == 5
    assert "More open tasks: see the task list." not in page.get_data(as_text=True)
    add_tasks(5, 45)
    with counted_queries() as fifty:
        page = admin_client.get(HOME)
    assert len(table_rows(page, "home-tasks")) == HOME_LIMIT
    assert "More open tasks: see the task list." in page.get_data(as_text=True)
    assert len(five) == len(fifty)


def test_the_bell_counts_my_open_tasks_and_not_my_colleagues(client, admin_user, app):
    marta = make_admin("marta@example.com")
    make_task(title="mine", assigned_to_id=admin_user.id)
    make_task(title="mine, snoozed", assigned_to_id=admin_user.id, snoozed_until=dt.date(2026, 12, 9))
    make_task(title="mine, done", assigned_to_id=admin_user.id, status=TaskStatus.DONE)
    make_task(title="Marta's", assigned_to_id=marta.id)
    make_task(title="nobody's")
    db.session.commit()
    login(client, admin_user.email)

    with counted_queries() as statements:
        page = client.get("/admin/client/")

    assert re.search(r'id="task-count">(\d+)<', body(page)).group(1) == "1"
    assert len([s for s in statements if "FROM admin_task" in s]) == 1
    href = re.search(r'id="tasks-bell" href="([^"]+)"', body(page)).group(1).replace("&amp;", "&")
    mine = client.get(href)
    assert [row[0] for row in table_rows(mine, "task-list")] == ["mine"]

    other = app.test_client()
    login(other, marta.email)
    assert re.search(r'id="task-count">(\d+)<', body(other.get(HOME))).group(1) == "1"


def test_a_therapist_sees_no_task_bell_in_the_portal(therapist_client):
    page = therapist_client.get("/portal/")

    assert page.status_code == 200
    assert "tasks-bell" not in body(page)
