"""CSRF protection, as configured for production (the rest of the suite turns it off for speed)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Client
from tests.conftest import make_app
from tests.factories import PASSWORD, make_admin
from tests.integration.test_records_crud import client_form
from tests.pages import body, csrf_token, flashed, list_rows, text_of


@pytest.fixture(scope="module")
def csrf_app(database_url, migrated_app):
    return make_app(database_url, WTF_CSRF_ENABLED=True)


@pytest.fixture
def protected(app, csrf_app):
    """A test client of an app with CSRF checks on, and an admin who can sign in to it."""
    make_admin()
    db.session.commit()
    return csrf_app.test_client()


def sign_in(visitor) -> None:
    token = csrf_token(visitor.get("/login"))
    response = visitor.post("/login", data={"email": "staff@example.com", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, body(response)


def clients() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Client))


def test_the_login_form_needs_its_token(protected):
    refused = protected.post("/login", data={"email": "staff@example.com", "password": PASSWORD})
    assert refused.status_code == 400
    assert urlsplit(protected.get("/admin/book/").headers["Location"]).path == "/login"  # still anonymous

    sign_in(protected)
    assert protected.get("/admin/book/").status_code == 200


def test_a_post_without_the_token_is_refused_and_writes_nothing(protected):
    sign_in(protected)

    response = protected.post("/admin/client/new/", data=client_form())

    assert response.status_code == 400
    assert "This form has expired" in text_of(body(response))  # the error page: open it again and resend
    assert clients() == 0

    forged = protected.post("/admin/client/new/", data={**client_form(), "csrf_token": "forged"})
    assert forged.status_code == 400
    assert clients() == 0


def test_a_post_with_the_token_from_the_form_page_is_saved(protected):
    sign_in(protected)
    token = csrf_token(protected.get("/admin/client/new/"))

    response = protected.post("/admin/client/new/", data={**client_form(), "csrf_token": token}, follow_redirects=True)

    assert response.status_code == 200
    assert "Record was successfully created." in flashed(response)
    assert [row["full_name"] for row in list_rows(response)] == ["Ana Quispe"]
    assert clients() == 1


def test_a_delete_without_the_token_is_refused(protected):
    sign_in(protected)
    token = csrf_token(protected.get("/admin/client/new/"))
    protected.post("/admin/client/new/", data={**client_form(), "csrf_token": token})
    client_id = db.session.scalar(select(Client.id))

    assert protected.post("/admin/client/delete/", data={"id": str(client_id)}).status_code == 400
    assert clients() == 1


def test_logout_is_post_only_and_needs_the_token(protected):
    sign_in(protected)

    assert protected.get("/logout").status_code == 405
    assert protected.get("/admin/book/").status_code == 200  # a GET did not sign the user out

    assert protected.post("/logout").status_code == 400  # no token: a forged logout is refused
    assert protected.get("/admin/book/").status_code == 200

    page = protected.get("/admin/book/")
    assert 'id="logout"' in body(page)
    response = protected.post("/logout", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert urlsplit(protected.get("/admin/book/").headers["Location"]).path == "/login"


def test_an_expired_form_leads_back_to_its_page_and_nowhere_else(protected):
    sign_in(protected)
    form_page = "/admin/client/new/?url=%2Fadmin%2Fclient%2F"

    expired = protected.post(
        "/admin/client/new/",
        data={**client_form(), "csrf_token": "expired"},
        headers={"Referer": f"http://localhost{form_page}"},
    )

    assert expired.status_code == 400
    page = text_of(body(expired))
    assert "This form has expired" in page and "Nothing was saved" in page
    assert f'id="open-again" href="{form_page.replace("&", "&amp;")}"' in body(expired)

    foreign = protected.post(
        "/admin/client/new/", data=client_form(), headers={"Referer": "https://elsewhere.example.com/admin/client/new/"}
    )
    assert foreign.status_code == 400
    assert 'id="open-again"' not in body(foreign)
    assert clients() == 0
