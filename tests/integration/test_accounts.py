"""Logins: the account commands, password reset by email and password change."""

from __future__ import annotations

import re

from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import User
from tests.conftest import login
from tests.factories import make_admin, make_therapist, make_therapist_user


def test_create_admin_makes_a_login_that_reaches_the_staff_area(runner, client):
    result = runner.invoke(
        args=["accounts", "create-admin", "--email", "Boss@Example.com", "--password", "long-enough-1"]
    )

    assert result.exit_code == 0, result.output
    assert "Admin login created: boss@example.com" in result.output
    assert login(client, "boss@example.com", "long-enough-1").headers["Location"] == "/"
    assert client.get("/admin/client/").status_code == 200


def test_create_admin_refuses_a_duplicate_and_a_short_password(runner):
    runner.invoke(args=["accounts", "create-admin", "--email", "boss@example.com", "--password", "long-enough-1"])

    duplicate = runner.invoke(
        args=["accounts", "create-admin", "--email", "boss@example.com", "--password", "long-enough-2"]
    )
    short = runner.invoke(args=["accounts", "create-admin", "--email", "other@example.com", "--password", "short"])

    assert duplicate.exit_code == 1
    assert "email: a login for boss@example.com already exists" in duplicate.output
    assert short.exit_code == 1
    assert "Password must be at least 12 characters" in short.output
    assert db.session.scalars(select(User.email)).all() == ["boss@example.com"]


def test_create_therapist_login_links_the_login_to_the_therapist(runner, client):
    therapist = make_therapist(full_name="Rosa Mendoza", email="rosa@example.com")
    db.session.commit()

    result = runner.invoke(
        args=["accounts", "create-therapist-login", "--email", "rosa@example.com", "--password", "long-enough-1"]
    )

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(type(therapist), therapist.id).user.email == "rosa@example.com"
    login(client, "rosa@example.com", "long-enough-1")
    assert client.get("/", follow_redirects=True).request.path == "/portal/"
    assert "Rosa Mendoza" in client.get("/portal/").get_data(as_text=True)


def test_create_therapist_login_refuses_an_unknown_therapist(runner):
    result = runner.invoke(
        args=["accounts", "create-therapist-login", "--email", "nobody@example.com", "--password", "long-enough-1"]
    )

    assert result.exit_code == 1
    assert "email: no therapist has the email nobody@example.com" in result.output
    assert db.session.scalar(select(User.id)) is None


def test_a_forgotten_password_is_reset_through_the_emailed_link(mail_app, smtp_sink):
    therapist = make_therapist(email="rosa@example.com")
    make_therapist_user(therapist)
    db.session.commit()
    browser = mail_app.test_client()

    browser.post("/reset", data={"email": "rosa@example.com"})

    assert [message["To"] for message in smtp_sink.messages] == ["rosa@example.com"]
    text = smtp_sink.messages[0].get_body(("plain",)).get_content()
    token = re.search(r"/reset/([\w.-]+)", text).group(1)
    browser.post(f"/reset/{token}", data={"password": "a-new-secret-9", "password_confirm": "a-new-secret-9"})
    browser.post("/logout")

    assert login(browser, "rosa@example.com", "quiet-harbour-lantern").status_code == 200  # the old one no longer works
    assert login(browser, "rosa@example.com", "a-new-secret-9").status_code == 302


def test_a_signed_in_user_changes_their_password(client):
    make_admin()
    db.session.commit()
    login(client, "staff@example.com")

    response = client.post(
        "/change-password",
        data={
            "password": "quiet-harbour-lantern",
            "new_password": "changed-pass-7",
            "new_password_confirm": "changed-pass-7",
        },
        follow_redirects=True,
    )

    assert response.status_code == 200
    client.post("/logout")
    assert login(client, "staff@example.com", "changed-pass-7").status_code == 302
