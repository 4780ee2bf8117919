"""Flask-Admin's widgets speak the user's language (issue 21): the searchable lists (Select2) and the date
picker of a list's filter, whose words came only in English (static/js/picker-locale.js)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LANGUAGE_USERS
from tests.e2e.helpers import log_in

WORDS = {  # Select2 before typing and with nothing found; the filter menu; the date picker's months and first weekday
    "es": (
        "Escriba 1 carácter más",
        "No se encontraron coincidencias",
        ("Añadir filtro", "Fecha de la factura"),
        "ene",
        "LU",
    ),
    "fr": (
        "Saisissez encore 1 caractère",
        "Aucun résultat",
        ("Ajouter un filtre", "Date de la facture"),
        "janv.",
        "lu",
    ),
}


@pytest.mark.parametrize("language", ["es", "fr"])
def test_searchable_lists_and_date_pickers_speak_the_users_language(browser, language):
    too_short, nothing, (add_filter, invoice_date), january, monday = WORDS[language]
    page = browser.page()
    log_in(page, *LANGUAGE_USERS[language])

    page.goto("/admin/careassignment/new/")
    page.locator("#s2id_client").click()
    expect(page.locator("#select2-drop .select2-no-results")).to_have_text(too_short)
    page.locator("#select2-drop input.select2-input").press_sequentially("zzzzqq")
    expect(page.locator("#select2-drop .select2-no-results")).to_have_text(nothing)
    page.keyboard.press("Escape")

    page.goto("/admin/invoices/")
    page.get_by_text(add_filter).click()
    page.locator(".field-filters a.filter").filter(has_text=invoice_date).click()
    page.locator("table.filters input.filter-val").last.click()
    picker = page.locator(".daterangepicker:visible")
    expect(picker.locator("select.monthselect option").first).to_have_text(january)
    expect(picker.locator("thead tr").last.locator("th").first).to_have_text(monday)


@pytest.mark.parametrize("language", ["es", "fr"])
def test_a_screens_date_field_is_typed_as_it_reads_with_the_calendar_in_the_users_language(browser, language):
    """The ageing's "as of" (and every date field of the screens: macros/date.html) is text the screen reads,
    YYYY-MM-DD, with the calendar of the user's language, never the browser's own mm/dd/yyyy control."""
    *_, january, monday = WORDS[language]
    page = browser.page(locale="en-US")
    log_in(page, *LANGUAGE_USERS[language])

    page.goto("/admin/billing/ageing/")
    field = page.locator("#as-of")
    expect(field).to_have_attribute("type", "text")
    expect(field).to_have_attribute("placeholder", {"es": "AAAA-MM-DD", "fr": "AAAA-MM-JJ"}[language])
    field.click()
    picker = page.locator(".daterangepicker:visible")
    expect(picker.locator("select.monthselect option").first).to_have_text(january)
    expect(picker.locator("thead tr").last.locator("th").first).to_have_text(monday)
    field.fill("2026-11-30")
    page.keyboard.press("Escape")
    with page.expect_navigation():
        page.locator("#ageing-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"as_of=2026-11-30"))
    expect(page.locator("#as-of")).to_have_value("2026-11-30")
