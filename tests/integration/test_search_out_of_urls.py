"""A typed name never goes in a URL (issue 20, "No client data in URLs"): a list's search box and the
charge search post their terms, and every link of the searched page carries an opaque key; the
form pickers (Select2 lookups) answer POST only."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from admin_app.extensions import db
from tests.conftest import login
from tests.factories import make_admin, make_client, make_therapist
from tests.pages import body, csv_rows, list_rows

CLIENTS = "/admin/client/"


@pytest.fixture
def clients(app):
    therapist = make_therapist(full_name="Rosa Mendoza")
    for name in ("Ana Quispe", "Beto Quispe", "Carla Soto"):
        make_client(therapist, full_name=name)
    db.session.commit()


def search(admin_client, term: str, back: str = CLIENTS):
    return admin_client.post(f"{CLIENTS}search/", data={"search": term, "back": back})


def test_a_posted_search_lists_what_it_finds_under_a_key(admin_client, clients):
    response = search(admin_client, "Quispe", back=f"{CLIENTS}?sort=1&page=3&page_size=20")

    location = urlsplit(response.headers["Location"])
    assert response.status_code == 302 and location.path == CLIENTS
    arguments = parse_qs(location.query)
    assert arguments["sort"] == ["1"] and arguments["page_size"] == ["20"] and "page" not in arguments
    assert "Quispe" not in response.headers["Location"] and arguments["search"][0].startswith("~")
    found = admin_client.get(response.headers["Location"])
    assert sorted(row["full_name"] for row in list_rows(found)) == ["Ana Quispe", "Beto Quispe"]
    page = body(found)
    assert 'value="Quispe"' in page  # the search box shows what was typed
    links = re.findall(r'(?:href|action|value)="([^"]*/admin/client/[^"]*)"', page)
    assert links and not [link for link in links if "Quispe" in link], links


def test_the_export_of_a_searched_list_is_the_searched_rows(admin_client, clients):
    listed = admin_client.get(search(admin_client, "Soto").headers["Location"])
    export = re.search(r'href="(/admin/client/export/csv/[^"]*)"', body(listed)).group(1).replace("&amp;", "&")

    assert "Soto" not in export
    assert [row["Name"] for row in csv_rows(admin_client.get(export))] == ["Carla Soto"]


def test_a_key_from_another_session_finds_nothing_of_its_term(admin_client, clients, app):
    key = parse_qs(urlsplit(search(admin_client, "Quispe").headers["Location"]).query)["search"][0]
    other = app.test_client()
    login(other, make_admin("colleague@example.com").email)
    db.session.commit()
    listed = other.get(CLIENTS, query_string={"search": key})
    assert sorted(row["full_name"] for row in list_rows(listed)) == ["Ana Quispe", "Beto Quispe", "Carla Soto"]


def test_an_empty_search_shows_the_whole_list(admin_client, clients):
    response = search(admin_client, "  ", back=f"{CLIENTS}?search=~gone")
    assert response.headers["Location"] == CLIENTS
    assert len(list_rows(admin_client.get(CLIENTS))) == 3


def test_a_picker_answers_a_post_and_refuses_a_typed_name_in_its_url(admin_client, clients):
    url = "/admin/client/ajax/lookup/?name=clientlink-client"
    assert admin_client.get(f"{url}&query=Soto").status_code == 405
    found = admin_client.post(url, data={"query": "Soto", "limit": "500"})
    assert [label.split(" (")[0] for _id, label in found.get_json()] == ["Carla Soto"]
