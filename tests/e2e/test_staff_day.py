"""Journey 1: a day at the front desk, in the Spanish UI of the demo's staff login.

Sign in; the appointment book on this month; filter it by a therapist; register a new client; book
them with the search-as-you-type client field on a free slot; try a second booking for the same
therapist at the same time and read the refusal naming the first one; close that day (the list
filtered to the day, all selected, With selected → Mark attended); log out.

The slot is a Sunday evening: the demo practice works Monday to Saturday, so it is free.
"""

from __future__ import annotations

import random
import re

from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN
from tests.e2e.helpers import (
    alerts,
    assert_accessible,
    clinic_today,
    follow,
    log_in,
    log_out,
    next_sunday,
    open_menu,
    pick_from_search,
    shown_around,
)

THERAPIST = "Carmen Cáceres Lozano"  # a demo therapist
OTHER_CLIENT = "Ana Flores Torres"  # a demo client, booked in the clash


def test_staff_books_a_new_client_and_closes_the_day(browser, screenshots):
    page = browser.page()
    log_in(page, *ADMIN)

    # The staff's home (tasks, Bad Fit, the day), in Spanish; the book is one click away.
    expect(page).to_have_url(re.compile(r"/admin/$"))
    follow(page, page.locator("#open-book"))
    expect(page).to_have_url(re.compile(r"/admin/book/"))
    expect(page.locator("h4")).to_contain_text("Agenda de citas")
    follow(page, page.get_by_role("link", name="Mes", exact=True))
    expect(page.locator("table.book-grid")).to_be_visible()
    today_cell = page.locator("td.book-day.today a.font-weight-bold").first
    shown_around(lambda: today_cell.inner_text().strip(), lambda: str(clinic_today().day))
    today = clinic_today()
    assert page.locator(".book-entry").count() > 0, "the demo practice has appointments this month"
    assert_accessible(page)
    screenshots.page(page, "appointment-book")

    # Filtered by one therapist: every appointment shown is theirs.
    page.locator("#therapist").select_option(label=THERAPIST)
    follow(page, page.locator("#book-filters button[type=submit]"))
    expect(page).to_have_url(re.compile(r"[?&]therapist=\d+"))
    entries = page.locator(".book-entry").all_inner_texts()
    assert entries, f"{THERAPIST} has appointments this month"
    assert all(THERAPIST in entry for entry in entries), entries

    # A new client: People → Clients → Create.
    name = "Valentina Ríos Campos"
    national_id = f"0{random.randrange(10**7):07d}"  # the demo's IDs are 8 digits without a leading 0
    open_menu(page, "Personas", "Clientes")
    follow(page, page.locator(".nav-tabs a", has_text="Crear"))
    page.locator("#full_name").fill(name)
    page.locator("#national_id").fill(national_id)
    page.locator("#email").fill(f"valentina.rios.{national_id}@example.com")
    page.locator("#phone").fill("987654321")
    follow(page, page.locator("form.admin-form input[type=submit]").first)
    expect(page.locator(".alert-success")).to_contain_text("creado correctamente")
    page.locator("input[name=search]").fill(name)
    page.locator("input[name=search]").press("Enter")
    expect(page.locator("table.model-list tbody tr")).to_have_count(1)
    expect(page.locator("table.model-list tbody tr")).to_contain_text(name)
    # The name was posted: the list's address (kept by history and proxies) carries a key instead.
    expect(page).to_have_url(re.compile(r"/admin/client/\?(page_size=50&)?search=~[\w-]+$"))

    # Book them from the book's "New appointment" button, on a Sunday evening (no demo sessions).
    day = next_sunday(today)
    start = f"{day.isoformat()}T20:00"
    page.goto("/admin/book/")
    follow(page, page.get_by_role("link", name="Nueva cita"))
    expect(page.locator("h4")).to_contain_text("Citas")
    pick_from_search(page, "therapist", THERAPIST.split()[0], THERAPIST)
    page.locator("#starts_at").fill(start)
    # The form opens with the first participant's client search at its top.
    pick_from_search(page, "participants-0-client", "Valentina", name)
    # The form fills in the therapist's fee once the client is chosen; the staff type theirs over it.
    expect(page.locator("#participants-0-fee")).not_to_have_value("")
    page.locator("#participants-0-fee").fill("150.00")
    # Select2 3.5 (Flask-Admin's search fields) draws each field as a link-styled box that is out of
    # the tab order; a box whose choice is blank ("Cancelled by") has no text, so axe's link-name rule
    # flags it. Keyboard focus and the field's name are on Select2's own focusser input, checked as usual.
    assert_accessible(page, exclude=(".select2-choice",))
    screenshots.page(page, "new-appointment", full_page=True)
    follow(page, page.locator("form.admin-form input[type=submit]").first)
    expect(page.locator(".alert-success")).to_contain_text("creado correctamente")
    assert not alerts(page, "danger"), alerts(page)
    page.goto(f"/admin/book/?view=day&date={day.isoformat()}")
    booked = page.locator(".book-entry", has_text=name)
    expect(booked).to_contain_text("20:00–20:50")
    expect(booked).to_contain_text(THERAPIST)

    # The same therapist at the same time, for another client: refused, naming the first booking.
    page.goto("/admin/appointment/new/")
    pick_from_search(page, "therapist", THERAPIST.split()[0], THERAPIST)
    page.locator("#starts_at").fill(start)
    pick_from_search(page, "participants-0-client", "Ana Flores", OTHER_CLIENT)
    # The form fills in the therapist's fee once the client is chosen; the staff type theirs over it.
    expect(page.locator("#participants-0-fee")).not_to_have_value("")
    page.locator("#participants-0-fee").fill("150.00")
    follow(page, page.locator("form.admin-form input[type=submit]").first)
    when = f"{day.isoformat()} 20:00–20:50"
    refusal = page.get_by_text(f"Se superpone con la cita de {THERAPIST} el {when} (mismo terapeuta).")
    expect(refusal.first).to_be_visible()
    expect(page.locator("h4")).to_contain_text("Citas")  # still on the form: nothing was saved

    # Close the day: Schedule → Appointments, filtered to that day, all selected, Mark attended.
    open_menu(page, "Agenda", "Citas")
    page.locator("a.dropdown-toggle", has_text="Añadir filtro").click()
    page.locator("a.filter", has_text="Inicio").click()
    row = page.locator("#filter_form table.filters tr").last
    row.locator(".select2-container.filter-op").click()
    page.locator("#select2-drop .select2-result-label", has_text="entre").click()
    row.locator("input.filter-val").fill(f"{day.isoformat()} 00:00:00 to {day.isoformat()} 23:59:59")
    follow(page, page.locator("#filter_form button[type=submit]"))
    # Other journeys of the suite book that Sunday too (the keyboard booking): this client's row is the one.
    rows = page.locator("table.model-list tbody tr")
    expect(rows.filter(has_text=OTHER_CLIENT)).to_have_count(0)  # the clashing booking was not saved
    mine = rows.filter(has_text=name)
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Pendiente")
    page.once("dialog", lambda dialog: dialog.accept())
    mine.locator("input.action-checkbox").check()
    page.locator("a.dropdown-toggle", has_text="Con seleccionados").click()
    follow(page, page.locator("a.dropdown-item", has_text="Marcar asistencia"))
    expect(page.locator(".alert-success")).to_have_text(re.compile("Se marcó la asistencia de 1 participante."))
    expect(rows.filter(has_text=name)).to_contain_text("Asistió")

    log_out(page)
    expect(page.locator("body")).not_to_contain_text("admin@example.com")
