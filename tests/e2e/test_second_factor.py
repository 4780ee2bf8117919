"""The second factor through the real server, in a practice that requires it of everyone
(REQUIRE_2FA_STAFF and REQUIRE_2FA_THERAPISTS on, as gunicorn reads them from the environment).

The staff member signs in with the password and is made to set up an authenticator app before any
screen opens: the code is computed with pyotp from the key the page shows, as a phone would. The
recovery codes are shown once. Signed out, the password alone no longer signs in; a wrong code is
refused; a recovery code works once. Then a therapist sets hers up, the staff reset it from the logins
screen, and she signs in with her password and is asked to set it up again; the reset is in the audit
trail and she has the email.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import User
from tests.conftest import make_app
from tests.e2e.conftest import (
    LANGUAGE_USERS,
    VANCOUVER_ADMIN,
    VANCOUVER_SEED,
    VANCOUVER_SETTINGS,
    demo_of_its_own,
    watched_browser,
)
from tests.e2e.helpers import assert_accessible, follow, log_out

CLAIRE = ("claire.tremblay@vancouver.example.com", "demo-therapist-2026")
OTHER_STAFF = LANGUAGE_USERS["en"]  # a staff login of the suite's own (conftest), not set up by the test above
SETTINGS = {**VANCOUVER_SETTINGS, "REQUIRE_2FA_STAFF": "true", "REQUIRE_2FA_THERAPISTS": "true"}


@pytest.fixture(scope="module")
def secured(chromium, tmp_path_factory) -> Iterator:
    """A small Vancouver network whose every login must have a second factor."""
    yield from demo_of_its_own(tmp_path_factory, "e2e2fa", settings=SETTINGS, seed=VANCOUVER_SEED)


@pytest.fixture
def browser(chromium, secured, request):
    yield from watched_browser(chromium, secured, request)


def password_step(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    follow(page, page.locator("form:has(input[name=password]) [type=submit]"))


def set_up_authenticator(page: Page) -> tuple[str, list[str]]:
    """On the setup page: scan (read the key), prove it with a code, keep the recovery codes."""
    expect(page).to_have_url(re.compile(r"/tf-setup"))
    follow(page, page.locator("#set-up-authenticator"))
    expect(page.locator("#qrcode")).to_be_visible()
    assert_accessible(page)
    key = page.locator("#authr-key").inner_text().replace("-", "").strip()
    page.locator("#code").fill(pyotp.TOTP(key).now())
    follow(page, page.locator("form[name=two_factor_verify_code_form] [type=submit]"))
    expect(page).to_have_url(re.compile(r"/mf-recovery-codes"))
    follow(page, page.locator("#make-recovery-codes"))
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) >= 3
    follow(page, page.locator("#recovery-codes-kept"))
    return key, codes


def test_staff_must_set_up_a_second_factor_and_then_sign_in_with_it(browser, secured):
    page = browser.page(locale="en-CA")

    password_step(page, *VANCOUVER_ADMIN)
    expect(page.locator("body")).to_contain_text("Your login must have a second step")
    assert_accessible(page)
    key, codes = set_up_authenticator(page)
    expect(page.locator("#user-menu")).to_have_text(VANCOUVER_ADMIN[0])
    log_out(page)

    # The password alone no longer signs in: a code is asked, a wrong one refused.
    password_step(page, *VANCOUVER_ADMIN)
    expect(page).to_have_url(re.compile(r"/tf-validate"))
    assert_accessible(page)
    page.locator("#code").fill("000000")
    follow(page, page.locator("form[name=two_factor_verify_code_form] [type=submit]"))
    expect(page.locator("body")).to_contain_text("Invalid code")
    page.goto("/admin/")
    expect(page.locator("#user-menu")).to_have_count(0)

    # A recovery code works once.
    password_step(page, *VANCOUVER_ADMIN)
    follow(page, page.locator("#use-recovery-code"))
    page.locator("#code").fill(codes[0])
    follow(page, page.locator("form[name=mf_recovery_form] [type=submit]"))
    expect(page.locator("#user-menu")).to_have_text(VANCOUVER_ADMIN[0])
    log_out(page)
    password_step(page, *VANCOUVER_ADMIN)
    follow(page, page.locator("#use-recovery-code"))
    page.locator("#code").fill(codes[0])
    follow(page, page.locator("form[name=mf_recovery_form] [type=submit]"))
    expect(page.locator("body")).to_contain_text("Recovery code invalid")

    # The authenticator's code signs in.
    password_step(page, *VANCOUVER_ADMIN)
    page.locator("#code").fill(pyotp.TOTP(key).now())
    follow(page, page.locator("form[name=two_factor_verify_code_form] [type=submit]"))
    expect(page.locator("#user-menu")).to_have_text(VANCOUVER_ADMIN[0])


def test_a_staff_reset_sends_the_therapist_back_to_setup_audited_and_emailed(browser, secured):
    claire = browser.page(locale="en-CA")
    password_step(claire, *CLAIRE)
    set_up_authenticator(claire)
    expect(claire.locator("#user-menu")).to_have_text(CLAIRE[0])
    log_out(claire)

    staff = browser.page(locale="en-CA")
    password_step(staff, *OTHER_STAFF)
    set_up_authenticator(staff)
    claire_id = login_id(secured, CLAIRE[0])
    staff.goto("/admin/user/")
    staff.once("dialog", lambda dialog: dialog.accept())
    staff.locator(f"input.action-checkbox[value='{claire_id}']").check()
    staff.locator("a.dropdown-toggle", has_text="With selected").click()
    follow(staff, staff.locator("a.dropdown-item", has_text="Reset the second factor"))
    expect(staff.locator(".alert-success")).to_contain_text(f"Second factor reset for {CLAIRE[0]}.")

    staff.goto("/admin/auditevent/")
    resets = staff.locator("table.model-list tbody tr", has=staff.locator("td.col-entity", has_text="Second factor"))
    expect(resets).to_have_count(1)
    expect(resets.locator("td.col-entity_id")).to_have_text(str(claire_id))
    expect(resets.locator("td.col-actor")).to_have_text(OTHER_STAFF[0])
    expect(resets.locator("td.col-action")).to_contain_text(re.compile("delete", re.I))

    [email] = [message for message in secured.sink.to(CLAIRE[0]) if "reset" in message["Subject"]]
    assert "authenticator app and your recovery codes no longer work" in email.get_body(("plain",)).get_content()

    password_step(claire, *CLAIRE)
    expect(claire).to_have_url(re.compile(r"/tf-setup"))
    expect(claire.locator("#set-up-authenticator")).to_be_visible()


def login_id(practice, email: str) -> int:
    app = make_app(practice.database_url, **VANCOUVER_SETTINGS)
    with app.app_context():
        found = db.session.scalar(select(User.id).where(User.email == email))
        db.session.remove()
        db.engine.dispose()
    return found
