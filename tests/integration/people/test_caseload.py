"""The therapists tab: each therapist's clients with who pays, the current authorization's counts, the
last and next appointment and a colour, as the Vancouver staff read it (issue 17).

Rosa Mendoza's caseload, on 5 December 2026 in Lima (today; fee 150.00 PEN):
- Ana Quispe, ICBC: authorization IC-NEW (3 approved, 1 Dec - 31 Mar): attended 1 Dec 08:00 (invoiced), booked
  10 Dec 09:00 → used 1, billed 1, 3 - 1 - 1 = 1 left: low → red. Her older IC-OLD (Jan - Jun) expired.
- Bea Soto, Pacific Blue Cross: PB-1 (10 approved, until 30 June 2027), extension requested → pink.
- Carla Ruiz, self-pay: two attended sessions unpaid → red; Dani Vega, self-pay: one unpaid → none;
  Eva Luna, self-pay: two attended, both paid → none.
- Fede Ríos: an indirect client (a parent in a child's case); Gabi Paz: assignment deactivated on 15 Nov.
Tomás Vidal, deactivated, cared for Hugo Lara.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from admin_app.extensions import db
from admin_app.models import AppointmentStatus, AssignmentKind, Attendance, CareAssignment
from admin_app.services.people.caseload import Colour, Reason, caseloads, therapist_clients
from admin_app.views.people import caseload as caseload_view
from tests.conftest import login, make_app
from tests.factories import (
    book,
    client_payment,
    issued_invoice,
    make_admin,
    make_authorization,
    make_client,
    make_payer,
    make_therapist,
    pays_for,
)
from tests.pages import body, text_of
from tests.queries import counted_queries

SCREEN = "/admin/caseloads/"
EXPECTED = Attendance.EXPECTED
pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)


@pytest.fixture
def practice(app):
    rosa = make_therapist(full_name="Rosa Mendoza")
    tomas = make_therapist(full_name="Tomás Vidal", active=False)
    icbc, blue = make_payer("ICBC"), make_payer("Pacific Blue Cross")
    people = {}
    slot = iter(range(8, 20))

    def client(name, payer=None, **assignment):
        people[name] = person = make_client(full_name=name)
        db.session.add(CareAssignment(client=person, therapist=assignment.pop("therapist", rosa), **assignment))
        if payer is not None:
            pays_for(person, payer)
        return person

    def on(name, day, month=12, **options):
        return book(rosa, [people[name]], dt.datetime(2026, month, day, next(slot)), **options)

    client("Ana Quispe", icbc)
    make_authorization(people["Ana Quispe"], icbc, 5, dt.date(2026, 1, 1), dt.date(2026, 6, 30), reference="IC-OLD")
    make_authorization(people["Ana Quispe"], icbc, 3, dt.date(2026, 12, 1), dt.date(2027, 3, 31), reference="IC-NEW")
    seen = on("Ana Quispe", 1)
    issued_invoice(icbc, seen.participants)
    on("Ana Quispe", 10, attendance=EXPECTED)
    client("Bea Soto", blue)
    make_authorization(
        people["Bea Soto"],
        blue,
        10,
        dt.date(2026, 11, 1),
        dt.date(2027, 6, 30),
        reference="PB-1",
        extension_requested_at=dt.datetime(2026, 12, 2, 18, tzinfo=dt.UTC),
    )
    on("Bea Soto", 2)
    client("Carla Ruiz")
    on("Carla Ruiz", 1)
    on("Carla Ruiz", 3)
    client("Dani Vega")
    on("Dani Vega", 2)
    client("Eva Luna")
    paid = [on("Eva Luna", 1).participants[0], on("Eva Luna", 4).participants[0]]
    client_payment(people["Eva Luna"], "300.00", dt.date(2026, 12, 4), allocations=[(p, "150.00") for p in paid])
    client("Fede Ríos", kind=AssignmentKind.INDIRECT)
    client("Gabi Paz", active=False, deactivated_on=dt.date(2026, 11, 15))
    client("Hugo Lara", therapist=tomas)
    db.session.commit()
    return {"rosa": rosa, "tomas": tomas, **people}


def lines_of(found, therapist: str) -> dict[str, object]:
    [caseload] = [caseload for caseload in found if caseload.therapist == therapist]
    return {line.client: line for line in caseload.clients}


def test_each_client_shows_who_pays_the_current_authorization_and_a_colour(practice):
    found = caseloads(db.session)

    assert [caseload.therapist for caseload in found] == ["Rosa Mendoza", "Tomás Vidal"]
    rosa = found[0]
    assert (rosa.active, rosa.client_count, rosa.red_count, rosa.pink_count) == (True, 7, 2, 1)
    lines = lines_of(found, "Rosa Mendoza")
    ana = lines["Ana Quispe"]
    assert (ana.payers, ana.self_pay, ana.authorization.reference) == (("ICBC",), False, "IC-NEW")
    counts = ana.authorization.counts
    assert (counts.approved, counts.used, counts.billed, ana.authorization.remaining) == (3, 1, 1, 1)
    assert ana.authorization.valid_until == dt.date(2027, 3, 31)
    assert (ana.colour, ana.reasons) == (Colour.RED, (Reason.AUTHORIZATION_LOW,))
    assert (lines["Bea Soto"].colour, lines["Bea Soto"].reasons) == (Colour.PINK, (Reason.EXTENSION_REQUESTED,))
    carla = lines["Carla Ruiz"]
    assert (carla.self_pay, carla.unpaid_sessions, carla.colour) == (True, 2, Colour.RED)
    assert carla.reasons == (Reason.UNPAID_SESSIONS,)
    assert (lines["Dani Vega"].unpaid_sessions, lines["Dani Vega"].colour) == (1, Colour.NONE)
    assert (lines["Eva Luna"].unpaid_sessions, lines["Eva Luna"].colour) == (0, Colour.NONE)
    assert lines["Eva Luna"].authorization is None


def test_red_wins_over_pink(practice):
    """Ana's ICBC authorization is low (red); an extension requested on another one of hers, from Pacific
    Blue Cross, leaves her red: red needs action now, pink only waits for the payer."""
    make_authorization(
        practice["Ana Quispe"],
        practice["Bea Soto"].payment_sources[0].payer,
        4,
        dt.date(2026, 11, 1),
        dt.date(2027, 5, 31),
        extension_requested_at=dt.datetime(2026, 12, 3, tzinfo=dt.UTC),
    )
    db.session.commit()

    ana = lines_of(caseloads(db.session), "Rosa Mendoza")["Ana Quispe"]

    assert ana.reasons == (Reason.AUTHORIZATION_LOW, Reason.EXTENSION_REQUESTED)
    assert (ana.colour, ana.authorization.reference) == (Colour.RED, "IC-NEW")


def test_without_an_authorization_for_today_the_latest_open_one_is_shown(practice):
    """Hugo's only open authorization expired in June; a later one was closed by hand: the expired one is
    his current one, and it colours nothing."""
    icbc = practice["Ana Quispe"].payment_sources[0].payer
    make_authorization(practice["Hugo Lara"], icbc, 6, dt.date(2026, 1, 1), dt.date(2026, 6, 30), reference="IC-H")
    make_authorization(
        practice["Hugo Lara"],
        icbc,
        6,
        dt.date(2026, 7, 1),
        dt.date(2027, 6, 30),
        reference="IC-CLOSED",
        closed_at=dt.datetime(2026, 7, 2, tzinfo=dt.UTC),
    )
    db.session.commit()

    hugo = lines_of(caseloads(db.session), "Tomás Vidal")["Hugo Lara"]

    assert (hugo.authorization.reference, hugo.authorization.valid_until) == ("IC-H", dt.date(2026, 6, 30))
    assert hugo.colour == Colour.NONE


def test_indirect_and_deactivated_assignments_are_shown_with_their_state(practice):
    lines = lines_of(caseloads(db.session), "Rosa Mendoza")

    assert (lines["Fede Ríos"].kind, lines["Fede Ríos"].assignment_active) == (AssignmentKind.INDIRECT, True)
    gabi = lines["Gabi Paz"]
    assert (gabi.kind, gabi.assignment_active, gabi.deactivated_on) == (
        AssignmentKind.DIRECT,
        False,
        dt.date(2026, 11, 15),
    )


def test_last_and_next_appointment_are_with_this_therapist(practice):
    ana = lines_of(caseloads(db.session), "Rosa Mendoza")["Ana Quispe"]

    assert ana.last_appointment == dt.datetime(2026, 12, 1, 13, tzinfo=dt.UTC)  # 08:00 Lima
    assert ana.next_appointment == dt.datetime(2026, 12, 10, 14, tzinfo=dt.UTC)  # 09:00 Lima
    assert lines_of(caseloads(db.session), "Tomás Vidal")["Hugo Lara"].last_appointment is None


def test_the_filters_keep_the_therapists_and_clients_asked_for(practice):
    def names(**filters):
        return {
            caseload.therapist: sorted(lines_of([caseload], caseload.therapist))
            for caseload in caseloads(db.session, **filters)
        }

    assert names(therapist_status="deactivated") == {"Tomás Vidal": ["Hugo Lara"]}
    assert list(names(therapist_status="active")) == ["Rosa Mendoza"]
    assert names(colour="red") == {"Rosa Mendoza": ["Ana Quispe", "Carla Ruiz"]}
    assert names(colour="pink") == {"Rosa Mendoza": ["Bea Soto"]}
    assert names(colour="none") == {
        "Rosa Mendoza": ["Dani Vega", "Eva Luna", "Fede Ríos", "Gabi Paz"],
        "Tomás Vidal": ["Hugo Lara"],
    }
    assert list(names(therapist_ids=[practice["tomas"].id])) == ["Tomás Vidal"]


def rows_shown(response) -> dict[str, tuple[str, dict[str, str]]]:
    """Client → (row class, cells by column) of every caseload table on the page."""
    rows = {}
    for row_class, row in re.findall(r'<tr class="([^"]*)" data-client="\d+">(.*?)</tr>', body(response), re.S):
        cells = {
            name: text_of(value) for name, value in re.findall(r'<td class="col-([\w-]+)[^"]*">(.*?)</td>', row, re.S)
        }
        rows[cells["client"]] = (row_class, cells)
    return rows


def test_the_page_shows_each_row_with_its_figures_colour_and_badge(admin_client, practice):
    page = admin_client.get(SCREEN)

    assert page.status_code == 200
    text = text_of(body(page))
    assert "Rosa Mendoza Active 7 clients · 2 red · 1 pink" in text
    assert "Tomás Vidal Deactivated 1 client · 0 red · 0 pink" in text
    rows = rows_shown(page)
    row_class, ana = rows["Ana Quispe"]
    assert row_class == "table-danger"
    assert ana == {
        "client": "Ana Quispe",
        "number": practice["Ana Quispe"].client_number,
        "kind": "Direct",
        "assignment": "Active",
        "source": "ICBC",
        "approved": "3",
        "used": "1",
        "billed": "1",
        "remaining": "1",
        "expires": "Mar 31, 2027",
        "last": "Dec 1, 2026, 8:00 AM",
        "next": "Dec 10, 2026, 9:00 AM",
        "needs": "Authorization low or expiring",
    }
    assert rows["Bea Soto"][0] == "caseload-pink" and rows["Bea Soto"][1]["needs"] == "Extension requested"
    assert rows["Carla Ruiz"][0] == "table-danger" and rows["Carla Ruiz"][1]["needs"] == "2 unpaid sessions"
    assert rows["Carla Ruiz"][1]["source"] == "Self-pay"
    assert rows["Dani Vega"][0] == "" and rows["Dani Vega"][1]["needs"] == ""
    assert rows["Fede Ríos"][1]["kind"] == "Indirect"
    assert rows["Gabi Paz"][1]["assignment"] == "Deactivated on Nov 15, 2026"
    assert f'href="/admin/client/details/?id={practice["Ana Quispe"].id}"' in body(page)


def test_the_page_filters_by_colour_status_and_therapist(admin_client, practice):
    assert set(rows_shown(admin_client.get(f"{SCREEN}?colour=red"))) == {"Ana Quispe", "Carla Ruiz"}
    assert set(rows_shown(admin_client.get(f"{SCREEN}?colour=pink"))) == {"Bea Soto"}
    assert set(rows_shown(admin_client.get(f"{SCREEN}?status=deactivated"))) == {"Hugo Lara"}
    assert set(rows_shown(admin_client.get(f"{SCREEN}?therapist={practice['tomas'].id}"))) == {"Hugo Lara"}
    nobody = admin_client.get(f"{SCREEN}?status=deactivated&therapist={practice['rosa'].id}")
    assert "No therapist matches these filters." in text_of(body(nobody))
    refused = admin_client.get(f"{SCREEN}?colour=purple")
    assert refused.status_code == 200 and "Colour: not a valid choice." in text_of(body(refused))


def caseload_of(payer, therapists: int) -> None:
    """`therapists` therapists, each with three clients: one referred with an authorization, two self-paying."""
    for n in range(therapists):
        therapist = make_therapist(full_name=f"Therapist {n:02d}")
        referred = make_client(therapist)
        pays_for(referred, payer)
        make_authorization(referred, payer, 2, dt.date(2026, 11, 1), dt.date(2027, 1, 31))
        book(therapist, [referred], dt.datetime(2026, 12, 1, 10))
        for hour in (11, 12):
            book(therapist, [make_client(therapist)], dt.datetime(2026, 12, 1, hour))
    db.session.commit()


def test_the_tab_costs_the_same_queries_for_2_or_10_therapists(app, admin_client):
    payer = make_payer("ICBC")
    caseload_of(payer, 2)
    with counted_queries() as few:
        assert len(caseloads(db.session)) == 2
    with counted_queries() as few_page:
        assert admin_client.get(SCREEN).status_code == 200

    caseload_of(payer, 8)
    with counted_queries() as many:
        assert len(caseloads(db.session)) == 10
    with counted_queries() as many_page:
        page = admin_client.get(SCREEN)

    assert len(rows_shown(page)) == 30
    assert len(few) == len(many) == 5
    assert len(few_page) == len(many_page)


def test_one_therapists_lines_for_some_clients_are_the_tabs_in_five_statements(practice):
    """The portal's My clients reads a page of one therapist's clients: the same lines as the tab."""
    rosa = lines_of(caseloads(db.session), "Rosa Mendoza")
    asked = [practice[name].id for name in ("Ana Quispe", "Bea Soto", "Carla Ruiz")] + [practice["Hugo Lara"].id]
    rosa_id = practice["rosa"].id

    with counted_queries() as statements:
        found = therapist_clients(db.session, rosa_id, asked)

    assert len(statements) == 5
    assert found == {rosa[name].client_id: rosa[name] for name in ("Ana Quispe", "Bea Soto", "Carla Ruiz")}
    assert therapist_clients(db.session, rosa_id) == {line.client_id: line for line in rosa.values()}
    assert therapist_clients(db.session, rosa_id, []) == {}


def test_a_therapist_may_not_open_the_tab(therapist_client):
    assert therapist_client.get(SCREEN).status_code == 403


def test_last_and_next_appointment_across_the_change_of_time_in_vancouver(app, database_url, clock):
    """Vancouver leaves daylight saving at 02:00 on 1 November 2026 (UTC-7, then UTC-8). On 1 November at
    08:30 (16:30 UTC) Liam's last session is 08:00 that day (16:00 UTC), before it 31 October 09:00
    (16:00 UTC too, but in summer time); the 09:00 session of that day was cancelled, the next is 8
    November at 09:00 (17:00 UTC)."""
    clock.set("2026-10-30T20:00Z")
    vancouver = make_app(database_url, CLINIC_TIMEZONE="America/Vancouver")
    with vancouver.app_context():
        mei = make_therapist(full_name="Mei Chen")
        liam = make_client(mei, full_name="Liam Walker")
        book(mei, [liam], dt.datetime(2026, 10, 31, 9), attendance=EXPECTED)
        book(mei, [liam], dt.datetime(2026, 11, 1, 8), attendance=EXPECTED)
        book(mei, [liam], dt.datetime(2026, 11, 1, 9), attendance=EXPECTED, status=AppointmentStatus.CANCELLED)
        book(mei, [liam], dt.datetime(2026, 11, 8, 9), attendance=EXPECTED)
        admin = make_admin()
        db.session.commit()
        clock.set("2026-11-01T16:30Z")

        [line] = caseloads(db.session)[0].clients
        assert line.last_appointment == dt.datetime(2026, 11, 1, 16, tzinfo=dt.UTC)
        assert line.next_appointment == dt.datetime(2026, 11, 8, 17, tzinfo=dt.UTC)

        browser = vancouver.test_client()
        assert login(browser, admin.email).status_code == 302
        _row_class, cells = rows_shown(browser.get(SCREEN))["Liam Walker"]
        assert (cells["last"], cells["next"]) == ("Nov 1, 2026, 8:00 AM", "Nov 8, 2026, 9:00 AM")
        db.session.remove()


def test_the_page_shows_a_page_of_therapists_at_a_time(admin_client, practice, monkeypatch):
    monkeypatch.setattr(caseload_view, "PER_PAGE", 1)

    first = admin_client.get(SCREEN)
    second = admin_client.get(f"{SCREEN}?page=1")

    assert "Page 1 of 2" in text_of(body(first)) and 'id="next-page"' in body(first)
    assert "Ana Quispe" in rows_shown(first) and set(rows_shown(second)) == {"Hugo Lara"}
    red = admin_client.get(f"{SCREEN}?colour=red")
    assert "Page 1 of 1" not in text_of(body(red)) and set(rows_shown(red)) == {"Ana Quispe", "Carla Ruiz"}
