"""Journey: long work in the background, served as `make run` serves it (RUN_PERIODIC_WORK: gunicorn
starts the embedded runner beside its workers). Billing → Invoice run starts a run and opens its
page; the runner performs it, the page's bar fills to 100% and the result is the message the screen
always gave, with the way back to the run's drafts; the run stays listed for coming back later.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VANCOUVER_ADMIN, VANCOUVER_SEED, VANCOUVER_SETTINGS, demo_of_its_own, watched_browser
from tests.e2e.helpers import assert_accessible, follow, log_in
from tests.e2e.test_invoicing import month_before_last_end

RUN_SECONDS_MS = 60_000  # the runner looks every second; the run itself takes a few


@pytest.fixture(scope="module")
def with_runner(chromium, tmp_path_factory):
    """A small Vancouver demo of its own (its invoice run touches no other test's practice), with the runner."""
    yield from demo_of_its_own(
        tmp_path_factory, "e2eruns", settings={**VANCOUVER_SETTINGS, "RUN_PERIODIC_WORK": "true"}, seed=VANCOUVER_SEED
    )


@pytest.fixture
def runs_browser(chromium, with_runner, request):
    yield from watched_browser(chromium, with_runner, request)


def test_the_invoice_run_shows_its_progress_and_its_result(runs_browser, screenshots):
    page = runs_browser.page(locale="en-CA")
    log_in(page, *VANCOUVER_ADMIN)
    page.goto("/admin/invoice-run/")
    page.locator("#through").fill(month_before_last_end().isoformat())  # everyone's: the default payer
    follow(page, page.locator("#run"))

    expect(page).to_have_url(re.compile(r"/admin/jobs/\d+$"))
    run_url = page.url
    bar = page.locator("#job-run-bar")
    expect(bar).to_have_attribute("role", "progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=RUN_SECONDS_MS)
    result = page.locator("#job-run-result")
    expect(result).to_have_text(
        re.compile(r"\d+ new drafts?, \d+ drafts? extended, \d+ charges? invoiced\."), timeout=RUN_SECONDS_MS
    )
    assert int(result.inner_text().split()[0]) > 0
    expect(page.locator("#job-run-status")).to_have_text("Done.")
    assert_accessible(page)
    screenshots.page(page, "background-run-done")

    # Back to the screen that started it: the drafts of this run.
    follow(page, page.locator("#job-run-back"))
    expect(page.locator("#run-drafts")).to_be_visible()

    # Coming back later: the list of recent runs leads to it.
    page.goto("/admin/jobs/")
    follow(page, page.locator("#recent-runs a", has_text="Invoice run up to").first)
    assert page.url == run_url
    expect(page.locator("#job-run-result")).to_contain_text("charges invoiced")
