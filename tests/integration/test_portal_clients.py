"""The portal's My clients (issue 18): each client in my care now with the line of my caseload the
staff's caseloads tab shows (services.people.caseload), its colour and reasons, the export, the
filters, and the client's page.

Rosa Mendoza (signed in), on 5 December 2026 in Lima:
- Ana Quispe, ICBC: IC-NEW (6 approved, 1 Dec - 31 Mar) attended 1 Dec 08:00, booked 10 Dec 09:00; Jorge
  Salas also sees her (4 Dec, 11 Dec), on the same authorization → 2 left of 6: low, red. Her last and
  next appointments with Rosa are Rosa's own.
- Bea Soto, Pacific Blue Cross: PB-1 extension requested → pink.
- Carla Ruiz, self-pay, two attended sessions unpaid → red.
- Fede Ríos, indirect; Ivo Paz, client record deactivated (still in Rosa's care).
- Gabi Luna: Rosa's care ended: not listed.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from admin_app.extensions import db
from admin_app.models import AssignmentKind, Attendance, CareAssignment, Client
from tests.conftest import sign_in_therapist
from tests.factories import book, make_authorization, make_client, make_payer, make_therapist, pays_for
from tests.pages import body, csv_rows, detail_fields, list_rows, table_rows, text_of
from tests.queries import counted_queries

LIST = "/portal/clients/"
EXPECTED = Attendance.EXPECTED
pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)


@pytest.fixture
def practice(app, client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    jorge = make_therapist(full_name="Jorge Salas")
    icbc, blue = make_payer("ICBC"), make_payer("Pacific Blue Cross")
    people = {}
    slot = iter(range(8, 20))

    def person(name, payer=None, **assignment):
        people[name] = found = make_client(full_name=name, active=assignment.pop("client_active", True))
        db.session.add(CareAssignment(client=found, therapist=rosa, **assignment))
        if payer is not None:
            pays_for(found, payer)
        return found

    def on(name, day, therapist=rosa, **options):
        return book(therapist, [people[name]], dt.datetime(2026, 12, day, next(slot)), **options)

    person("Ana Quispe", icbc)
    make_authorization(people["Ana Quispe"], icbc, 6, dt.date(2026, 12, 1), dt.date(2027, 3, 31), reference="IC-NEW")
    on("Ana Quispe", 1)
    on("Ana Quispe", 10, attendance=EXPECTED)
    db.session.add(CareAssignment(client=people["Ana Quispe"], therapist=jorge))
    on("Ana Quispe", 4, therapist=jorge)
    on("Ana Quispe", 11, therapist=jorge, attendance=EXPECTED)
    person("Bea Soto", blue)
    make_authorization(
        people["Bea Soto"],
        blue,
        10,
        dt.date(2026, 11, 1),
        dt.date(2027, 6, 30),
        reference="PB-1",
        extension_requested_at=dt.datetime(2026, 12, 2, 18, tzinfo=dt.UTC),
    )
    person("Carla Ruiz")
    on("Carla Ruiz", 1)
    on("Carla Ruiz", 3)
    person("Fede Ríos", kind=AssignmentKind.INDIRECT)
    person("Ivo Paz", client_active=False)
    person("Gabi Luna", active=False, deactivated_on=dt.date(2026, 11, 15))
    db.session.commit()
    sign_in_therapist(client, rosa)
    return {"rosa": rosa, "jorge": jorge, **people}


def shown(response) -> dict[str, tuple[str, dict[str, str]]]:
    """Client → (row class, cells by column) of the list."""
    table = re.search(r'<table class="[^"]*model-list[^"]*">(.*?)</table>', body(response), re.S).group(1)
    rows = {}
    for row_class, row in re.findall(r'<tr(?: class="([^"]*)")?>(.*?)</tr>', table, re.S):
        cells = {name: text_of(value) for name, value in re.findall(r'<td class="col-([\w.]+)">(.*?)</td>', row, re.S)}
        if cells:
            rows[cells["full_name"]] = (row_class, cells)
    return rows


def test_each_client_shows_the_caseload_line_with_its_colour(client, practice):
    page = client.get(LIST)

    assert page.status_code == 200
    rows = shown(page)
    assert sorted(rows) == ["Ana Quispe", "Bea Soto", "Carla Ruiz", "Fede Ríos", "Ivo Paz"]
    row_class, ana = rows["Ana Quispe"]
    assert row_class == "table-danger"
    assert {name: ana[name] for name in ana if name not in ("client_number", "national_id", "email", "phone")} == {
        "full_name": "Ana Quispe",
        "kind": "Direct",
        "payment_source": "ICBC",
        "authorization": "IC-NEW",
        "remaining": "2 of 6",
        "valid_until": "Mar 31, 2027",
        "authorization_status": "Low",
        "attention": "Authorization low or expiring",
        # Rosa's own appointments, not Jorge's (4 and 11 December).
        "last_appointment": "Dec 1, 2026, 8:00 AM",
        "next_appointment": "Dec 10, 2026, 9:00 AM",
        "preferred_language": "es",
        "active": ana["active"],
    }
    assert rows["Bea Soto"][0] == "caseload-pink"
    assert rows["Bea Soto"][1]["attention"] == "Extension requested"
    assert rows["Carla Ruiz"][0] == "table-danger"
    assert (rows["Carla Ruiz"][1]["payment_source"], rows["Carla Ruiz"][1]["attention"]) == (
        "Self-pay",
        "2 unpaid sessions",
    )
    assert rows["Fede Ríos"][1]["kind"] == "Indirect" and rows["Fede Ríos"][0] == ""
    assert rows["Fede Ríos"][1]["authorization"] == "" and rows["Fede Ríos"][1]["last_appointment"] == "—"
    assert "Gabi Luna" not in body(page)


def test_the_list_filters_by_colour_and_by_active_client(client, practice):
    def names(**query):
        return sorted(row["full_name"] for row in list_rows(client.get(LIST, query_string=query)))

    # Flask-Admin's filter arguments: flt<position>_<filter index>; 0 is "active equals", 2 "colour is".
    assert names(flt0_2="red") == ["Ana Quispe", "Carla Ruiz"]
    assert names(flt0_2="pink") == ["Bea Soto"]
    assert names(flt0_2="none") == ["Fede Ríos", "Ivo Paz"]
    assert names(flt0_0="0") == ["Ivo Paz"]
    assert names(flt0_0="1", flt1_2="none") == ["Fede Ríos"]
    refused = client.get(LIST, query_string={"flt0_2": "purple"})
    assert refused.status_code == 200 and "Invalid Filter Value" in text_of(body(refused)).title()


def test_the_export_has_the_same_columns_as_plain_text(client, practice):
    response = client.get(f"{LIST}export/csv/")

    assert response.status_code == 200
    rows = {row["Name"]: row for row in csv_rows(response)}
    assert sorted(rows) == ["Ana Quispe", "Bea Soto", "Carla Ruiz", "Fede Ríos", "Ivo Paz"]
    ana = rows["Ana Quispe"]
    assert (ana["Kind"], ana["Payment source"], ana["Authorization"], ana["Remaining"]) == (
        "Direct",
        "ICBC",
        "IC-NEW",
        "2 of 6",
    )
    assert (ana["Attention"], text_of(ana["Last appointment"]), text_of(ana["Next appointment"])) == (
        "Authorization low or expiring",
        "Dec 1, 2026, 8:00 AM",
        "Dec 10, 2026, 9:00 AM",
    )
    assert rows["Carla Ruiz"]["Attention"] == "2 unpaid sessions"


def test_the_page_costs_the_same_statements_for_2_or_40_clients(app, client):
    """Each client referred, with an authorization, an attended session and a booked one."""
    nora, payer = make_therapist(full_name="Nora Díaz"), make_payer("Sun Life")
    sign_in_therapist(client, nora)

    def clients(first: int, last: int) -> None:
        for n in range(first, last):
            someone = make_client(nora, full_name=f"Client {n:02d}")
            pays_for(someone, payer)
            make_authorization(someone, payer, 4, dt.date(2026, 11, 1), dt.date(2027, 1, 31))
            book(nora, [someone], dt.datetime(2026, 11, 2 + n // 10, 8 + n % 10))
            book(nora, [someone], dt.datetime(2026, 12, 14 + n // 10, 8 + n % 10), attendance=EXPECTED)
        db.session.commit()

    clients(0, 2)
    with counted_queries() as few:
        page = client.get(LIST)
    assert len(list_rows(page)) == 2
    clients(2, 40)
    with counted_queries() as many:
        page = client.get(LIST)

    rows = list_rows(page)
    assert len(rows) == 40 and {row["remaining"] for row in rows} == {"2 of 4"}
    assert len(few) == len(many)


def test_the_clients_page_has_the_notes_read_only_the_authorizations_and_the_request(client, practice):
    ana = practice["Ana Quispe"]
    ana.notes = "Prefers mornings (office)"
    db.session.commit()

    page = client.get(f"{LIST}details/?id={ana.id}")

    assert page.status_code == 200
    assert detail_fields(page)["Notes"] == "Prefers mornings (office)"
    assert table_rows(page, "client-authorizations")[0][:2] == ["ICBC", "IC-NEW"]
    assert 'id="client-request"' in body(page) and "Ask to deactivate" in text_of(body(page))
    ivo = client.get(f"{LIST}details/?id={practice['Ivo Paz'].id}")
    assert "Ask to activate" in text_of(body(ivo))

    form = client.get(f"{LIST}edit/?id={ana.id}")
    assert 'name="notes"' not in body(form)
    client.post(
        f"{LIST}edit/?id={ana.id}",
        data={
            "email": ana.email,
            "phone": "",
            "preferred_language": "es",
            "reminder_preference": "email",
            "notes": "x",
        },
    )
    db.session.expire_all()
    assert db.session.get(Client, ana.id).notes == "Prefers mornings (office)"


def test_a_client_whose_care_ended_answers_404(client, practice):
    gabi = practice["Gabi Luna"].id
    assert client.get(f"{LIST}details/?id={gabi}").status_code == 404
    assert client.get(f"{LIST}?search=Gabi").status_code == 200
    assert "Gabi Luna" not in body(client.get(f"{LIST}export/csv/"))
