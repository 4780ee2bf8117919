"""Journey 4: the demo therapist (Lucía Paredes) in her portal.

She sees her own clients and no one else's: the list holds exactly the clients she is assigned to or
has seen; the address of another therapist's client answers the ordinary not-found page; her
calendar-feed address, created from the portal home, serves her calendar.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Client, Therapist
from admin_app.services.people import records as people
from tests.e2e.conftest import THERAPIST
from tests.e2e.helpers import follow, log_in


def caseload(app_db) -> tuple[set[str], Client]:
    """Her clients' names, and one client she must not see (read from the database)."""
    with app_db.app_context():
        therapist = db.session.scalar(select(Therapist).where(Therapist.email == THERAPIST[0]))
        visible = people.client_visible_to_therapist(therapist.id)
        names = set(db.session.scalars(select(Client.full_name).where(visible)))
        stranger = db.session.scalars(select(Client).where(~visible).order_by(Client.id).limit(1)).one()
        db.session.expunge(stranger)
        db.session.remove()
    return names, stranger


def test_therapist_sees_only_her_clients_and_her_calendar(browser, app_db):
    mine, stranger = caseload(app_db)
    assert mine and stranger.full_name not in mine

    page = browser.page()
    log_in(page, *THERAPIST)
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.locator("h1")).to_contain_text("Lucía Paredes Salazar")

    # My clients: as many as her caseload, and every name one of hers.
    follow(page, page.get_by_role("link", name="Mis clientes").first)
    expect(page.locator(".nav-tabs .nav-link.active")).to_have_text(re.compile(rf"\({len(mine)}\)"))
    listed = page.locator("table.model-list tbody td.col-full_name").all_inner_texts()
    assert len(listed) == len(mine), (len(listed), len(mine))
    assert {name.strip() for name in listed} == mine

    # Another therapist's client, by address: the ordinary not-found page, nothing of the client.
    page.watch.allow(r"status of 404")
    answer = page.goto(f"/portal/clients/details/?id={stranger.id}")
    assert answer.status == 404
    expect(page.locator("#error-code")).to_contain_text("404")
    expect(page.locator("body")).not_to_contain_text(stranger.full_name)

    # Her calendar feed: created (or rotated) on the portal home, then read as a calendar app would.
    page.goto("/portal/")
    follow(page, page.get_by_role("button", name="Crear o regenerar el enlace de calendario"))
    feed_url = page.locator("#calendar-feed-url").input_value()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/calendar/[^/]+\.ics", feed_url), feed_url
    feed = page.request.get(feed_url)
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    calendar = feed.text()
    assert calendar.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in calendar
