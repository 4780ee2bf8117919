"""Journey: the appointment book of a network too large for one list (the Vancouver demo's 40
therapists, more than 30 active), served by gunicorn. The book opens on the first site's week, a row
per therapist; a therapist's name opens their own week; the day is a page of therapist columns,
with the pager to the others; every screen passes axe.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VANCOUVER_ADMIN, VANCOUVER_SETTINGS, demo_of_its_own, watched_browser
from tests.e2e.helpers import assert_accessible, follow, log_in

NETWORK_SEED = ("--practice", "vancouver", "--therapists", "40", "--months", "1")
SHOWN = re.compile(r"Therapists (\d+)–(\d+) of (\d+), by name\.")


@pytest.fixture(scope="module")
def network(chromium, tmp_path_factory):
    """The Vancouver demo at its own size (40 therapists over its sites), this month only."""
    yield from demo_of_its_own(tmp_path_factory, "e2enet", settings=VANCOUVER_SETTINGS, seed=NETWORK_SEED)


@pytest.fixture
def network_browser(chromium, network, request):
    yield from watched_browser(chromium, network, request)


def shown(page) -> tuple[int, int, int]:
    """First, last and count of the therapists the page says it shows."""
    first, last, count = SHOWN.search(page.locator("#therapist-page").inner_text()).groups()
    return int(first), int(last), int(count)


def test_a_networks_week_is_a_row_per_therapist_and_its_day_a_page_of_columns(network_browser, screenshots):
    page = network_browser.page(locale="en-CA")
    log_in(page, *VANCOUVER_ADMIN)

    page.goto("/admin/book/")
    expect(page).to_have_url(re.compile(r"view=week.*&site=\d+"))  # the first site's week
    rows = page.locator("#week-by-therapist tbody tr")
    first, last, count = shown(page)
    assert (first, last) == (1, min(count, 20)) and count > 1
    expect(rows).to_have_count(last)
    assert page.locator("#week-by-therapist .book-entry").count() > 0  # the demo books this week
    assert_accessible(page)
    screenshots.page(page, "book-network-week")

    # A therapist's name opens their own week: every appointment there is theirs.
    name = rows.first.locator("th a").inner_text()
    follow(page, rows.first.locator("th a"))
    expect(page.locator("#week-by-therapist")).to_have_count(0)
    entries = page.locator(".book-entry")
    assert entries.count() > 0 and all(name in text for text in entries.all_inner_texts())

    # The site's day: at most 10 therapist columns, the others a page away.
    page.go_back()
    follow(page, page.get_by_role("link", name="Day", exact=True))
    columns = page.locator("#day-grid thead th[data-therapist]")
    first, last, count = shown(page)
    expect(columns).to_have_count(last - first + 1)
    assert last - first + 1 <= 10
    assert_accessible(page)
    screenshots.page(page, "book-network-day")
    assert count > last  # the first site has more than 10 therapists
    on_first_page = columns.all_inner_texts()
    follow(page, page.locator("#next-page"))
    assert shown(page)[0] == last + 1
    assert not set(columns.all_inner_texts()) & set(on_first_page)
