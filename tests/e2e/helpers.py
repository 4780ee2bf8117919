"""What a person does on the screens, said once: sign in and out, pick from a search-as-you-type
field, read the flashed messages, run axe-core."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect

CLINIC_ZONE = ZoneInfo("America/Lima")
SERIOUS = ("serious", "critical")


def clinic_today(zone: ZoneInfo = CLINIC_ZONE) -> dt.date:
    """The clinic's date (Lima's unless another zone is given): gunicorn runs on real time, so the
    end-to-end suite reads the real clock (the `clock` fixture moves only this process's time)."""
    return dt.datetime.now(zone).date()


def last_month(today: dt.date | None = None) -> str:
    first = (today or clinic_today()).replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def shown_around(read: Callable[[], str], expected: Callable[[], str]) -> str:
    """What the page shows, checked against what was expected just before and just after reading it:
    a page served at 23:59:59 clinic time may show the date (or month) that ended a second later."""
    before = expected()
    shown = read()
    assert shown in {before, expected()}, (shown, before)
    return shown


def log_in(page: Page, email: str, password: str) -> None:
    """Sign in on /login and wait for the signed-in screen (its user menu shows the email)."""
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").click()
    expect(page.locator("#user-menu")).to_have_text(email)


def follow(page: Page, target: Locator) -> None:
    """Click what loads another page, and wait until that page and its scripts are ready."""
    with page.expect_navigation():
        target.click()
    page.wait_for_load_state("load")


def log_out(page: Page) -> None:
    """The user menu's Log out button (a POST), back to the sign-in page."""
    page.locator("#user-menu").click()
    follow(page, page.locator("#logout"))
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("input[name=password]")).to_be_visible()


def open_menu(page: Page, category: str, item: str) -> None:
    """A Flask-Admin navbar entry: the category's dropdown, then the item."""
    page.locator("#admin-navbar-collapse a.dropdown-toggle", has_text=category).click()
    follow(page, page.locator("#admin-navbar-collapse .dropdown-menu.show").get_by_role("link", name=item, exact=True))


def pick_from_search(page: Page, field_id: str, typed: str, choice: str) -> None:
    """A Select2 search-as-you-type field (Flask-Admin's ajax fields): open it, type, click the choice."""
    page.locator(f"#s2id_{field_id}").click()
    _search_and_click(page, page.locator("#select2-drop input.select2-input"), typed, choice)
    expect(page.locator(f"#s2id_{field_id} .select2-chosen")).to_contain_text(choice)


def add_from_search(page: Page, field_id: str, typed: str, choice: str) -> None:
    """A Select2 search-as-you-type field of several choices (the series' clients): type in its box,
    click the choice; it joins the chosen ones and the list closes."""
    search = page.locator(f"#s2id_{field_id} input.select2-input")
    search.click()
    _search_and_click(page, search, typed, choice)
    expect(page.locator(f"#s2id_{field_id} .select2-search-choice", has_text=choice)).to_have_count(1)
    expect(page.locator("#select2-drop-mask")).to_be_hidden()


def _search_and_click(page: Page, search: Locator, typed: str, choice: str) -> None:
    """Type, wait for the server's answer to all of it, then click the choice. On a busy machine Select2
    may ask after the first letters too; a click on that answer can land while the list is redrawn for
    the whole word, select nothing and leave the list open over the form."""
    asked = f"query={quote_plus(typed)}&"
    with page.expect_response(
        lambda response: "/ajax/lookup/" in response.url and asked in (response.request.post_data or "")
    ):
        search.press_sequentially(typed)
    page.locator("#select2-drop .select2-result-label", has_text=choice).click()


def pick_option(page: Page, field_id: str, label: str) -> None:
    """A Select2 drop-down with fixed choices (no typing needed)."""
    page.locator(f"#s2id_{field_id}").click()
    page.locator("#select2-drop .select2-result-label", has_text=label).first.click()
    expect(page.locator(f"#s2id_{field_id} .select2-chosen")).to_contain_text(label)


def alerts(page: Page, kind: str = "") -> list[str]:
    """The flashed messages on the page (Bootstrap alerts), optionally of one kind (success, danger...)."""
    selector = f".alert.alert-{kind}" if kind else ".alert"
    texts = [" ".join(text.split()) for text in page.locator(selector).all_inner_texts()]
    return [text.removeprefix("×").strip() for text in texts]  # without the close button


def assert_accessible(page: Page, *, exclude: tuple[str, ...] = ()) -> None:
    """axe-core over the page: no violation of serious or critical impact (printed when there are).

    `exclude`: CSS selectors of elements left out, for a reason said where it is passed.
    """
    from axe_playwright_python.sync_playwright import Axe

    context = {"include": [["html"]], "exclude": [[selector] for selector in exclude]} if exclude else None
    results = Axe().run(page, context=context, options={"resultTypes": ["violations"]})
    serious = [v for v in results.response["violations"] if v["impact"] in SERIOUS]
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(f"    {node['target']}: {node['html'][:160]}" for node in v["nodes"][:10])
        for v in serious
    )
    assert not serious, f"axe-core: serious or critical violations on {page.url}:\n{report}"


def next_sunday(today: dt.date) -> dt.date:
    """The next Sunday after today: the demo practices work Monday to Saturday, so its evening is free."""
    return today + dt.timedelta(days=(6 - today.weekday()) or 7)
