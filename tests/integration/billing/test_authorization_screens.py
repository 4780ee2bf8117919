"""The authorization screens: the staff list with counts computed for the page in one query, the
colours of low and extension-requested rows (also on the client's page and the clients list), the
extension buttons, and the therapist portal's own list.

Clinic time is Lima; today is 1 October 2026.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AdminTask, Attendance, AuditEvent, Authorization, Notification, TaskKind, TaskStatus
from admin_app.services.billing import extensions
from admin_app.services.tasks import scan
from tests.conftest import sign_in_therapist
from tests.factories import book, make_authorization, make_client, make_payer, make_therapist, pays_for
from tests.pages import body, csv_rows, flashed, list_rows, row_ids, text_of
from tests.queries import counted_queries

TODAY = "2026-10-01T15:00Z"
LIST = "/admin/authorizations/"
pytestmark = pytest.mark.parametrize("clock", [TODAY], indirect=True)


@pytest.fixture
def practice(app):
    rosa = make_therapist(full_name="Rosa Mendoza")
    ana = make_client(rosa, full_name="Ana Quispe")
    icbc = make_payer("ICBC")
    pays_for(ana, icbc)
    # 10 approved; 2 attended and 1 booked: 7 left, valid for months: active.
    active = make_authorization(ana, icbc, 10, dt.date(2026, 9, 1), dt.date(2027, 3, 31), reference="CLAIM-1")
    for day in (2, 9):
        book(rosa, [ana], dt.datetime(2026, 9, day, 10), attendance=Attendance.ATTENDED)
    book(rosa, [ana], dt.datetime(2026, 10, 7, 10), attendance=Attendance.EXPECTED)
    db.session.commit()
    return SimpleNamespace(rosa=rosa, ana=ana, icbc=icbc, active=active)


def row_classes(response) -> dict[int, str]:
    """Row id (its checkbox or details link) → the class of its <tr> on a list page."""
    table = re.search(r'<table class="[^"]*model-list[^"]*">(.*?)</table>', body(response), re.S).group(1)
    classes = {}
    for found, row in re.findall(r'<tr(?: class="([^"]*)")?>(.*?)</tr>', table, re.S):
        row_id = re.search(r'name="rowid"[^>]*value="(\d+)"|details/\?id=(\d+)', row)
        if row_id:
            classes[int(row_id.group(1) or row_id.group(2))] = found
    return classes


def client_page_rows(admin_client, client) -> list[tuple[str, str]]:
    """(row class, row text) of each authorization on the client's page."""
    page = body(admin_client.get(f"/admin/client/details/?id={client.id}"))
    table = re.search(r'<table class="table table-sm" id="client-authorizations">(.*?)</table>', page, re.S)
    return [
        (classes, text_of(row))
        for classes, row in re.findall(r'<tr class="([^"]*)" data-authorization="\d+">(.*?)</tr>', table.group(1), re.S)
    ]


def add_authorizations(client, payer, count: int, **dates) -> None:
    for _ in range(count):
        make_authorization(
            client,
            payer,
            5,
            dates.get("valid_from", dt.date(2026, 9, 1)),
            dates.get("valid_until", dt.date(2027, 3, 31)),
        )
    db.session.commit()


def test_the_list_shows_counts_computed_from_the_participants(admin_client, practice):
    response = admin_client.get(LIST)

    assert response.status_code == 200
    [row] = list_rows(response)
    assert row["client"].startswith("Ana Quispe")
    assert row["payer"] == "ICBC"
    assert row["reference"] == "CLAIM-1"
    assert (row["approved"], row["scheduled"], row["used"], row["billed"], row["remaining"]) == (
        "10",
        "1",
        "2",
        "0",
        "7",
    )
    assert row["status"] == "Active"


def test_the_list_costs_the_same_queries_for_1_and_30_authorizations(admin_client, practice):
    admin_client.get(LIST)  # warm: the first request loads the login and the translations
    with counted_queries() as one:
        assert admin_client.get(LIST).status_code == 200
    add_authorizations(make_client(practice.rosa), practice.icbc, 29)
    with counted_queries() as thirty:
        response = admin_client.get(LIST)

    assert len(list_rows(response)) == 30
    assert len(thirty) == len(one)


def test_low_rows_are_red_and_extension_requested_rows_pink(admin_client, practice):
    beto = make_client(practice.rosa, full_name="Beto Quispe")
    low = make_authorization(beto, practice.icbc, 10, dt.date(2026, 9, 1), dt.date(2026, 10, 10), reference="SOON")
    carla = make_client(practice.rosa, full_name="Carla Ruiz")
    asked = make_authorization(carla, practice.icbc, 3, dt.date(2026, 9, 1), dt.date(2027, 3, 31), reference="ASKED")
    asked.extension_requested_at = dt.datetime(2026, 9, 30, tzinfo=dt.UTC)
    db.session.commit()

    response = admin_client.get(LIST)

    assert row_classes(response) == {
        practice.active.id: "",
        low.id: "authorization-low",
        asked.id: "authorization-extension-requested",
    }
    statuses = {row["reference"]: row["status"] for row in list_rows(response)}
    assert statuses == {"CLAIM-1": "Active", "SOON": "Low", "ASKED": "Extension requested"}
    clients = admin_client.get("/admin/client/")
    assert row_classes(clients) == {
        practice.ana.id: "",
        beto.id: "authorization-low",
        carla.id: "authorization-extension-requested",
    }
    assert client_page_rows(admin_client, beto) == [
        ("authorization-low", "ICBC SOON 10 0 0 0 10 2026-09-01 2026-10-10 Low")
    ]


def test_the_clients_list_costs_the_same_queries_whatever_their_authorizations(admin_client, practice):
    admin_client.get("/admin/client/")
    with counted_queries() as few:
        admin_client.get("/admin/client/")
    for n in range(20):
        add_authorizations(make_client(practice.rosa, full_name=f"Zoe {n:02d}"), practice.icbc, 1)
    with counted_queries() as many:
        admin_client.get("/admin/client/")
    assert len(many) == len(few)


def test_the_client_page_lists_the_authorizations_with_counts_and_status(admin_client, practice):
    assert client_page_rows(admin_client, practice.ana) == [
        ("", "ICBC CLAIM-1 10 1 2 0 7 2026-09-01 2027-03-31 Active")
    ]


def test_the_list_searches_by_client_and_reference_and_filters_by_payer(admin_client, practice):
    other = make_payer("WorkSafeBC")
    make_authorization(
        make_client(full_name="Luis Soto"), other, 4, dt.date(2026, 9, 1), dt.date(2026, 12, 31), reference="WS-9"
    )
    db.session.commit()

    assert [r["reference"] for r in list_rows(admin_client.get(LIST + "?search=Soto"))] == ["WS-9"]
    assert [r["reference"] for r in list_rows(admin_client.get(LIST + "?search=CLAIM"))] == ["CLAIM-1"]


# --- extension ---------------------------------------------------------------------------------


def request_extension(admin_client, authorization_id: int):
    return admin_client.post(
        LIST + "action/",
        data={"action": "request_extension", "rowid": str(authorization_id), "url": LIST},
        follow_redirects=True,
    )


def test_request_then_record_an_extension_chained_without_overlap(admin_client, practice):
    response = request_extension(admin_client, practice.active.id)

    assert "Extension requested for 1 authorization." in flashed(response)
    assert [r["status"] for r in list_rows(response)] == ["Extension requested"]
    again = request_extension(admin_client, practice.active.id)
    assert "An extension of authorization ICBC CLAIM-1 was already requested." in flashed(again)

    form = admin_client.get(f"{LIST}extend/?id={practice.active.id}")
    assert "from 2027-04-01" in body(form)
    saved = admin_client.post(
        f"{LIST}extend/?id={practice.active.id}",
        data={"reference": "CLAIM-2", "approved_sessions": "6", "valid_until": "2027-06-30", "rate": "", "notes": ""},
        follow_redirects=True,
    )

    assert "Extension ICBC CLAIM-2 recorded, from 2027-04-01 to 2027-06-30." in flashed(saved)
    extension = db.session.scalar(select(Authorization).where(Authorization.reference == "CLAIM-2"))
    assert (extension.extends_id, extension.valid_from, extension.client_id) == (
        practice.active.id,
        dt.date(2027, 4, 1),
        practice.ana.id,
    )
    second = admin_client.post(
        f"{LIST}extend/?id={practice.active.id}",
        data={"reference": "CLAIM-3", "approved_sessions": "6", "valid_until": "2027-09-30"},
        follow_redirects=True,
    )
    assert "Authorization ICBC CLAIM-1 was already extended by ICBC CLAIM-2: extend that one." in flashed(second)
    assert db.session.scalar(select(Authorization).where(Authorization.reference == "CLAIM-3")) is None


def test_an_extension_ending_before_it_starts_is_refused_by_its_field(admin_client, practice):
    response = admin_client.post(
        f"{LIST}extend/?id={practice.active.id}",
        data={"reference": "CLAIM-2", "approved_sessions": "6", "valid_until": "2027-03-15"},
    )

    assert response.status_code == 200
    assert (
        "Valid until: an extension starts on 2027-04-01, the day after ICBC CLAIM-1 ends; it cannot end before that."
        in body(response)
    )
    assert db.session.scalars(select(Authorization)).all() == [practice.active]


def test_a_closed_authorization_cannot_be_asked_for_an_extension(admin_client, practice):
    closed = admin_client.post(
        LIST + "action/", data={"action": "close", "rowid": str(practice.active.id), "url": LIST}, follow_redirects=True
    )
    assert "1 authorization closed." in flashed(closed)
    assert [r["status"] for r in list_rows(closed)] == ["Closed"]

    response = request_extension(admin_client, practice.active.id)

    assert "Authorization ICBC CLAIM-1 is closed." in flashed(response)
    db.session.expire_all()
    assert db.session.get(Authorization, practice.active.id).extension_requested_at is None


def test_the_details_page_offers_the_next_steps(admin_client, practice):
    page = body(admin_client.get(f"{LIST}details/?id={practice.active.id}"))

    assert 'value="request_extension"' in page
    assert 'value="close"' in page
    assert f"{LIST}extend/?id={practice.active.id}" in page


# --- the form ------------------------------------------------------------------------------------


def authorization_form(practice, **fields) -> dict:
    return {
        "client": str(practice.ana.id),
        "payer": str(practice.icbc.id),
        "reference": "NEW-1",
        "approved_sessions": "8",
        "valid_from": "2026-10-01",
        "valid_until": "2026-12-31",
        "rate": "",
        "currency": "",
        "therapist": "",
        "notes": "",
        **fields,
    }


def test_staff_create_an_authorization_and_its_counts_start_at_zero(admin_client, practice):
    response = admin_client.post(LIST + "new/?url=" + LIST, data=authorization_form(practice), follow_redirects=True)

    assert response.status_code == 200
    created = db.session.scalar(select(Authorization).where(Authorization.reference == "NEW-1"))
    assert created is not None
    row = next(r for r in list_rows(admin_client.get(LIST)) if r["reference"] == "NEW-1")
    assert (row["approved"], row["used"], row["scheduled"], row["remaining"]) == ("8", "0", "0", "8")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reference": "CLAIM-1"}, "Reference: ICBC already has an authorization CLAIM-1"),
        ({"valid_until": "2026-09-01"}, "Valid until: 2026-09-01 is before Valid from (2026-10-01)"),
        ({"rate": "120.00"}, "Currency: a rate needs its currency (Approved rate)"),
        ({"approved_sessions": "0"}, "Number must be between 1 and 10000."),
    ],
)
def test_a_wrong_authorization_is_refused_with_the_field_named(admin_client, practice, fields, message):
    response = admin_client.post(LIST + "new/?url=" + LIST, data=authorization_form(practice, **fields))

    assert response.status_code == 200
    assert message in body(response)
    assert db.session.scalars(select(Authorization)).all() == [practice.active]


# --- portal --------------------------------------------------------------------------------------


def test_the_portal_lists_only_the_therapists_own_clients_authorizations(client, practice):
    other = make_therapist(full_name="Jorge Salas")
    carlos = make_client(other, full_name="Carlos Soto")
    theirs = make_authorization(carlos, practice.icbc, 5, dt.date(2026, 9, 1), dt.date(2027, 3, 31), reference="THEIRS")
    sign_in_therapist(client, practice.rosa)

    response = client.get("/portal/authorizations/")

    assert response.status_code == 200
    assert row_ids(response) == {practice.active.id}
    assert [r["reference"] for r in list_rows(response)] == ["CLAIM-1"]
    assert "THEIRS" not in body(response)
    assert client.get(f"/portal/authorizations/details/?id={theirs.id}").status_code == 404


def test_documents_submitted_in_the_portal_tell_the_office_and_the_extension_comes_back(
    app, client, practice, admin_user
):
    other = make_therapist(full_name="Jorge Salas")
    theirs = make_authorization(make_client(other), practice.icbc, 5, dt.date(2026, 9, 1), dt.date(2027, 3, 31))
    sign_in_therapist(client, practice.rosa)
    page = client.get(f"/portal/authorizations/details/?id={practice.active.id}")
    assert "Documents submitted" in text_of(body(page))

    response = client.post(
        "/portal/authorizations/action/",
        data={"action": "request_extension", "rowid": [str(practice.active.id), str(theirs.id)]},
        follow_redirects=True,
    )

    assert "Documents submitted for 1 authorization: the office is told." in flashed(response)
    assert [r["status"] for r in list_rows(response)] == ["Extension requested"]
    db.session.expire_all()
    assert db.session.get(Authorization, theirs.id).extension_requested_at is None
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "payer_authorization", AuditEvent.action == "update")
    ).all()
    assert (event.entity_id, event.actor, event.changed_fields) == (
        practice.active.id,
        practice.rosa.email,
        ["extension_requested_at"],
    )
    # The office: a notice for the admin, and the task open now (not at the next scan).
    [notice] = db.session.scalars(select(Notification).where(Notification.user_id == admin_user.id)).all()
    assert (notice.kind, notice.params) == ("documents_submitted", {"authorization_id": practice.active.id})
    [task] = db.session.scalars(select(AdminTask).where(AdminTask.kind == TaskKind.EXTENSION_REQUESTED)).all()
    assert (task.subject, task.status) == (str(practice.active.id), TaskStatus.OPEN)
    assert scan.scan(db.session).opened == 0  # the scan finds it there

    # The payer answers; the office records the extension: the task closes, Rosa is told and sees it.
    extension = extensions.record_extension(
        db.session, practice.active.id, reference="CLAIM-2", approved_sessions=6, valid_until=dt.date(2027, 9, 30)
    )
    db.session.commit()
    assert db.session.get(AdminTask, task.id).status == TaskStatus.CLOSED
    rosa_notices = db.session.scalars(select(Notification).where(Notification.user_id == practice.rosa.user_id)).all()
    assert [(n.kind, n.params) for n in rosa_notices] == [
        ("extension_recorded", {"authorization_id": practice.active.id, "extension_id": extension.id})
    ]
    details = text_of(body(client.get(f"/portal/authorizations/details/?id={practice.active.id}")))
    assert "CLAIM-2, 6 sessions from 2027-04-01 to 2027-09-30" in details
    assert "CLAIM-2" in [r["reference"] for r in list_rows(client.get("/portal/authorizations/"))]


def test_a_therapist_whose_care_ended_no_longer_sees_the_authorization(client, practice):
    practice.ana.care_assignments[0].active = False
    db.session.commit()
    sign_in_therapist(client, practice.rosa)

    assert list_rows(client.get("/portal/authorizations/")) == []
    assert client.get(f"/portal/authorizations/details/?id={practice.active.id}").status_code == 404


def test_the_export_holds_the_counts_and_the_portal_export_only_own_rows(admin_client, practice, client):
    other = make_therapist(full_name="Jorge Salas")
    make_authorization(make_client(other), practice.icbc, 5, dt.date(2026, 9, 1), dt.date(2027, 3, 31), reference="X")
    db.session.commit()

    rows = csv_rows(admin_client.get(LIST + "export/csv/"))

    claim = next(row for row in rows if row["Reference"] == "CLAIM-1")
    assert (claim["Approved"], claim["Scheduled"], claim["Used"], claim["Remaining"], claim["Status"]) == (
        "10",
        "1",
        "2",
        "7",
        "Active",
    )
    assert len(rows) == 2
    admin_client.post("/logout")
    sign_in_therapist(client, practice.rosa)
    assert [row["Reference"] for row in csv_rows(client.get("/portal/authorizations/export/csv/"))] == ["CLAIM-1"]


def filter_arg(response, label: str) -> str:
    """The query-string name of a list filter, read from the page (Flask-Admin numbers them)."""
    groups = json.loads(html.unescape(re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', body(response)).group(1)))
    return f"flt0_{groups[label][0]['arg']}"


def test_the_list_filters_by_status(admin_client, practice):
    beto = make_client(practice.rosa, full_name="Beto Quispe")
    make_authorization(beto, practice.icbc, 10, dt.date(2026, 9, 1), dt.date(2026, 10, 10), reference="SOON")
    db.session.commit()
    arg = filter_arg(admin_client.get(LIST), "Status")

    assert [r["reference"] for r in list_rows(admin_client.get(f"{LIST}?{arg}=low"))] == ["SOON"]
    assert [r["reference"] for r in list_rows(admin_client.get(f"{LIST}?{arg}=active"))] == ["CLAIM-1"]
    assert list_rows(admin_client.get(f"{LIST}?{arg}=closed")) == []
    assert admin_client.get(f"{LIST}?{arg}=nonsense").status_code == 200


def test_the_client_of_an_authorization_with_linked_sessions_cannot_change(admin_client, practice):
    beto = make_client(practice.rosa, full_name="Beto Quispe")
    db.session.commit()

    response = admin_client.post(
        f"{LIST}edit/?id={practice.active.id}",
        data=authorization_form(
            practice, client=str(beto.id), reference="CLAIM-1", valid_from="2026-09-01", valid_until="2027-03-31"
        ),
    )

    assert "Client: sessions are already linked to this authorization; enter a new one instead" in body(response)
    db.session.expire_all()
    assert db.session.get(Authorization, practice.active.id).client_id == practice.ana.id


def test_the_portal_colours_the_therapists_clients_and_their_authorizations(client, practice):
    beto = make_client(practice.rosa, full_name="Beto Quispe")
    low = make_authorization(beto, practice.icbc, 2, dt.date(2026, 9, 1), dt.date(2027, 3, 31), reference="TWO")
    sign_in_therapist(client, practice.rosa)

    # The clients as the staff's caseload tab colours them (red: needs action).
    assert row_classes(client.get("/portal/clients/")) == {practice.ana.id: "", beto.id: "table-danger"}
    assert row_classes(client.get("/portal/authorizations/")) == {practice.active.id: "", low.id: "authorization-low"}


def test_an_authorization_entered_on_the_screen_takes_the_sessions_booked_before_it(admin_client, practice):
    """Two sessions in April 2027 were booked after CLAIM-1 (ending 31 March) and wait, linked to
    nothing. Entering NEW-2 (April to June, 8 approved) links them: 2 scheduled, 6 left."""
    waiting = [
        book(practice.rosa, [practice.ana], dt.datetime(2027, 4, day, 10), attendance=Attendance.EXPECTED)
        for day in (5, 12)
    ]
    db.session.commit()
    assert [a.participants[0].authorization_id for a in waiting] == [None, None]

    form = authorization_form(practice, reference="NEW-2", valid_from="2027-04-01", valid_until="2027-06-30")
    admin_client.post(LIST + "new/?url=" + LIST, data=form, follow_redirects=True)

    row = next(r for r in list_rows(admin_client.get(LIST)) if r["reference"] == "NEW-2")
    assert (row["approved"], row["used"], row["scheduled"], row["remaining"]) == ("8", "0", "2", "6")


def test_dates_corrected_on_the_screen_hand_the_sessions_outside_them_to_the_next_authorization(admin_client, practice):
    """CLAIM-1 (10 approved, 1 Sep 2026 - 31 Mar 2027) has 2 attended and 1 expected (7 Oct); two more
    are booked on 5 and 12 January. Its end is corrected to 31 December: the January sessions leave
    it (10 - 2 - 1 = 7 left) and go to NEXT-1 (5 approved from 1 January: 5 - 2 = 3 left)."""
    january = [
        book(practice.rosa, [practice.ana], dt.datetime(2027, 1, day, 10), attendance=Attendance.EXPECTED)
        for day in (5, 12)
    ]
    make_authorization(practice.ana, practice.icbc, 5, dt.date(2027, 1, 1), dt.date(2027, 3, 31), reference="NEXT-1")
    db.session.commit()
    assert {a.participants[0].authorization_id for a in january} == {practice.active.id}

    form = authorization_form(practice, reference="CLAIM-1", approved_sessions="10", valid_from="2026-09-01")
    form["valid_until"] = "2026-12-31"
    admin_client.post(f"{LIST}edit/?id={practice.active.id}&url={LIST}", data=form, follow_redirects=True)

    rows = {r["reference"]: r for r in list_rows(admin_client.get(LIST))}
    assert (rows["CLAIM-1"]["used"], rows["CLAIM-1"]["scheduled"], rows["CLAIM-1"]["remaining"]) == ("2", "1", "7")
    assert (rows["NEXT-1"]["used"], rows["NEXT-1"]["scheduled"], rows["NEXT-1"]["remaining"]) == ("0", "2", "3")
