"""Who may open what: every staff and portal URL, for an anonymous visitor, a therapist and an admin.

The URLs come from the app's own url_map, so a screen added later is covered without editing
this file.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from admin_app.extensions import db
from admin_app.models import Client
from tests.conftest import login
from tests.factories import make_appointment, make_client, make_therapist, make_therapist_user

AREAS = ("/admin", "/portal")
# A value for each argument a rule may have: an export type, a year and chart of the statistics CSVs,
# a payment, an invoice, a payout statement, an admin task.
ARGUMENTS = {
    "export_type": "csv",
    "year": 2026,
    "chart": "nps",
    "payment_id": 1,
    "invoice_id": 1,
    "statement_id": 1,
    "task_id": 1,
}


def area_urls(app, method: str, record_id: int) -> list[str]:
    """Every URL of the staff area and the portal answering `method` (static files excepted).

    Rules with arguments get values from ARGUMENTS (`export/<export_type>` → csv); details and edit get `?id=`.
    """
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(AREAS) or rule.endpoint.endswith(".static") or method not in rule.methods:
            continue
        arguments = {name: value for name, value in ARGUMENTS.items() if name in rule.arguments}
        assert set(rule.arguments) == set(arguments), f"no value to build {rule.rule} with"
        url = rule.build(arguments)[1]
        if rule.endpoint.endswith((".details_view", ".edit_view")):
            url += f"?id={record_id}"
        urls.append(url)
    assert len(urls) > 20, urls  # the areas really were found
    return sorted(urls)


@pytest.fixture
def records(app):
    """One of each kind of record, so that id-based URLs point at something real."""
    therapist = make_therapist()
    client = make_client(therapist, full_name="Ana Quispe")
    make_appointment(therapist, client)
    db.session.commit()
    return client


def assert_sent_to_login(response, path: str) -> None:
    assert response.status_code == 302, f"{path}: {response.status_code}"
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login", f"{path} → {response.headers['Location']}"
    assert parse_qs(location.query)["next"] == [urlsplit(path).path]


def test_anonymous_visitors_are_sent_to_the_login_from_every_page(app, client, records):
    for url in area_urls(app, "GET", records.id):
        assert_sent_to_login(client.get(url), url)


def test_anonymous_posts_are_sent_to_the_login_and_change_nothing(app, client, records):
    for url in area_urls(app, "POST", records.id):
        response = client.post(url, data={"id": str(records.id), "action": "delete", "rowid": str(records.id)})
        assert_sent_to_login(response, url)
    db.session.expire_all()
    assert db.session.get(Client, records.id).full_name == "Ana Quispe"


def test_the_login_redirect_does_not_carry_the_search_terms(client, records):
    response = client.get("/admin/client/?search=Quispe")
    assert_sent_to_login(response, "/admin/client/")
    assert "Quispe" not in response.headers["Location"]


def test_the_front_door_sends_anonymous_visitors_to_the_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


def test_a_therapist_is_refused_every_staff_page(app, therapist_client, records):
    for url in area_urls(app, "GET", records.id):
        if url.startswith("/admin"):
            assert therapist_client.get(url).status_code == 403, url


def test_a_therapist_cannot_post_to_any_staff_page(app, therapist_client, records):
    for url in area_urls(app, "POST", records.id):
        if url.startswith("/admin"):
            response = therapist_client.post(url, data={"id": str(records.id), "action": "delete", "rowid": "1"})
            assert response.status_code == 403, url
    db.session.expire_all()
    assert db.session.get(Client, records.id) is not None


def test_a_therapist_lands_in_the_portal(therapist_client):
    response = therapist_client.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/portal/"
    page = response.get_data(as_text=True)
    assert "Welcome, Rosa Mendoza" in page
    assert "My clients" in page


def test_an_admin_lands_in_the_staff_area_and_is_refused_the_portal(admin_client):
    response = admin_client.get("/", follow_redirects=True)
    assert response.request.path == "/admin/"  # the staff home: tasks, Bad Fit, the day's summary
    assert response.status_code == 200
    assert admin_client.get("/portal/").status_code == 403
    assert admin_client.get("/portal/clients/").status_code == 403


def test_an_admin_opens_every_staff_list(app, admin_client, records):
    for url in area_urls(app, "GET", records.id):
        if url.startswith("/admin") and ("/ajax/" not in url):
            response = admin_client.get(url)
            assert response.status_code in (200, 301, 302), f"{url}: {response.status_code}"  # 301: an old address


def test_a_therapist_login_without_a_therapist_record_sees_no_portal_lists(client, app):
    therapist = make_therapist()
    user = make_therapist_user(therapist)
    therapist.user = None  # the staff unlinked the record
    db.session.commit()
    login(client, user.email)

    home = client.get("/portal/")
    assert home.status_code == 200
    assert "Your login is not linked to a therapist record yet" in home.get_data(as_text=True)
    assert client.get("/portal/clients/").status_code == 403
    assert client.get("/portal/appointments/").status_code == 403


def test_the_payout_screens_are_among_the_pages_checked(app):
    """Staff-only like the rest: the checks above cover these URLs (GET and POST)."""
    assert "/admin/payouts/email/" in area_urls(app, "GET", 1)
    assert "/admin/payouts/email/" in area_urls(app, "POST", 1)
