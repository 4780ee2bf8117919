"""Journey (issue 21): the front desk closes a day from the book's day view, in English.

A small Lima demo of its own, where two sessions of the last working day are left "expected", as a
busy day leaves them. The staff open that day: a column per therapist, a free half hour is a link
the keyboard reaches; Close the day lists the two sessions, confirming marks everyone in them
attended, and the day shows it. On a phone the grid scrolls sideways, the times in view.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from admin_app.extensions import db
from admin_app.models import Appointment, AppointmentStatus, Attendance, Participant
from admin_app.services.platform.clinic_time import day_start, to_local
from tests.conftest import make_app
from tests.e2e.conftest import LANGUAGE_USERS, Practice, demo_of_its_own, watched_browser
from tests.e2e.helpers import assert_accessible, clinic_today, follow, log_in


@pytest.fixture(scope="module")
def lima(chromium, tmp_path_factory) -> Iterator[Practice]:
    """A Lima demo of its own: the day closed here is no other test's."""
    yield from demo_of_its_own(tmp_path_factory, "e2eclose")


@pytest.fixture(scope="module")
def busy_day(lima) -> dict:
    """The last day before today with two sessions whose participants all attended, those two set
    back to "expected" (scheduled): {"day", "ids", "names", "participants"}."""
    app = make_app(lima.database_url)
    with app.app_context():
        past = db.session.scalars(
            select(Appointment)
            .where(Appointment.starts_at < day_start(clinic_today()), Appointment.status == AppointmentStatus.HELD)
            .order_by(Appointment.starts_at.desc())
            .limit(200)
        ).all()
        by_day: dict[dt.date, list[Appointment]] = {}
        for appointment in past:
            if all(p.attendance == Attendance.ATTENDED for p in appointment.participants):
                by_day.setdefault(to_local(appointment.starts_at).date(), []).append(appointment)
        day, chosen = next((day, found[:2]) for day, found in by_day.items() if len(found) >= 2)
        found = {
            "day": day,
            "ids": [a.id for a in chosen],
            "names": [", ".join(p.client.full_name for p in a.participants) for a in chosen],
            "participants": sum(len(a.participants) for a in chosen),
        }
        ids = found["ids"]
        db.session.execute(
            update(Participant).where(Participant.appointment_id.in_(ids)).values(attendance=Attendance.EXPECTED)
        )
        db.session.execute(
            update(Appointment).where(Appointment.id.in_(ids)).values(status=AppointmentStatus.SCHEDULED)
        )
        db.session.commit()
        db.engine.dispose()
    return found


@pytest.fixture
def close_browser(chromium, lima, request):
    yield from watched_browser(chromium, lima, request)


def test_the_staff_close_a_day_from_the_day_view(close_browser, busy_day, screenshots):
    day, ids = busy_day["day"].isoformat(), busy_day["ids"]
    page = close_browser.page(locale="en-CA")
    log_in(page, *LANGUAGE_USERS["en"])

    page.goto(f"/admin/book/?view=day&date={day}")
    expect(page.locator("#day-grid")).to_be_visible()
    assert page.locator("#day-grid thead th[data-therapist]").count() >= 1
    for appointment_id in ids:
        expect(page.locator(f'.book-entry[data-appointment="{appointment_id}"]')).to_contain_text("Expected")
    assert_accessible(page)
    screenshots.page(page, "book-day")

    # A free half hour is a link the keyboard reaches, to a new appointment at that time.
    slot = page.get_by_role("link", name=re.compile(r"^Book .+ at \d\d:\d\d$")).last
    slot.focus()
    expect(slot).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/appointment/new/\?"))
    asked = parse_qs(urlsplit(page.url).query)
    assert re.fullmatch(rf"{day}T\d\d:[03]0", asked["starts_at"][0]) and asked["therapist"][0].isdigit(), asked
    assert asked["url"] == [f"/admin/book/?view=day&date={day}"]
    page.go_back()

    # Close the day: the confirmation lists the two sessions still expected, and nothing else.
    follow(page, page.locator("#close-day"))
    rows = page.locator("#still-expected tbody tr")
    expect(rows).to_have_count(2)
    for appointment_id, names in zip(ids, busy_day["names"], strict=True):
        expect(page.locator(f'#still-expected tr[data-appointment="{appointment_id}"]')).to_contain_text(names)
    assert_accessible(page)
    screenshots.page(page, "close-the-day")
    follow(page, page.locator("#confirm-close-day"))

    count = busy_day["participants"]
    expect(page.locator(".alert-success")).to_contain_text(f"{count} participants marked attended.")
    expect(page).to_have_url(re.compile(rf"/admin/book/\?view=day&date={day}$"))
    for appointment_id in ids:
        expect(page.locator(f'.book-entry[data-appointment="{appointment_id}"]')).to_contain_text("Attended")
    follow(page, page.locator("#close-day"))
    expect(page.locator("#nobody-expected")).to_be_visible()


def test_on_a_phone_the_day_scrolls_sideways_with_the_times_in_view(close_browser, busy_day, screenshots):
    page = close_browser.page(locale="en-CA", phone=True)
    log_in(page, *LANGUAGE_USERS["en"])

    page.goto(f"/admin/book/?view=day&date={busy_day['day'].isoformat()}")

    grid = page.locator("#day-grid")
    expect(grid).to_be_visible()
    region = page.locator(".table-responsive", has=grid)
    assert region.evaluate("element => element.scrollWidth > element.clientWidth"), "the columns scroll sideways"
    region.evaluate("element => element.scrollBy(400, 0)")
    expect(page.locator("#day-grid tbody th.slot-time").first).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page itself fits"
    screenshots.page(page, "book-day-phone")
