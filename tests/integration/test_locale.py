"""Languages: each user sees the screens in their own language; the login page follows the browser.

Flask-Admin's and Flask-Security's own strings come from their catalogs; ours from
admin_app/translations (read here with Babel, so the test follows the catalogs as they grow).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.support import Translations

from admin_app.extensions import db
from admin_app.models import User
from tests.conftest import login
from tests.factories import make_admin
from tests.integration.test_records_crud import client_form
from tests.pages import body, flashed, text_of

CATALOGS = Path(__file__).resolve().parents[2] / "admin_app" / "translations"


def ours(locale: str, message: str, **values) -> str:
    """Our catalog's translation of `message` (the message itself where none exists yet)."""
    translated = Translations.load(str(CATALOGS), [locale]).gettext(message)
    return translated % values if values else translated


def menu(response) -> str:
    page = body(response)
    return text_of(page[page.find("<nav") : page.find("</nav>")])


def tabs(response) -> list[str]:
    page = body(response)
    tab_bar = re.search(r'<ul class="nav nav-tabs">(.*?)</ul>', page, re.S)
    links = re.findall(r'<a [^>]*class="nav-link[^"]*"[^>]*>(.*?)</a>', tab_bar.group(1), re.S)
    return [text_of(link) for link in links]


def signed_in(client, locale: str):
    make_admin(locale=locale)
    db.session.commit()
    assert login(client, "staff@example.com").status_code == 302
    return client


def test_a_spanish_user_sees_the_staff_area_in_spanish(client):
    signed_in(client, "es")

    response = client.get("/admin/client/")

    assert response.status_code == 200
    assert tabs(response)[:2] == ["Listado", "Crear"]  # Flask-Admin's own catalog
    nav = menu(response)
    for message in ("Clients", "People", "Appointments", "Audit trail"):
        assert ours("es", message) in nav
    assert ours("es", "Clients") == "Clientes"
    assert f">{ours('es', 'Name')}</a>" in body(response)  # the column header, our label


def test_an_english_user_sees_the_staff_area_in_english(client):
    signed_in(client, "en")

    response = client.get("/admin/client/")

    assert tabs(response)[:2] == ["List", "Create"]
    nav = menu(response)
    assert "Clients" in nav and "People" in nav and "Audit trail" in nav
    assert "Clientes" not in nav


def test_messages_reach_a_spanish_user_in_spanish(client):
    signed_in(client, "es")

    created = client.post("/admin/client/new/", data=client_form(), follow_redirects=True)
    assert "El elemento se ha creado correctamente." in [message.replace("\xa0", " ") for message in flashed(created)]

    refused = client.post("/admin/client/new/", data=client_form(national_id="99999999", phone="12"))
    expected = ours("es", "%(field)s: %(value)s is not a valid phone number", field=ours("es", "Phone"), value="12")
    assert expected in flashed(refused)


@pytest.mark.parametrize(
    ("accept_language", "lang", "password_label"),
    [
        ("es-PE,es;q=0.9,en;q=0.5", "es", "Contraseña"),
        ("fr-CA,fr;q=0.9", "fr", "Mot de passe"),
        ("en-US,en;q=0.9", "en", "Password"),
        ("de-DE,de;q=0.9", "en", "Password"),  # not offered: the practice's DEFAULT_LOCALE
    ],
)
def test_the_login_page_follows_the_browser_language(client, accept_language, lang, password_label):
    response = client.get("/login", headers={"Accept-Language": accept_language})

    assert response.status_code == 200
    assert f'<html lang="{lang}">' in body(response)
    assert password_label in text_of(body(response))


def test_a_language_chosen_on_the_login_page_wins_over_the_browser(client):
    response = client.post("/language", data={"locale": "fr", "next": "/login"})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"

    page = client.get("/login", headers={"Accept-Language": "es"})
    assert '<html lang="fr">' in body(page)
    assert "Mot de passe" in text_of(body(page))


def test_a_signed_in_user_changes_their_language_and_it_is_saved(client):
    signed_in(client, "en")

    response = client.post("/language", data={"locale": "es", "next": "/admin/client/"}, follow_redirects=True)

    assert response.status_code == 200
    assert response.request.path == "/admin/client/"
    assert tabs(response)[:2] == ["Listado", "Crear"]
    db.session.expire_all()
    assert db.session.scalar(db.select(User.locale).where(User.email == "staff@example.com")) == "es"


def test_the_language_switch_refuses_unknown_languages_and_foreign_redirects(client):
    assert client.post("/language", data={"locale": "de"}).status_code == 400

    response = client.post("/language", data={"locale": "es", "next": "//evil.example.com/phish"})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).netloc in ("", "localhost")
    assert urlsplit(response.headers["Location"]).path == "/"


# What a browser turns into another site: it drops tabs and newlines inside a URL, reads a backslash
# as a slash, and ignores leading spaces and control characters.
HOSTILE_NEXT = [
    "//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "/ /\\evil.example",
    "/\x00/evil.example",
    "/\x1f/evil.example",
    "/\x7f/evil.example",
    "/\u200b/evil.example",
    "/\u00a0/evil.example",
    "\t//evil.example",
    " //evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "evil.example",
    "",
]


@pytest.mark.parametrize("next_path", HOSTILE_NEXT)
def test_the_language_switch_goes_home_for_any_next_a_browser_could_follow_off_site(client, next_path):
    response = client.post("/language", data={"locale": "es", "next": next_path})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("next_path", ["/admin/client/", "/admin/client/?search=Ana+Quispe&page=2", "/portal/"])
def test_the_language_switch_goes_back_to_a_page_of_the_site(client, next_path):
    response = client.post("/language", data={"locale": "es", "next": next_path})

    assert response.status_code == 302
    assert response.headers["Location"] == next_path
