"""Big lists (issue 22): no exact count of millions of rows on every page. On PostgreSQL a list
bigger than `LIST_EXACT_COUNT_LIMIT` shows the planner's estimate ("about N") and counts exactly on
demand; filtered or searched, it shows no total and pages by previous / next. SQLite counts exactly.
Name searches find a fragment from the middle of a name (a trigram index serves them on PostgreSQL);
filter options come from the ends of an index, not a scan."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from sqlalchemy import delete, text

from admin_app.extensions import db
from admin_app.models import Payer
from admin_app.services.surveys import results as survey_results
from tests.conftest import sign_in_therapist
from tests.factories import make_answer, make_appointment, make_client, make_invitation, make_payer, make_therapist
from tests.pages import body, list_rows, row_ids, text_of

ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
CLIENTS = "/admin/client/"
SURNAMES = ("Quispe", "Mamani", "Huaman", "Condori", "Flores", "Quispe", "Rojas", "Quispe")


@pytest.fixture
def clients(app, monkeypatch):
    """Eight clients, three of them Quispe; a list is "big" from five rows."""
    monkeypatch.setitem(app.config, "LIST_EXACT_COUNT_LIMIT", 5)
    therapist = make_therapist(full_name="Rosa Mendoza")
    for number, surname in enumerate(SURNAMES):
        make_client(therapist, full_name=f"Client{number} {surname}")
    db.session.commit()
    if ON_POSTGRES:
        db.session.execute(text("ANALYZE client"))  # what the estimate reads (the loader and autovacuum do it)
        db.session.commit()


def list_tab(response) -> str:
    """The text of the list's tab ("List (8)")."""
    tab = re.search(r'<a href="javascript:void\(0\)" class="nav-link active">(.*?)</a>', body(response), re.S)
    return text_of(tab[1])


def exact_count_link(response) -> str | None:
    found = re.search(r'<a class="nav-link" href="([^"]*)">\s*Count exactly', body(response))
    return found[1].replace("&amp;", "&") if found else None


def searched(admin_client, term: str, **arguments):
    """The clients list searched for `term` (the search box posts it)."""
    back = CLIENTS + ("?" + "&".join(f"{name}={value}" for name, value in arguments.items()) if arguments else "")
    located = admin_client.post(f"{CLIENTS}search/", data={"search": term, "back": back}).headers["Location"]
    return admin_client.get(located)


def test_a_big_list_shows_the_estimate_and_counts_exactly_on_demand(admin_client, clients):
    listed = admin_client.get(CLIENTS)

    assert len(list_rows(listed)) == 8
    if not ON_POSTGRES:
        assert list_tab(listed) == "List (8)" and exact_count_link(listed) is None
        return
    assert list_tab(listed) == "List (about 8)"
    counted = admin_client.get(exact_count_link(listed))
    assert list_tab(counted) == "List (8)" and exact_count_link(counted) is None
    assert len(list_rows(counted)) == 8


def test_a_list_emptied_since_its_statistics_is_counted_exactly(admin_client, app, monkeypatch):
    """The planner still expects the eight payers ANALYZE saw; the list has two left and says so."""
    monkeypatch.setitem(app.config, "LIST_EXACT_COUNT_LIMIT", 5)
    payers = [make_payer(f"Payer {number}") for number in range(8)]
    db.session.commit()
    if ON_POSTGRES:
        db.session.execute(text("ANALYZE payer"))
    db.session.execute(delete(Payer).where(Payer.id.in_([payer.id for payer in payers[2:]])))
    db.session.commit()

    listed = admin_client.get("/admin/payer/")

    assert list_tab(listed) == "List (2)" and exact_count_link(listed) is None
    assert len(list_rows(listed)) == 2


def test_a_small_list_is_counted_exactly_everywhere(admin_client, clients, app, monkeypatch):
    monkeypatch.setitem(app.config, "LIST_EXACT_COUNT_LIMIT", 10_000)

    listed = admin_client.get(CLIENTS)

    assert list_tab(listed) == "List (8)" and exact_count_link(listed) is None


def test_a_search_finds_a_fragment_from_the_middle_of_a_name(admin_client, clients):
    found = searched(admin_client, "uisp")

    names = sorted(row["full_name"] for row in list_rows(found))
    assert names == ["Client0 Quispe", "Client5 Quispe", "Client7 Quispe"]
    # A searched big list shows no total on PostgreSQL (only counting would tell it), and counts on demand.
    assert list_tab(found) == ("List" if ON_POSTGRES else "List (3)")
    if ON_POSTGRES:
        assert list_tab(admin_client.get(exact_count_link(found))) == "List (3)"


def test_a_searched_big_list_pages_by_previous_and_next(admin_client, clients):
    therapist = make_therapist(full_name="Jorge Salas")
    for number in range(8, 27):
        make_client(therapist, full_name=f"Client{number:02d} Quispe")  # 22 Quispe in all
    db.session.commit()

    first = searched(admin_client, "Quispe", page_size=20)

    assert len(list_rows(first)) == 20
    following = re.search(r'<a class="page-link" href="([^"]*page=1[^"]*)">', body(first))
    second = admin_client.get(following[1].replace("&amp;", "&"))
    assert [row["full_name"] for row in list_rows(second)] == ["Client5 Quispe", "Client7 Quispe"]  # by name


def test_a_deep_page_of_the_appointment_list_holds_the_right_appointments(admin_client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LIST_EXACT_COUNT_LIMIT", 5)
    therapist = make_therapist(full_name="Rosa Mendoza")
    client = make_client(therapist, full_name="Ana Quispe")
    first = dt.datetime(2026, 3, 2, 14, tzinfo=dt.UTC)
    booked = [make_appointment(therapist, client, starts_at=first + dt.timedelta(days=day)) for day in range(45)]
    db.session.commit()

    # Newest first, 20 a page: the third page (page=2) holds the five first booked.
    deep = admin_client.get("/admin/appointment/?page=2&page_size=20")

    assert row_ids(deep) == {appointment.id for appointment in booked[:5]}


def test_the_survey_month_filters_offer_every_month_from_the_first_to_the_last(app):
    client = make_client(make_therapist(full_name="Rosa Mendoza"), full_name="Ana Quispe")
    make_answer(make_invitation(client, "2025-11"), 9, {})
    make_invitation(client, "2026-02")
    db.session.commit()

    assert survey_results.invitation_months(db.session) == ["2026-02", "2026-01", "2025-12", "2025-11"]
    assert survey_results.response_months(db.session) == ["2025-11"]


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_trgm is PostgreSQL's (TEST_DATABASE_URL)")
def test_a_name_search_reads_the_trigram_index_on_postgresql(app):
    db.session.execute(text("SET LOCAL enable_seqscan = off"))  # an empty table would be scanned anyway

    plan = db.session.execute(text("EXPLAIN SELECT id FROM client WHERE full_name ILIKE '%uisp%'")).scalars().all()

    assert any("ix_client_full_name_trgm" in line for line in plan), plan


def test_a_therapists_big_portal_list_shows_the_estimate_of_their_own_rows(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LIST_EXACT_COUNT_LIMIT", 5)
    rosa, jorge = make_therapist(full_name="Rosa Mendoza"), make_therapist(full_name="Jorge Salas")
    first = dt.datetime(2026, 3, 2, 14, tzinfo=dt.UTC)
    for therapist, appointments in ((rosa, 12), (jorge, 30)):
        patient = make_client(therapist)
        for day in range(appointments):
            make_appointment(therapist, patient, starts_at=first + dt.timedelta(days=day))
    db.session.commit()
    if ON_POSTGRES:
        db.session.execute(text("ANALYZE appointment"))
        db.session.commit()

    listed = sign_in_therapist(client, rosa).get("/portal/appointments/")

    assert len(list_rows(listed)) == 12
    assert list_tab(listed) == ("List (about 12)" if ON_POSTGRES else "List (12)")
