"""The error pages (issue 21): one page for every error, in the sign-in pages' look, with the
practice's name and a way back to where the user belongs; JSON for scripts; nothing of the exception."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from admin_app.extensions import db
from tests.conftest import login, make_app, sign_in_therapist
from tests.factories import PASSWORD, make_admin, make_therapist
from tests.pages import body, text_of

SECRET = "Quispe's national ID 40123456"


@pytest.fixture(scope="module")
def failing_app(database_url, migrated_app):
    """An app that lets an exception reach its error page (the suite's apps raise them in the test),
    with two pages that fail: one by raising, one by breaking the request's transaction first."""
    app = make_app(database_url, PROPAGATE_EXCEPTIONS=False, PRACTICE_NAME="Consultorio Miraflores")

    def raising():
        raise RuntimeError(SECRET)

    def bad_query():
        db.session.execute(text("SELECT national_id FROM no_such_table"))

    app.add_url_rule("/fails", "fails", raising)
    app.add_url_rule("/fails-in-the-database", "fails_in_the_database", bad_query)
    return app


def way_back(response) -> tuple[str, str]:
    page = body(response)
    start = page.index('id="way-back"')
    link = page[page.rindex("<a", 0, start) : page.index("</a>", start) + 4]
    href = link.split('href="')[1].split('"')[0]
    return href, text_of(link)


def test_a_missing_page_signed_out_leads_to_the_sign_in_page(client):
    response = client.get("/admin/no-such-screen/", headers={"Accept-Language": "fr-FR"})

    assert response.status_code == 404
    page = text_of(body(response))
    assert "Page introuvable" in page and "Erreur 404" in page  # the visitor's language
    assert "Demo Practice" in page  # the practice's name, as on the sign-in page
    assert '<html lang="fr">' in body(response)
    assert way_back(response) == ("/login", "Retour à la connexion")


def test_a_missing_page_leads_staff_home_and_a_therapist_to_the_portal(app, client):
    make_admin()
    db.session.commit()
    assert login(client, "staff@example.com", PASSWORD).status_code == 302
    assert way_back(client.get("/admin/no-such-screen/")) == ("/admin/", "Back to the home page")

    therapist_client = app.test_client()
    sign_in_therapist(therapist_client, make_therapist())
    missing = therapist_client.get("/portal/no-such-screen/")
    assert missing.status_code == 404
    assert way_back(missing) == ("/portal/", "Back to the home page")


def test_a_staff_page_refused_to_a_therapist(client):
    sign_in_therapist(client, make_therapist())

    response = client.get("/admin/client/")

    assert response.status_code == 403
    assert "Not allowed" in text_of(body(response))
    assert way_back(response) == ("/portal/", "Back to the home page")


def test_a_get_where_only_a_post_is_taken(client):
    response = client.get("/logout")

    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "Not possible here" in text_of(body(response))


def test_a_script_gets_json_not_a_page(client):
    for headers in ({"Accept": "application/json"}, {"X-Requested-With": "XMLHttpRequest"}):
        response = client.get("/admin/no-such-screen/", headers=headers)
        assert response.status_code == 404
        assert response.json == {"status": 404, "error": "Page not found"}


def test_a_failure_shows_no_detail_of_it(failing_app):
    response = failing_app.test_client().get("/fails")

    assert response.status_code == 500
    page = body(response)
    assert "Something went wrong" in text_of(page)
    assert "Consultorio Miraflores" in text_of(page)
    assert SECRET not in page and "RuntimeError" not in page and "Traceback" not in page
    assert way_back(response) == ("/login", "Back to sign-in")

    scripted = failing_app.test_client().get("/fails", headers={"Accept": "application/json"})
    assert scripted.status_code == 500 and scripted.json == {"status": 500, "error": "Something went wrong"}


def test_a_failed_query_still_gives_the_signed_in_users_page(app, failing_app):
    """A query that broke the request's transaction (PostgreSQL refuses any other statement in it) still
    ends on the signed-in user's page, with nothing of the query."""
    make_admin()
    db.session.commit()
    visitor = failing_app.test_client()
    assert login(visitor, "staff@example.com", PASSWORD).status_code == 302

    response = visitor.get("/fails-in-the-database")

    assert response.status_code == 500
    assert "no_such_table" not in body(response)
    assert way_back(response) == ("/admin/", "Back to the home page")
