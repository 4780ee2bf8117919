"""Journey 6: the staff invite a demo therapist to the portal; she chooses her password from the
email in the mail sink and signs in to her portal.

The invitation button is found by its action (its label is not translated yet); the email is read
from the SMTP sink exactly as it was sent, and its link opened as it is.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Therapist
from tests.e2e.conftest import ADMIN
from tests.e2e.helpers import assert_accessible, follow, log_in, log_out

INVITATION_LINK = re.compile(r"https?://\S+/welcome/[\w-]+")
PASSWORD = "her-own-secret-2026"


def therapist_without_login(app_db) -> tuple[int, str, str]:
    with app_db.app_context():
        therapist = db.session.scalars(
            select(Therapist).where(Therapist.user_id.is_(None), Therapist.active.is_(True)).order_by(Therapist.id)
        ).first()
        found = (therapist.id, therapist.email, therapist.full_name)
        db.session.remove()
    return found


def test_an_invited_therapist_sets_her_password_from_the_email_and_signs_in(browser, practice, app_db):
    therapist_id, email, name = therapist_without_login(app_db)
    staff = browser.page()
    log_in(staff, *ADMIN)

    staff.goto(f"/admin/therapist/details/?id={therapist_id}")
    follow(staff, staff.locator("form:has(input[name=action][value=invite_to_portal]) button[type=submit]"))
    expect(staff.locator(".alert-success")).to_contain_text(name)

    [invitation] = practice.sink.to(email)  # jobs run in-process: the email is there already
    link = INVITATION_LINK.search(invitation.get_body(("plain",)).get_content()).group(0)
    assert link.startswith(practice.base_url)

    newcomer = browser.page()
    newcomer.goto(link)
    expect(newcomer.locator("body")).to_contain_text(email)
    assert_accessible(newcomer)
    newcomer.locator("#password").fill(PASSWORD)
    newcomer.locator("#password_confirm").fill(PASSWORD)
    follow(newcomer, newcomer.locator("input[type=submit]"))
    expect(newcomer).to_have_url(re.compile(r"/portal/$"))
    expect(newcomer.locator("h1")).to_contain_text(name)

    # The link worked once; her password works from now on.
    log_out(newcomer)
    newcomer.watch.allow(r"status of 404")
    assert newcomer.goto(link).status == 404
    log_in(newcomer, email, PASSWORD)
    expect(newcomer).to_have_url(re.compile(r"/portal/$"))
