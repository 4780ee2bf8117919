"""Journey 7: a booking from an empty slot of the day view, with the keyboard only, in es, en and fr.

The day view's empty slot opens the new-appointment form with the therapist and the start filled in
and the way back to that day. The form opens on the client's search: the receptionist types the
client's name (es), national ID (en) or phone as people say it, with spaces (fr), takes the match with
Enter, lets the form fill in the fee and who pays, tabs to Save and presses Enter; the scripted input
takes under ten seconds, and the book's day is on the screen again with the booking saved. The start
is shown the way each language writes it: DD/MM/YYYY HH:MM in Spanish and French, YYYY-MM-DD HH:MM in
English.

Each language books its own client with their own therapist on a Sunday evening at 19:00 (the demo
practice works Monday to Saturday; other journeys use 18:00 and 20:00): the day view of that Sunday with the
therapist's column added, the slot's link reached and opened with Enter.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import exists, or_, select

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentStatus,
    AssignmentKind,
    CareAssignment,
    Client,
    ClientLink,
    PaymentSource,
    Therapist,
)
from admin_app.models.base import utcnow
from admin_app.services.platform.clinic_time import to_local
from tests.e2e.conftest import LANGUAGE_USERS
from tests.e2e.helpers import CLINIC_ZONE, alerts, assert_accessible, clinic_today, log_in, next_sunday

LOCALES = ("es", "en", "fr")
BROWSER = {"es": "es-PE", "en": "en-US", "fr": "fr-FR"}  # en-US: the browser that writes mm/dd/yyyy
TAKEN = ("Carmen Cáceres Lozano",)  # the therapist journey 1 books on Sunday evening
SECONDS = 10
MOST_TABS = 30
HOUR = "19:00"
SLOT_NAMES = {  # an empty slot's link, as the screen reader says it
    "es": "Reservar con {therapist} a las {time}",
    "en": "Book {therapist} at {time}",
    "fr": "Réserver avec {therapist} à {time}",
}


@dataclass(frozen=True)
class Booking:
    client: str
    national_id: str
    phone: str  # E.164, as stored
    therapist_id: int
    therapist: str


def bookings(app_db) -> dict[str, Booking]:
    """One demo client per language, each in the direct care of a different active therapist, paying
    themselves (no payer, so no authorization) and linked to nobody (no household chips)."""
    with app_db.app_context():
        linked = exists().where(or_(ClientLink.client_id == Client.id, ClientLink.related_client_id == Client.id))
        paid_by_payer = exists().where(
            PaymentSource.client_id == Client.id, PaymentSource.active, PaymentSource.payer_id.is_not(None)
        )
        rows = db.session.execute(
            select(Client.full_name, Client.national_id, Client.phone, Therapist.id, Therapist.full_name)
            .join(CareAssignment, CareAssignment.client_id == Client.id)
            .join(Therapist, Therapist.id == CareAssignment.therapist_id)
            .where(
                Client.active,
                Client.national_id.is_not(None),
                Client.phone.is_not(None),
                CareAssignment.active,
                CareAssignment.kind == AssignmentKind.DIRECT,
                Therapist.active,
                Therapist.full_name.not_in(TAKEN),
                ~linked,
                ~paid_by_payer,
            )
            .order_by(Client.id)
        ).all()
        db.session.remove()
    chosen: dict[int, Booking] = {}
    for row in rows:
        chosen.setdefault(row[3], Booking(*row))
    assert len(chosen) >= len(LOCALES), "the demo has a self-paying client for each of three therapists"
    return dict(zip(LOCALES, list(chosen.values())[: len(LOCALES)], strict=True))


@pytest.fixture(scope="module")
def booked(app_db) -> dict[str, Booking]:
    return bookings(app_db)


def spaced(phone: str) -> str:
    """A phone as people say it: the national number in groups of three ("987 654 321")."""
    national = phone[-9:]
    return " ".join(national[i : i + 3] for i in range(0, len(national), 3))


def slot_link(booking: Booking, day: dt.date) -> str:
    """What an empty 19:00 slot of the therapist's column in the day view opens."""
    back = f"/admin/book/?view=day&date={day.isoformat()}"
    return (
        f"/admin/appointment/new/?therapist={booking.therapist_id}"
        f"&starts_at={day.isoformat()}T{HOUR}&url={quote(back, safe='')}"
    )


def open_slot(page: Page, booking: Booking, day: dt.date, locale: str) -> None:
    """The day view with the therapist's column; its 19:00 slot, found by the name a screen reader says,
    takes the keyboard's focus and opens with Enter."""
    page.goto(f"/admin/book/?view=day&date={day.isoformat()}&col={booking.therapist_id}")
    slot = page.get_by_role("link", name=SLOT_NAMES[locale].format(therapist=booking.therapist, time=HOUR), exact=True)
    slot.focus()
    expect(slot).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def focused(page: Page) -> str:
    """What has the keyboard focus: its id, or its tag and type."""
    return page.evaluate("() => { const e = document.activeElement; return e.id || (e.tagName + ':' + e.type); }")


def tab_to_save(page: Page) -> int:
    """Tab forward until the Save button has the focus; the number of presses."""
    for presses in range(1, MOST_TABS + 1):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('form.admin-form input[type=submit]')"):
            return presses
    raise AssertionError(f"Save not reached in {MOST_TABS} presses of Tab (focus on {focused(page)})")


@pytest.mark.parametrize("locale", LOCALES)
def test_a_booking_from_an_empty_slot_with_the_keyboard_only(browser, screenshots, booked, locale):
    booking = booked[locale]
    day = next_sunday(clinic_today())
    typed = {"es": booking.client, "en": booking.national_id, "fr": spaced(booking.phone)}[locale]
    page = browser.page(locale=BROWSER[locale])
    log_in(page, *LANGUAGE_USERS[locale])
    started = time.monotonic()
    open_slot(page, booking, day, locale)
    spent = time.monotonic() - started

    # Filled in from the slot: the therapist, and the start in the language's own way of writing it.
    expect(page.locator("#s2id_therapist .select2-chosen")).to_have_text(booking.therapist)
    shown_start = f"{day:%d/%m/%Y} {HOUR}" if locale in ("es", "fr") else f"{day.isoformat()} {HOUR}"
    expect(page.locator("#starts_at")).to_have_value(shown_start)
    expect(page.locator("#starts_at")).to_have_attribute("type", "text")
    # The form opens on the client's search.
    expect(page.locator("#s2id_participants-0-client")).to_have_class(re.compile("select2-container-active"))

    started = time.monotonic()
    page.keyboard.type(typed)
    match = page.locator("#select2-drop .select2-result-label", has_text=booking.client)
    expect(match).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.locator("#s2id_participants-0-client .select2-chosen")).to_contain_text(booking.client)
    expect(page.locator("#participants-0-fee")).not_to_have_value("")  # the therapist's fee, filled in
    expect(page.locator("#clash-messages")).to_be_empty()  # a free slot: nothing would be refused
    presses = tab_to_save(page)
    spent += time.monotonic() - started

    screenshots.page(page, f"booking-form-{locale}", full_page=True)
    if locale == "en":
        # Select2 3.5 draws each field as a link-styled box out of the tab order (its focusser input
        # has the focus and the name); a box whose choice is blank has no text for axe's link-name rule.
        assert_accessible(page, exclude=(".select2-choice",))

    started = time.monotonic()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    spent += time.monotonic() - started
    assert spent < SECONDS, f"{spent:.1f} s of scripted input ({presses} presses of Tab)"

    # Back on the day of the book, the booking saved.
    expect(page).to_have_url(re.compile(rf"/admin/book/\?view=day&date={day.isoformat()}&col={booking.therapist_id}$"))
    expect(page.locator(".alert-success")).to_be_visible()
    assert not alerts(page, "danger"), alerts(page)
    expect(page.locator("main")).to_contain_text(booking.client)
    if locale == "en":
        expect(page.locator(".alert-success")).to_contain_text("Record was successfully created.")


def test_a_taken_slot_is_said_before_saving(browser, app_db):
    """A demo appointment's start opened as if it were free, for its therapist: the clash the save
    would refuse is on the form before anything is typed, in the save's words."""
    with app_db.app_context():
        taken = db.session.scalars(
            select(Appointment)
            .where(Appointment.status != AppointmentStatus.CANCELLED, Appointment.starts_at > utcnow())
            .order_by(Appointment.starts_at)
            .limit(1)
        ).one()
        therapist_id, therapist = taken.therapist_id, taken.therapist.full_name
        starts, ends = to_local(taken.starts_at, CLINIC_ZONE), to_local(taken.ends_at, CLINIC_ZONE)
        db.session.remove()
    page = browser.page(locale=BROWSER["en"])
    log_in(page, *LANGUAGE_USERS["en"])
    page.goto(f"/admin/appointment/new/?therapist={therapist_id}&starts_at={starts:%Y-%m-%dT%H:%M}")

    clash = page.locator("#clash-messages")
    expect(clash).to_have_attribute("aria-live", "polite")
    expect(clash).to_contain_text(
        f"Clashes with {therapist}'s appointment on {starts:%Y-%m-%d %H:%M}–{ends:%H:%M} (same therapist)."
    )


def test_the_form_is_one_column_on_a_phone(browser, screenshots, booked):
    booking = booked["es"]
    page = browser.page(phone=True)
    log_in(page, *LANGUAGE_USERS["es"])
    page.goto(slot_link(booking, next_sunday(clinic_today()) + dt.timedelta(days=7)))

    client = page.locator("#s2id_participants-0-client").bounding_box()
    therapist = page.locator("#s2id_therapist").bounding_box()
    start = page.locator("#starts_at").bounding_box()
    assert client["y"] < therapist["y"] < start["y"]
    assert abs(client["x"] - start["x"]) < 2, (client, start)  # one column
    screenshots.page(page, "booking-form-phone", full_page=True)
