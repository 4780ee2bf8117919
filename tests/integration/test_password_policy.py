"""One password policy wherever a password is set: at least 12 characters, not easy to guess (zxcvbn),
never the login's email nor the part before the @. Each refusal says so on the form and changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import User
from tests.conftest import login
from tests.factories import PASSWORD, make_admin, make_therapist
from tests.pages import body, text_of

TOO_SHORT = ("short-pass1", "Password must be at least 12 characters")
COMMON = ("password1234", "Password: too easy to guess. This is a very common password.")
THE_EMAIL = ("staff@example.com", "Password: it must not be your email address or the part before the @.")
REFUSALS = [TOO_SHORT, COMMON, THE_EMAIL]


def stored_password(email: str) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(User.password).where(User.email == email))


@pytest.mark.parametrize(("password", "message"), REFUSALS)
def test_change_password_refuses_a_weak_password_and_keeps_the_old_one(client, password, message):
    make_admin()
    db.session.commit()
    login(client, "staff@example.com")
    before = stored_password("staff@example.com")

    response = client.post(
        "/change-password",
        data={"password": PASSWORD, "new_password": password, "new_password_confirm": password},
    )

    assert response.status_code == 200  # the form again, with the reason under the new password
    assert message in text_of(body(response))
    assert stored_password("staff@example.com") == before


def test_the_local_part_of_the_email_is_refused_too(client):
    make_admin(email="dr.rosalind.mendoza@example.com")
    db.session.commit()
    login(client, "dr.rosalind.mendoza@example.com")
    before = stored_password("dr.rosalind.mendoza@example.com")

    response = client.post(
        "/change-password",
        data={
            "password": PASSWORD,
            "new_password": "Dr.Rosalind.Mendoza",
            "new_password_confirm": "Dr.Rosalind.Mendoza",
        },
    )

    assert THE_EMAIL[1] in text_of(body(response))
    assert stored_password("dr.rosalind.mendoza@example.com") == before


@pytest.mark.parametrize(("password", "message"), REFUSALS)
def test_reset_refuses_a_weak_password_and_the_link_still_works(mail_app, smtp_sink, password, message):
    make_admin()
    db.session.commit()
    browser = mail_app.test_client()
    browser.post("/reset", data={"email": "staff@example.com"})
    token = re.search(r"/reset/([\w.-]+)", smtp_sink.messages[0].get_body(("plain",)).get_content()).group(1)
    before = stored_password("staff@example.com")

    refused = browser.post(f"/reset/{token}", data={"password": password, "password_confirm": password})

    assert message in text_of(body(refused))
    assert stored_password("staff@example.com") == before
    accepted = browser.post(
        f"/reset/{token}", data={"password": "a-new-secret-9", "password_confirm": "a-new-secret-9"}
    )
    assert accepted.status_code == 302
    assert stored_password("staff@example.com") != before


@pytest.mark.parametrize(
    ("password", "message"), [TOO_SHORT, COMMON, ("rosa@example.com", THE_EMAIL[1]), ("ROSA", TOO_SHORT[1])]
)
def test_the_invitation_page_refuses_a_weak_password(mail_app, smtp_sink, password, message):
    make_admin()
    make_therapist(full_name="Rosa Mendoza", email="rosa@example.com")
    db.session.commit()
    staff = mail_app.test_client()
    login(staff, "staff@example.com")
    staff.post("/admin/user/new/", data={"email": "rosa@example.com", "role": "therapist", "locale": "en"})
    path = re.search(r"/welcome/[\w-]+", smtp_sink.to("rosa@example.com")[0].get_body(("plain",)).get_content())[0]

    refused = mail_app.test_client().post(path, data={"password": password, "password_confirm": password})

    assert refused.status_code == 400
    assert message in text_of(body(refused))
    assert stored_password("rosa@example.com") is None


def test_the_account_commands_apply_the_same_policy(runner):
    common = runner.invoke(args=["accounts", "create-admin", "--email", "boss@example.com", "--password", COMMON[0]])
    own_email = runner.invoke(
        args=["accounts", "create-admin", "--email", "boss.person@example.com", "--password", "Boss.Person@example.com"]
    )

    assert common.exit_code == 1
    assert COMMON[1] in common.output
    assert own_email.exit_code == 1
    assert THE_EMAIL[1] in own_email.output
    assert db.session.scalar(select(User.id)) is None
