"""No query per row (issue 22, "Done when"): every staff page (each list view's list, details page of
one record, CSV and XLSX export, and every other page a GET opens) and every portal page sends as many
statements with two therapists' caseloads holding one record of every kind as after each has grown by
GROWTH more (clients, appointments with participants, invoices, payments and allocations,
authorizations, links, requests, notes, survey answers, messages, notifications, reservations,
statements, tasks... and the audit events of all).

The pages come from the registered views and `app.url_map`, as in tests/integration/test_url_walk.py,
so a screen added later is counted without editing this file. Each page is read once before it is
counted (what a process caches on its first request, labels and settings, is no row's cost).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import (
    Allocation,
    AllocationKind,
    Channel,
    Client,
    ClientLink,
    JobRun,
    JobState,
    LinkKind,
    MessageStatus,
    OutboundMessage,
    Payer,
    Payment,
    PayoutStatement,
    PayoutStatus,
    RequestAction,
    Therapist,
)
from admin_app.models.base import utcnow
from admin_app.services.job_runs import runs
from admin_app.services.messaging import reminders
from admin_app.services.messaging.notifications import CLIENT_REQUEST_DONE, notify_user
from admin_app.services.people import clinical_notes
from admin_app.services.tasks import client_requests
from tests.conftest import login
from tests.factories import (
    PASSWORD,
    book,
    client_payment,
    issued_invoice,
    make_admin,
    make_answer,
    make_authorization,
    make_bad_fit_entry,
    make_client,
    make_invitation,
    make_manual_task,
    make_payer,
    make_reservation,
    make_site,
    pays_for,
)
from tests.integration.test_url_walk import SIGNING_OUT, view_models, walked_rules
from tests.isolation import Caseload, rule_arguments, two_caseloads
from tests.queries import counted_queries

GROWTH = 20

# Pages that may send a few more statements when the data grows, and why; never one per row.
ALLOWED_GROWTH: dict[str, int] = {}


@pytest.fixture(autouse=True)
def last_progress_only(monkeypatch):
    """A page that starts a run in the background performs it in the request here (no runner runs),
    and the run writes its progress once per ProgressWriter.EVERY_SECONDS of work: how many writes
    depends on the machine's speed, not on the rows (CI under load counted one more). Only the last
    is written in these tests."""
    monkeypatch.setattr(runs.ProgressWriter, "EVERY_SECONDS", math.inf)


def grow(caseload: Caseload, payer, indexes: range) -> None:
    """One more of every kind of record for the caseload's therapist and client per index: a new
    client each time, with a session of the caseload's client and one of the new client in the weeks before the
    clock's today (invoiced, paid), one ahead, and what the portal and the staff read about them."""
    therapist, client = db.session.get(Therapist, caseload.ids[Therapist]), db.session.get(Client, caseload.ids[Client])
    for index in indexes:
        day = dt.date(2026, 11, 9) + dt.timedelta(days=index)
        newcomer = make_client(therapist, full_name=f"Grown Client {therapist.id}-{index}")
        pays_for(newcomer, payer)
        make_authorization(newcomer, payer, 10, dt.date(2026, 11, 1), dt.date(2027, 3, 31))
        room = make_site(f"Grown site {therapist.id}-{index}", rooms=(f"Grown room {therapist.id}-{index}",)).rooms[0]
        for who in (client, newcomer):
            hour = 8 if who is client else 9
            on_site = {"room": room} if who is client else {}
            appointment = book(therapist, [who], dt.datetime.combine(day, dt.time(hour)), payer=payer, **on_site)
            participant = appointment.participants[0]
            issued_invoice(payer, [participant])
            client_payment(who, Decimal("50.00"), day, allocations=[(participant, "40.00")])
        # The caseload's own payment (its details page) settles a part of each new session too.
        db.session.add(
            Allocation(
                payment_id=caseload.ids[Payment],
                participant=participant,
                kind=AllocationKind.PAID,
                amount=Decimal("1.00"),
                currency=participant.currency,
                applied_on=day,
            )
        )
        ahead = book(therapist, [newcomer], dt.datetime.combine(day + dt.timedelta(days=GROWTH + 1), dt.time(12)))
        make_bad_fit_entry(ahead.participants[0])
        request = client_requests.ask(
            db.session, therapist=therapist, client=newcomer, action=RequestAction.DEACTIVATE, reason="moving away"
        )
        clinical_notes.write(db.session, therapist=therapist, client_id=newcomer.id, text="first session")
        make_answer(make_invitation(newcomer, "2026-11"), 8, {therapist: 4}, comment="kind")
        make_manual_task(f"Call {newcomer.full_name}")
        db.session.add(
            OutboundMessage(
                channel=Channel.EMAIL,
                recipient=f"grown{index}@example.com",
                template=reminders.TEMPLATE,
                language="es",
                context={"participant_id": ahead.participants[0].id},
                client_id=newcomer.id,
                dedupe_key=f"grown-{therapist.id}-{index}",
                status=MessageStatus.FAILED,
            )
        )
        notify_user(db.session, therapist.user_id, CLIENT_REQUEST_DONE, request_id=request.id, client_id=newcomer.id)
        db.session.add(ClientLink(client=client, related_client=newcomer, kind=LinkKind.SIBLING_OF))
        make_reservation(room, therapist, 1 + index % 5, ("13:00", "14:00"), dt.date(2026, 9, 1))
        db.session.add(
            PayoutStatement(
                therapist=therapist,
                month=f"{2024 + index // 12}-{index % 12 + 1:02d}",
                cut_off=dt.date(2024 + index // 12, index % 12 + 1, 28),
                status=PayoutStatus.SENT,
                number=f"PS-grown-{therapist.id}-{index}",
                sent_at=utcnow(),
            )
        )
    db.session.commit()


def area_pages(app, area: str, owner: Caseload) -> list[tuple[str, str, dict]]:
    """(name, url, query) of every page under `area` ("/admin", "/portal") a GET opens, naming the
    owner's records: a list view's own record (the owner's, else the first of its kind), else the
    owner's client. An export is counted as CSV and as XLSX."""
    models = view_models(app)
    pages = []
    for rule in walked_rules(app):
        if not rule.rule.startswith(area) or "GET" not in rule.methods or rule.endpoint in SIGNING_OUT:
            continue
        own = models.get(rule.endpoint.rpartition(".")[0])
        record_id = owner.ids.get(own) or (own and first_id(own)) or owner.ids[Client]
        query = {"id": record_id, "month": "2026-11", "client": owner.ids[Client]}
        arguments = {
            **rule_arguments(rule, owner.ids),
            **({"run_id": first_id(JobRun)} if "run_id" in rule.arguments else {}),
        }
        for export_type in ("csv", "xlsx") if "export_type" in rule.arguments else (None,):
            if export_type:
                arguments["export_type"] = export_type
            name = f"{rule.endpoint} {export_type}" if export_type else rule.endpoint
            pages.append((name, rule.build(arguments)[1], query))
    return sorted(pages)


def first_id(model) -> int | None:
    key = model.__mapper__.primary_key[0]
    return db.session.scalar(select(key).order_by(key).limit(1))


def counts(client, pages) -> dict[str, tuple[int, int]]:
    """The status and the number of statements of each page, read once first. Each request starts
    with an empty session, as in production: the test's app context (and so its session) outlives the requests, and a
    record already in the session's identity map would be read without a query."""
    sent = {}
    for name, url, query in pages:
        db.session.remove()
        client.get(url, query_string=query)
        db.session.remove()
        with counted_queries() as statements:
            response = client.get(url, query_string=query)
            response.get_data()  # a streamed export reads its rows here
        sent[name] = (response.status_code, len(statements))
    return sent


def a_practice() -> tuple[Caseload, Caseload]:
    """Rosa's and Jorge's caseloads with one grown record of every kind (so a page that reads a kind
    only when there is one reads it at both sizes), and a finished run in the background."""
    rosa, jorge = two_caseloads()
    payer = make_payer("Grown insurer")
    for caseload in (rosa, jorge):
        grow(caseload, payer, range(1))
    db.session.add(JobRun(kind="payout-zip", key="payout-zip:2026-11", state=JobState.DONE, language="en", result={}))
    db.session.commit()
    return rosa, jorge


def grown_by(client, pages, *caseloads: Caseload) -> list[str]:
    """The pages whose status or number of statements changes when each caseload grows by GROWTH
    more of every kind of record (beyond an allowance of ALLOWED_GROWTH), as "page: before -> after"."""
    small = counts(client, pages)
    payer = db.session.scalar(select(Payer).where(Payer.name == "Grown insurer"))
    for caseload in caseloads:
        grow(caseload, payer, range(1, GROWTH + 1))
    large = counts(client, pages)
    return [
        f"{name}: {small[name][1]} -> {large[name][1]}"
        + (f" (HTTP {small[name][0]} -> {large[name][0]})" if small[name][0] != large[name][0] else "")
        for name in small
        if small[name][0] != large[name][0] or large[name][1] > small[name][1] + ALLOWED_GROWTH.get(name, 0)
    ]


@pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)
def test_no_staff_list_details_or_export_sends_a_query_per_row(app, client, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))  # the approval letters' folder
    rosa, jorge = a_practice()
    staff = make_admin()
    db.session.commit()
    assert login(client, staff.email, PASSWORD).status_code == 302
    pages = area_pages(app, "/admin", jorge)
    assert len(pages) > 100, len(pages)  # the views really were found
    grown = grown_by(client, pages, rosa, jorge)
    assert not grown, "\n".join(grown)


@pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)
def test_no_portal_page_sends_a_query_per_row(app, client, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    rosa, jorge = a_practice()
    assert login(client, rosa.therapist.email, PASSWORD).status_code == 302
    pages = area_pages(app, "/portal", rosa)
    assert len(pages) > 20, len(pages)
    grown = grown_by(client, pages, rosa, jorge)
    assert not grown, "\n".join(grown)
