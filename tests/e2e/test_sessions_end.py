"""Sessions that end, through gunicorn and a real browser: the session cookie is an opaque id with
its flags, a cookie copied before sign-out opens nothing after it, "Sign out everywhere" ends the
other browser's session, deactivating a login ends its session, and an idle session ends with a
message (a server of its own, idle after one minute)."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from admin_app.extensions import db
from admin_app.models import User
from tests.e2e.conftest import _run_flask, demo_of_its_own, watched_browser
from tests.e2e.helpers import alerts, follow, log_in

COOKIE = "session"
ENDED = re.compile("Your session has ended")


def own_staff(practice, name: str) -> tuple[str, str]:
    """A staff login of this test's own (signing it out everywhere touches no other test)."""
    login = (f"e2e-{name}@example.com", f"e2e-{name}-password-2026")
    _run_flask(practice.env, "accounts", "create-admin", "--email", login[0], "--password", login[1], "--locale", "en")
    return login


def session_cookie(page) -> dict:
    [cookie] = [cookie for cookie in page.context.cookies() if cookie["name"] == COOKIE]
    return cookie


def with_cookie(browser, cookie: dict):
    """Another browser holding a copy of `cookie`."""
    page = browser.page(locale="en-CA")
    page.context.add_cookies([{key: cookie[key] for key in ("name", "value", "domain", "path")}])
    return page


def signed_in(page) -> bool:
    page.goto("/admin/")
    return page.locator("#user-menu").count() == 1


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(browser, practice):
    email, password = own_staff(practice, "copied-cookie")
    page = browser.page(locale="en-CA")
    log_in(page, email, password)

    cookie = session_cookie(page)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie["value"]), cookie["value"]  # an id, no data, no signature
    assert len(base64.urlsafe_b64decode(cookie["value"] + "=")) == 32
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # Secure: production only
    assert cookie["expires"] == -1  # ends with the browser; the server decides how long it lives
    assert signed_in(with_cookie(browser, cookie))  # the copy works while the session lives

    page.locator("#user-menu").click()
    follow(page, page.locator("#logout"))

    thief = with_cookie(browser, cookie)
    assert not signed_in(thief)
    expect(thief).to_have_url(re.compile(r"/login"))


def test_sign_out_everywhere_ends_the_other_browsers_session(browser, practice):
    email, password = own_staff(practice, "everywhere")
    laptop, phone = browser.page(locale="en-CA"), browser.page(locale="en-CA")
    log_in(laptop, email, password)
    log_in(phone, email, password)

    laptop.locator("#user-menu").click()
    follow(laptop, laptop.locator("#my-sessions"))
    expect(laptop.locator("tr.web-session")).to_have_count(2)
    expect(laptop.locator("#this-session")).to_have_count(1)
    follow(laptop, laptop.locator("#sign-out-everywhere"))

    expect(laptop).to_have_url(re.compile(r"/login"))
    assert any("All your sessions were signed out" in text for text in alerts_or_flashes(laptop))
    assert not signed_in(phone)
    assert not signed_in(laptop)


def test_sign_out_one_session_from_my_sessions(browser, practice):
    email, password = own_staff(practice, "one-session")
    laptop, phone = browser.page(locale="en-CA"), browser.page(locale="en-CA")
    log_in(laptop, email, password)
    log_in(phone, email, password)

    laptop.goto("/admin/sessions/")
    follow(laptop, laptop.locator("button.end-session"))

    assert not signed_in(phone)
    assert signed_in(laptop)


def test_a_deactivated_login_is_signed_out_at_its_next_request(browser, practice, app_db):
    email, password = own_staff(practice, "deactivated")
    page = browser.page(locale="en-CA")
    log_in(page, email, password)

    with app_db.app_context():  # as the Logins screen's "active" box does
        db.session.execute(update(User).where(User.email == email).values(active=False))
        db.session.commit()
        db.session.remove()

    assert not signed_in(page)
    expect(page).to_have_url(re.compile(r"/login"))
    assert any(ENDED.search(text) for text in alerts_or_flashes(page))


def alerts_or_flashes(page) -> list[str]:
    """The flashed messages: Bootstrap alerts in the back office, Flask-Security's list on the sign-in page."""
    return alerts(page) + [text.strip() for text in page.locator("ul.flashes li").all_inner_texts()]


@pytest.fixture(scope="module")
def quickly_idle(chromium, tmp_path_factory) -> Iterator:
    """A small Lima practice whose sessions end after one idle minute."""
    yield from demo_of_its_own(
        tmp_path_factory, "e2eidle", settings={"SESSION_IDLE_MINUTES": "1"}, seed=("--therapists", "2", "--months", "1")
    )


def test_an_idle_session_ends_with_a_message(chromium, quickly_idle, request):
    for browser in watched_browser(chromium, quickly_idle, request):
        email, password = own_staff(quickly_idle, "idle")
        page = browser.page(locale="en-CA")
        log_in(page, email, password)

        time.sleep(65)
        page.goto("/admin/")

        expect(page).to_have_url(re.compile(r"/login"))
        [message] = [text for text in alerts_or_flashes(page) if ENDED.search(text)]
        assert "idle for 1 minute" in message
        expect(page.locator("input[name=password]")).to_be_visible()
