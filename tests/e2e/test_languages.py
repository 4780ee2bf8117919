"""Journey 5: one login page, three languages, each by the user's own preference.

Before sign-in the page speaks the browser's language, or the one picked on the page itself (kept for
the visit); once signed in, the language saved on the login wins over the browser's; choosing another
in the user menu saves it on the login, so the next sign-in, from any browser, is in that language.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LANGUAGE_USERS, SWITCHER
from tests.e2e.helpers import assert_accessible, follow, log_in, log_out

BROWSER = {"es": "es-PE", "en": "en-US", "fr": "fr-FR"}
LOGIN = {  # the sign-in page: its heading and the password field's label
    "es": ("Iniciar sesión", "Contraseña"),
    "en": ("Login", "Password"),
    "fr": ("Connexion", "Mot de passe"),
}
SIGNED_IN = {  # the staff's home (tasks, Bad Fit, the day) and the user menu's log-out button
    "es": ("Inicio", "Cerrar sesión"),
    "en": ("Home", "Log out"),
    "fr": ("Accueil", "Se déconnecter"),
}
OTHER = {"es": "en", "en": "fr", "fr": "es"}  # a browser in another language than the user's


def expect_login_page(page: Page, language: str) -> None:
    heading, password = LOGIN[language]
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("form h1, main h1").last).to_have_text(heading)
    expect(page.locator("label[for=password]")).to_have_text(password)
    expect(page.locator("#submit")).to_have_value(heading)


def expect_signed_in(page: Page, language: str) -> None:
    home, log_out_label = SIGNED_IN[language]
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("h4")).to_contain_text(home)
    expect(page.locator("#logout")).to_have_text(log_out_label)


@pytest.mark.parametrize("language", ["es", "en", "fr"])
def test_a_users_saved_language_wins_over_the_browsers(browser, language):
    browser_language = OTHER[language]
    page = browser.page(locale=BROWSER[browser_language])
    page.goto("/login")
    expect_login_page(page, browser_language)
    assert_accessible(page)

    log_in(page, *LANGUAGE_USERS[language])
    expect_signed_in(page, language)

    log_out(page)
    expect_login_page(page, browser_language)


def test_the_language_picked_on_the_page_and_in_the_user_menu(browser):
    page = browser.page(locale=BROWSER["en"])
    page.goto("/login")
    expect_login_page(page, "en")

    # Picked on the sign-in page: kept for the visit.
    for language, label in (("es", "Español"), ("fr", "Français")):
        follow(page, page.get_by_role("button", name=label))
        expect_login_page(page, language)
    page.reload()
    expect_login_page(page, "fr")

    # Signed in, the login's saved language (English) counts; the user menu changes and saves it.
    log_in(page, *SWITCHER)
    expect_signed_in(page, "en")
    page.locator("#user-menu").click()
    follow(page, page.locator(".dropdown-menu").get_by_role("button", name="Español"))
    expect_signed_in(page, "es")
    log_out(page)

    # The next sign-in, from another (English) browser, is in Spanish.
    elsewhere = browser.page(locale=BROWSER["en"])
    log_in(elsewhere, *SWITCHER)
    expect_signed_in(elsewhere, "es")
