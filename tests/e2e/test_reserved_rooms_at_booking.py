"""Journey: booking on site, the room the therapist has reserved comes first (Spanish UI, Lima).

Elena Ríos holds Sede Zeta · Consultorio Z2 on one weekday, 09:00–13:00. On the new-appointment
form, once she is the therapist, the booking is on site and its start is at 10:00 that weekday, the
room list opens with her room, marked as hers, and the room is chosen; moved to 14:00 (outside her
reservation), the list goes back to the rooms by site, and the room chosen stays. On the new series
form, the same as soon as the first date is typed. Saved: no warning (the room is hers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from admin_app.extensions import db
from tests.conftest import make_app
from tests.e2e.conftest import ADMIN, Practice, demo_of_its_own, watched_browser
from tests.e2e.helpers import alerts, clinic_today, follow, log_in, pick_from_search, pick_option
from tests.factories import make_client, make_reservation, make_site, make_therapist

THERAPIST, CLIENT = "Elena Ríos Vidal", "Tomás Prueba Quiroga"
HERS = "Sede Zeta · Consultorio Z2 · reservado por Elena Ríos Vidal, 09:00–13:00"


def day() -> dt.date:
    return clinic_today() + dt.timedelta(days=15)


@pytest.fixture(scope="module")
def lima(chromium, tmp_path_factory) -> Iterator[Practice]:
    """A Lima demo of its own: the site and therapist added here touch no other test's practice."""
    yield from demo_of_its_own(tmp_path_factory, "e2erooms")


@pytest.fixture(scope="module")
def reserved(lima) -> None:
    app = make_app(lima.database_url)
    with app.app_context():
        site = make_site("Sede Zeta", rooms=("Consultorio Z1", "Consultorio Z2"))
        elena = make_therapist(full_name=THERAPIST, email="elena.rios@example.com", default_currency="PEN")
        make_client(elena, full_name=CLIENT, email="tomas.prueba@example.com")
        make_reservation(site.rooms[1], elena, day().isoweekday(), ("09:00", "13:00"), clinic_today())
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def lima_browser(chromium, lima, request):
    yield from watched_browser(chromium, lima, request)


def room_options(page) -> list[str]:
    return [text.strip() for text in page.locator("#room option").all_inner_texts() if text.strip() != "—"]


def test_the_therapists_reserved_room_is_offered_first_and_chosen(lima_browser, reserved, screenshots):
    page = lima_browser.page()
    log_in(page, *ADMIN)

    page.goto("/admin/appointment/new/")
    pick_from_search(page, "therapist", "Elena", THERAPIST)
    pick_option(page, "modality", "Presencial")
    page.locator("#starts_at").fill(f"{day().isoformat()}T10:00")

    expect(page.locator("#s2id_room .select2-chosen")).to_have_text(HERS)
    assert room_options(page)[0] == HERS
    assert sum("reservado por" in text for text in room_options(page)) == 1
    screenshots.page(page, "booking-reserved-room-first")

    # Outside her reservation: the rooms by site again, the room chosen kept.
    page.locator("#starts_at").fill(f"{day().isoformat()}T14:00")
    expect(page.locator("#room option[data-reserved]")).to_have_count(0)
    options = room_options(page)
    assert "Sede Zeta · Consultorio Z2" in options and options == sorted(options, key=lambda t: t.split(" · ")[0])
    expect(page.locator("#s2id_room .select2-chosen")).to_have_text("Sede Zeta · Consultorio Z2")

    # Back at 10:00 and saved with a client: no warning, the room is hers.
    page.locator("#starts_at").fill(f"{day().isoformat()}T10:00")
    expect(page.locator("#room option").nth(1)).to_have_text(HERS)
    page.locator("#participants-button").click()
    pick_from_search(page, "participants-0-client", "Tomás", CLIENT)
    follow(page, page.locator("form.admin-form input[type=submit]").first)
    assert alerts(page, "success"), alerts(page)
    assert not [text for text in alerts(page) if "reservado" in text], alerts(page)

    # The new series: the first date typed, her room comes first.
    page.goto("/admin/series/")
    page.locator("#therapist_id").select_option(label=THERAPIST)
    page.locator("#modality").select_option("on_site")
    page.locator("#first_start").fill(f"{(day() + dt.timedelta(weeks=1)).isoformat()}T11:00")
    expect(page.locator("#room_id option").nth(1)).to_have_text(HERS)
    expect(page.locator("#room_id")).to_have_value(page.locator("#room_id option").nth(1).get_attribute("value"))
