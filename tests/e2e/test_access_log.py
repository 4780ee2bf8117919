"""A password reset and a therapist's invitation through gunicorn, as a person does them: the links
from the emails are opened and used, and gunicorn's access log (what `make run` and the Procfile
write) shows which kind of link was opened, never its token."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Therapist
from tests.e2e.conftest import ADMIN, _run_flask
from tests.e2e.helpers import follow, log_in
from tests.e2e.test_invitation import INVITATION_LINK

RESET_LINK = re.compile(r"https?://\S+/reset/([\w.-]+)")
STAFF = ("e2e-forgetful@example.com", "e2e-forgetful-password-2026")
NEW_PASSWORD = "e2e-remembered-password-2026"


def test_a_password_reset_leaves_no_token_in_the_access_log(browser, practice):
    _run_flask(practice.env, "accounts", "create-admin", "--email", STAFF[0], "--password", STAFF[1], "--locale", "en")
    page = browser.page(locale="en-CA")

    page.goto("/reset")
    page.locator("input[name=email]").fill(STAFF[0])
    follow(page, page.locator("form:has(input[name=email]) [type=submit]"))
    [email] = practice.sink.to(STAFF[0])  # jobs run in-process: the email is there already
    link = RESET_LINK.search(email.get_body(("plain",)).get_content())
    token = link.group(1)
    page.goto(link.group(0))
    page.locator("input[name=password]").fill(NEW_PASSWORD)
    page.locator("input[name=password_confirm]").fill(NEW_PASSWORD)
    follow(page, page.locator("form:has(input[name=password_confirm]) [type=submit]"))
    log_in(browser.page(locale="en-CA"), STAFF[0], NEW_PASSWORD)  # the link was the real one

    log = practice.log_path.read_text(errors="replace")
    assert token not in log
    assert token[:12] not in log
    assert re.search(r'"GET /reset/<token> HTTP/1\.1" 200', log), practice.log_tail()
    assert re.search(r'"POST /reset/<token> HTTP/1\.1" 30\d', log), practice.log_tail()


def last_therapist_without_login(app_db) -> tuple[int, str, str]:
    """Not the one test_invitation.py invites (the first): each test's email is its only one."""
    with app_db.app_context():
        without_login = select(Therapist).where(Therapist.user_id.is_(None), Therapist.active.is_(True))
        therapist = db.session.scalars(without_login.order_by(Therapist.id.desc())).first()
        found = (therapist.id, therapist.email, therapist.full_name)
        db.session.remove()
    return found


def test_an_invitation_leaves_no_token_in_the_access_log(browser, practice, app_db):
    therapist_id, email, name = last_therapist_without_login(app_db)
    staff = browser.page()
    log_in(staff, *ADMIN)
    staff.goto(f"/admin/therapist/details/?id={therapist_id}")
    follow(staff, staff.locator("form:has(input[name=action][value=invite_to_portal]) button[type=submit]"))
    expect(staff.locator(".alert-success")).to_contain_text(name)

    [invitation] = practice.sink.to(email)
    link = INVITATION_LINK.search(invitation.get_body(("plain",)).get_content()).group(0)
    token = link.rsplit("/", 1)[1]
    assert browser.page().goto(link).status == 200

    log = practice.log_path.read_text(errors="replace")
    assert token not in log
    assert re.search(r'"GET /welcome/<token> HTTP/1\.1" 200', log), practice.log_tail()
