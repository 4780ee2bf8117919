"""Journey: a referred client booked in the Vancouver network (English UI, America/Vancouver, CAD).

ICBC approved 10 sessions for Rowan Ellis (a client of the test's own, so the figures are the
test's: four attended in the past weeks and two expected in the next two: 6 taken). On the
new-appointment form, choosing him bills ICBC and, once the start is typed, the form reads "3 of 10
left after this booking"; saved (7 taken). A weekly series of five from a week later: the preview
shows 2, 1 and 0 left, then two dates beyond what is approved; created, the warning names the
authorization: 10 approved, 12 booked or used, 2 beyond.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Attendance, Payer
from tests.conftest import make_app
from tests.e2e.conftest import VANCOUVER_ADMIN as ADMIN
from tests.e2e.helpers import add_from_search, alerts, clinic_today, follow, log_in, pick_from_search
from tests.factories import book, make_authorization, make_client, make_therapist, pays_for

ZONE = ZoneInfo("America/Vancouver")
CLIENT, THERAPIST, REFERENCE = "Rowan Ellis", "Harper Quinn", "CL-2026-0417"


def today() -> dt.date:
    return clinic_today(ZONE)


@pytest.fixture(scope="module")
def referral(vancouver) -> None:
    """Rowan Ellis, paid by the demo's ICBC, with its authorization and six sessions taken."""
    app = make_app(vancouver.database_url, CLINIC_TIMEZONE="America/Vancouver", CURRENCIES=("CAD",))
    with app.app_context():
        icbc = db.session.scalars(select(Payer).where(Payer.name == "ICBC")).one()
        therapist = make_therapist(
            full_name=THERAPIST, email="harper.quinn@example.com", default_fee=Decimal("180.00"), default_currency="CAD"
        )
        client = make_client(therapist, full_name=CLIENT, email="rowan.ellis@example.com", preferred_language="en")
        pays_for(client, icbc)
        day = today()
        make_authorization(
            client, icbc, 10, day - dt.timedelta(days=35), day + dt.timedelta(days=120), reference=REFERENCE
        )
        taken = [(-4, Attendance.ATTENDED), (-3, Attendance.ATTENDED), (-2, Attendance.ATTENDED)]
        taken += [(-1, Attendance.ATTENDED), (1, Attendance.EXPECTED), (2, Attendance.EXPECTED)]
        for weeks, attendance in taken:
            starts = dt.datetime.combine(day + dt.timedelta(weeks=weeks), dt.time(9))
            book(therapist, [client], starts, attendance=attendance)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_staff_see_what_is_left_when_booking_a_referred_client_and_a_series_past_the_limit(
    vancouver, vancouver_browser, referral, screenshots
):
    page = vancouver_browser.page(locale="en-CA")
    log_in(page, *ADMIN)

    # One appointment: the client chosen, ICBC is billed; the start typed, what is left after it.
    single = today() + dt.timedelta(weeks=3)
    page.goto("/admin/appointment/new/")
    page.locator("#participants-button").click()
    pick_from_search(page, "participants-0-client", "Rowan", CLIENT)
    # What was typed went in the body of a POST: the addresses the server logged hold none of it.
    log = vancouver.log_path.read_text()
    assert '"POST /admin/appointment/ajax/lookup/ HTTP' in log, vancouver.log_tail()  # the log drops query strings
    assert "Rowan" not in log
    expect(page.locator("#s2id_therapist .select2-chosen")).to_have_text(THERAPIST)
    expect(page.locator("#s2id_participants-0-billed_to .select2-chosen")).to_have_text("Payer")
    expect(page.locator("#s2id_participants-0-payer .select2-chosen")).to_have_text("ICBC")
    page.locator("#starts_at").fill(f"{single.isoformat()}T18:00")
    preview = page.locator("#authorization-preview")
    expect(preview).to_have_text(
        f"Authorization ICBC {REFERENCE}: 3 of 10 left after this booking "
        f"(valid until {(today() + dt.timedelta(days=120)).isoformat()})."
    )
    screenshots.page(page, "booking-authorization-left", full_page=True)
    follow(page, page.locator("form.admin-form input[type=submit]").first)
    expect(page.locator(".alert-success")).to_contain_text("successfully created")
    assert not alerts(page, "warning") and not alerts(page, "danger"), alerts(page)

    # A weekly series of five from a week later: 8, 9, 10, then 11 and 12 of 10.
    first = single + dt.timedelta(weeks=1)
    page.goto("/admin/series/")
    page.locator("#therapist_id").select_option(label=THERAPIST)
    add_from_search(page, "clients", "Rowan", CLIENT)
    page.locator("#first_start").fill(f"{first.isoformat()}T18:00")
    page.locator("#occurrences").fill("5")
    follow(page, page.locator("#preview-series"))
    expect(page.locator("#series-beyond")).to_contain_text("2 dates go beyond what is approved")
    rows = page.locator("#series-dates tbody tr")
    expect(rows.nth(2).locator(".series-authorization")).to_have_text(
        f"Authorization ICBC {REFERENCE}: 0 of 10 left after this booking "
        f"(valid until {(today() + dt.timedelta(days=120)).isoformat()})."
    )
    expect(rows.nth(4).locator(".series-authorization")).to_have_text(
        f"⚠ Authorization ICBC {REFERENCE} ({CLIENT}): 10 sessions approved, 12 booked or used: "
        "2 beyond what is approved."
    )
    screenshots.page(page, "series-beyond-authorization", full_page=True)
    follow(page, page.get_by_role("button", name="Create 5 appointments"))
    expect(page.locator(".alert-success")).to_contain_text("Series created: 5 appointments.")
    beyond = f"Authorization ICBC {REFERENCE} ({CLIENT}): 10 sessions approved, 12 booked or used: 2 beyond"
    assert alerts(page, "warning") == [f"{beyond} what is approved."]
