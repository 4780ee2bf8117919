"""The demo therapist writes a clinical note from her phone; the staff's page of the same client says
the notes are kept by the client's therapists and shows none of it (the demo keeps the default,
`STAFF_READ_CLINICAL_NOTES` off)."""

from __future__ import annotations

import os

from playwright.sync_api import expect
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Client, Therapist
from admin_app.services.people import records as people
from tests.e2e.conftest import ADMIN, THERAPIST
from tests.e2e.helpers import alerts, assert_accessible, follow, log_in

NOTE = "Primera sesión: ansiedad <al dormir>.\nTarea: registro de sueño."


def one_of_her_clients(app_db) -> int:
    with app_db.app_context():
        therapist = db.session.scalar(select(Therapist).where(Therapist.email == THERAPIST[0]))
        client_id = db.session.scalar(
            select(Client.id).where(people.client_visible_to_therapist(therapist.id)).order_by(Client.id).limit(1)
        )
        db.session.remove()
    return client_id


def test_a_note_written_from_a_phone_is_kept_as_typed_and_the_staff_page_does_not_show_it(browser, app_db):
    client_id = one_of_her_clients(app_db)

    phone = browser.page(phone=True)
    log_in(phone, *THERAPIST)
    phone.goto(f"/portal/clients/details/?id={client_id}")
    phone.locator("#clinical_note").fill(NOTE)
    follow(phone, phone.locator("#clinical-note-form [type=submit]"))

    assert alerts(phone, "success") == ["Nota clínica guardada."]
    newest = phone.locator(".clinical-note").first
    expect(newest.locator(".clinical-note-text")).to_have_text(NOTE)
    expect(newest.locator(".clinical-note-author")).to_have_text("Lucía Paredes Salazar")
    # The note reads on a 390 px screen without scrolling sideways.
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.reload()  # the page as it is read later, without the flashed message
    assert_accessible(phone)
    if shots := os.environ.get("E2E_SCREENSHOTS"):
        phone.screenshot(path=f"{shots}/clinical-notes-phone.png", full_page=True)

    staff = browser.page()
    log_in(staff, *ADMIN)
    staff.goto(f"/admin/client/details/?id={client_id}")
    expect(staff.locator("#clinical-notes-withheld")).to_be_visible()
    expect(staff.locator("body")).not_to_contain_text("registro de sueño")
    expect(staff.locator("#clinical-note-form")).to_have_count(0)
