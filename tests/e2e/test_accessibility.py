"""axe-core over the screens of issue 21 ("Done when"): no serious or critical violation on the
sign-in page, an error page (signed out and signed in), the book, the booking form and a client's page.
"""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Client
from tests.e2e.conftest import ADMIN
from tests.e2e.helpers import assert_accessible, follow, log_in


def a_demo_client(app_db) -> int:
    with app_db.app_context():
        client_id = db.session.scalar(select(Client.id).where(Client.active).order_by(Client.id).limit(1))
        db.session.remove()
    return client_id


def test_the_sign_in_and_password_reset_pages(browser, screenshots):
    page = browser.page()
    page.goto("/login")
    expect(page.locator("header")).to_have_text("Demo Practice")  # PRACTICE_NAME, unset in the suite
    assert_accessible(page)
    screenshots.page(page, "sign-in")

    follow(page, page.locator("#forgot-password"))
    expect(page.locator("input[name=email]")).to_be_visible()
    assert_accessible(page)
    follow(page, page.locator("#way-back"))
    expect(page.locator("input[name=password]")).to_be_visible()  # back on the sign-in page


def test_the_sign_in_page_on_a_phone(browser, screenshots):
    page = browser.page(phone=True)
    page.goto("/login")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing off-screen
    assert_accessible(page)
    screenshots.page(page, "sign-in-phone")


def test_a_missing_page_signed_out_and_signed_in(browser, screenshots):
    page = browser.page()
    page.watch.allow(r"status of 404")

    answer = page.goto("/admin/no-such-screen/")
    assert answer.status == 404
    expect(page.locator("#error-code")).to_contain_text("404")
    assert_accessible(page)
    follow(page, page.locator("#way-back"))
    expect(page.locator("input[name=password]")).to_be_visible()  # signed out: the way back is the sign-in page

    log_in(page, *ADMIN)
    answer = page.goto("/admin/no-such-screen/")
    assert answer.status == 404
    assert_accessible(page)
    screenshots.page(page, "error-page")
    follow(page, page.locator("#way-back"))
    expect(page.locator("#user-menu")).to_have_text(ADMIN[0])  # signed in: back to the staff's home


def test_the_book(browser):
    page = browser.page()
    log_in(page, *ADMIN)
    page.goto("/admin/book/?view=day")
    assert_accessible(page)


def test_the_booking_form(browser):
    page = browser.page()
    log_in(page, *ADMIN)
    page.goto("/admin/appointment/new/")
    assert_accessible(page)


def test_a_clients_page(browser, app_db, screenshots):
    page = browser.page()
    log_in(page, *ADMIN)
    page.goto(f"/admin/client/details/?id={a_demo_client(app_db)}")
    expect(page.locator("#book-client")).to_be_visible()  # New appointment, at the top
    assert_accessible(page)
    screenshots.page(page, "client-page", full_page=True)
