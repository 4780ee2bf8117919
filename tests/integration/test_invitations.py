"""Logins from the screens: an invitation email with a set-password link that expires and works once.

The emails go through the outbox to a real SMTP sink; the invitee follows the link from the email,
chooses a password and lands in their area.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import LoginInvitation, MessageStatus, OutboundMessage, Therapist, User
from admin_app.models.base import utcnow
from admin_app.services.accounts import invitations
from tests.conftest import login
from tests.factories import PASSWORD, make_admin, make_therapist, make_therapist_user
from tests.pages import body, detail_fields, field_errors, flashed, list_rows, text_of

NEW_PASSWORD = "a-fresh-secret-42"
LINK = re.compile(r"(https?://[^/\s]+)(/welcome/[\w-]+)")


@pytest.fixture
def staff(mail_app):
    """The mail-sending app's test client, signed in as an admin."""
    make_admin()
    db.session.commit()
    browser = mail_app.test_client()
    assert login(browser, "staff@example.com").status_code == 302
    return browser


def link_in(message) -> str:
    """The set-password link of an invitation email (path only), read from its plain text."""
    text = message.get_body(("plain",)).get_content()
    found = LINK.search(text)
    assert found, text
    assert found.group(2) in message.get_body(("html",)).get_content()
    return found.group(2)


def invite_from_therapist_page(browser, therapist: Therapist):
    return browser.post(
        "/admin/therapist/action/",
        data={
            "action": "invite_to_portal",
            "rowid": [str(therapist.id)],
            "url": f"/admin/therapist/details/?id={therapist.id}",
        },
        follow_redirects=True,
    )


def set_password(browser, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return browser.post(path, data={"password": password, "password_confirm": confirm or password})


def test_an_invited_therapist_sets_a_password_from_the_email_and_lands_on_the_portal(mail_app, staff, smtp_sink):
    therapist = make_therapist(full_name="Rosa Mendoza", email="rosa@example.com")
    db.session.commit()

    page = staff.post(
        "/admin/user/new/",
        data={"email": "", "role": "therapist", "therapist": str(therapist.id), "locale": "fr"},
        follow_redirects=True,
    )

    assert any("Invitation sent to rosa@example.com" in text for text in flashed(page)), flashed(page)
    [email] = smtp_sink.to("rosa@example.com")
    assert email["Subject"] == "Votre accès à Demo Practice"
    assert "portail des thérapeutes" in email.get_body(("plain",)).get_content()
    path = link_in(email)
    assert LINK.search(email.get_body(("plain",)).get_content()).group(1) == mail_app.config["PUBLIC_BASE_URL"]
    # Before the link is used, no password opens the login.
    invitee = mail_app.test_client()
    assert login(invitee, "rosa@example.com", NEW_PASSWORD).status_code == 200

    form = invitee.get(path)
    assert form.status_code == 200
    assert "rosa@example.com" in text_of(body(form))
    assert form.headers["Cache-Control"] == "no-store"
    done = set_password(invitee, path)

    assert done.status_code == 303
    assert invitee.get("/", follow_redirects=True).request.path == "/portal/"
    assert "Rosa Mendoza" in body(invitee.get("/portal/"))
    invitee.post("/logout")
    assert login(invitee, "rosa@example.com", NEW_PASSWORD).headers["Location"] == "/"
    assert invitee.get("/", follow_redirects=True).request.path == "/portal/"


def test_a_staff_login_is_invited_in_its_language_and_lands_on_the_staff_area(mail_app, staff, smtp_sink):
    staff.post(
        "/admin/user/new/", data={"email": "Nuevo@Example.com", "role": "admin", "therapist": "", "locale": "es"}
    )

    [email] = smtp_sink.to("nuevo@example.com")
    assert email["Subject"] == "Su acceso a Demo Practice"
    invitee = mail_app.test_client()
    set_password(invitee, link_in(email))

    assert invitee.get("/", follow_redirects=True).request.path == "/admin/"
    user = db.session.scalar(select(User).where(User.email == "nuevo@example.com"))
    assert user.locale == "es" and user.is_admin


def test_the_create_form_asks_no_password(staff):
    page = body(staff.get("/admin/user/new/"))

    assert 'type="password"' not in page
    assert 'name="role"' in page and 'name="therapist"' in page


def test_a_weak_or_mismatched_password_is_refused_and_the_link_still_works(mail_app, staff, smtp_sink):
    staff.post("/admin/user/new/", data={"email": "new@example.com", "role": "admin", "therapist": "", "locale": "en"})
    path = link_in(smtp_sink.to("new@example.com")[0])
    invitee = mail_app.test_client()

    short = set_password(invitee, path, "short")
    mismatch = set_password(invitee, path, NEW_PASSWORD, "something-else-1")

    assert short.status_code == 400
    assert "Password must be at least 12 characters" in text_of(body(short))
    assert mismatch.status_code == 400
    assert "The two passwords do not match." in text_of(body(mismatch))
    db.session.expire_all()
    assert db.session.scalar(select(User.password).where(User.email == "new@example.com")) is None
    assert set_password(invitee, path).status_code == 303


def test_a_used_link_shows_the_dead_link_page(mail_app, staff, smtp_sink):
    staff.post("/admin/user/new/", data={"email": "new@example.com", "role": "admin", "therapist": "", "locale": "en"})
    path = link_in(smtp_sink.to("new@example.com")[0])
    set_password(mail_app.test_client(), path)

    again = mail_app.test_client().post(path, data={"password": "take-it-over-1", "password_confirm": "take-it-over-1"})

    assert again.status_code == 404
    assert "This invitation link does not work" in text_of(body(again))
    assert "Ask the practice's staff to send you a new invitation." in text_of(body(again))
    assert login(mail_app.test_client(), "new@example.com", NEW_PASSWORD).status_code == 302
    assert login(mail_app.test_client(), "new@example.com", "take-it-over-1").status_code == 200


def test_an_expired_link_and_an_unknown_link_show_the_same_page(mail_app, smtp_sink):
    therapist = make_therapist(email="rosa@example.com")
    invitation = invitations.invite_therapist(
        db.session, therapist_id=therapist.id, now=utcnow() - dt.timedelta(days=8)
    )
    db.session.commit()
    token = invitations.LINK.token(invitation)
    visitor = mail_app.test_client()

    expired = visitor.get(f"/welcome/{token}")
    unknown = visitor.get("/welcome/not-a-real-token")

    assert expired.status_code == unknown.status_code == 404
    assert text_of(body(expired)) == text_of(body(unknown))
    assert set_password(visitor, f"/welcome/{token}").status_code == 404
    # Its email was never delivered: the link had expired by the time it was rendered.
    assert smtp_sink.to("rosa@example.com") == []
    db.session.expire_all()
    assert db.session.scalar(select(OutboundMessage.status)) == MessageStatus.WITHDRAWN


def test_inviting_again_sends_a_fresh_link_and_kills_the_old_one(mail_app, staff, smtp_sink):
    therapist = make_therapist(full_name="Rosa Mendoza", email="rosa@example.com")
    db.session.commit()

    first = invite_from_therapist_page(staff, therapist)
    details = staff.get(f"/admin/therapist/details/?id={therapist.id}")
    second = invite_from_therapist_page(staff, therapist)

    assert any("Invitation sent to Rosa Mendoza" in text for text in flashed(first)), flashed(first)
    assert "Invited, no password yet" in detail_fields(details)["Login"]
    assert any("Invitation sent to Rosa Mendoza" in text for text in flashed(second))
    old_email, new_email = smtp_sink.to("rosa@example.com")
    old_path, new_path = link_in(old_email), link_in(new_email)
    assert old_path != new_path
    invitee = mail_app.test_client()
    assert invitee.get(old_path).status_code == 404
    assert set_password(invitee, new_path).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(User)) == 2  # the admin and Rosa: one login


def test_the_details_page_offers_the_invitation_until_the_therapist_signs_in(staff):
    therapist = make_therapist(email="rosa@example.com")
    make_therapist_user(therapist)
    newcomer = make_therapist(email="new@example.com")
    db.session.commit()

    signed_in = staff.get(f"/admin/therapist/details/?id={therapist.id}")
    without_login = staff.get(f"/admin/therapist/details/?id={newcomer.id}")

    assert detail_fields(signed_in)["Login"] == "rosa@example.com"
    assert "invite_to_portal" not in body(signed_in)
    assert detail_fields(without_login)["Login"] == "No login yet Invite to the portal"
    assert 'name="action" value="invite_to_portal"' in body(without_login)


def test_bulk_invite_skips_therapists_who_sign_in_and_says_why(mail_app, staff, smtp_sink):
    ana = make_therapist(full_name="Ana Quispe", email="ana@example.com")
    beto = make_therapist(full_name="Beto Ramos", email="beto@example.com")
    carla = make_therapist(full_name="Carla Soto", email="carla@example.com")
    make_therapist_user(carla)
    db.session.commit()

    page = staff.post(
        "/admin/therapist/action/",
        data={"action": "invite_to_portal", "rowid": [str(ana.id), str(beto.id), str(carla.id)]},
        follow_redirects=True,
    )

    messages = flashed(page)
    assert any("2 invitations sent (Ana Quispe, Beto Ramos)" in text for text in messages), messages
    assert any("Not invited: Carla Soto already signs in to the portal." in text for text in messages), messages
    assert sorted(m["To"] for m in smtp_sink.messages) == ["ana@example.com", "beto@example.com"]
    assert login(mail_app.test_client(), "carla@example.com", PASSWORD).status_code == 302  # untouched


def test_a_therapist_cannot_invite(mail_app, smtp_sink):
    own = make_therapist(email="rosa@example.com")
    make_therapist_user(own)
    other = make_therapist(email="other@example.com")
    db.session.commit()
    therapist = mail_app.test_client()
    login(therapist, "rosa@example.com")

    by_action = therapist.post(
        "/admin/therapist/action/", data={"action": "invite_to_portal", "rowid": [str(other.id)]}
    )
    by_form = therapist.post(
        "/admin/user/new/", data={"email": "x@example.com", "role": "admin", "therapist": "", "locale": "en"}
    )

    assert by_action.status_code == 403
    assert by_form.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(LoginInvitation)) == 0
    assert smtp_sink.messages == []


def test_create_refuses_bad_input_beside_the_field_and_writes_nothing(staff, smtp_sink):
    therapist = make_therapist(email="rosa@example.com")
    db.session.commit()

    no_therapist = staff.post(
        "/admin/user/new/", data={"email": "", "role": "therapist", "therapist": "", "locale": "en"}
    )
    other_email = staff.post(
        "/admin/user/new/",
        data={"email": "someone@example.com", "role": "therapist", "therapist": str(therapist.id), "locale": "en"},
    )
    taken = staff.post(
        "/admin/user/new/", data={"email": "staff@example.com", "role": "admin", "therapist": "", "locale": "en"}
    )

    assert field_errors(no_therapist)["therapist"] == ["therapist: choose the therapist this login is for"]
    assert field_errors(other_email)["email"] == [
        "email: a therapist signs in with the email on their record (rosa@example.com)"
    ]
    assert field_errors(taken)["email"] == ["email: a login for staff@example.com already exists"]
    assert 'value="someone@example.com"' in body(other_email)  # what was typed is kept
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert smtp_sink.messages == []


def test_the_outbox_preview_does_not_show_the_link(staff, smtp_sink):
    staff.post("/admin/user/new/", data={"email": "new@example.com", "role": "admin", "therapist": "", "locale": "en"})
    path = link_in(smtp_sink.to("new@example.com")[0])
    message_id = db.session.scalar(select(OutboundMessage.id))

    preview = body(staff.get(f"/admin/outbox/details/?id={message_id}"))

    assert "/welcome/…" in preview
    assert path not in preview


def test_invitations_are_in_the_audit_trail(staff, smtp_sink):
    staff.post("/admin/user/new/", data={"email": "new@example.com", "role": "admin", "therapist": "", "locale": "en"})

    rows = list_rows(staff.get("/admin/auditevent/"))

    events = {(row["actor"], row["action"], row["entity"]) for row in rows}
    assert ("staff@example.com", "Created", "Login invitation") in events, rows


def test_the_invite_command_sends_the_link_and_a_therapist_is_found_by_email(mail_app, smtp_sink):
    therapist = make_therapist(full_name="Rosa Mendoza", email="rosa@example.com")
    db.session.commit()
    runner = mail_app.test_cli_runner()

    staff = runner.invoke(args=["accounts", "invite", "--email", "boss@example.com", "--role", "admin"])
    rosa = runner.invoke(args=["accounts", "invite", "--email", "ROSA@example.com", "--role", "therapist"])
    unknown = runner.invoke(args=["accounts", "invite", "--email", "nobody@example.com", "--role", "therapist"])

    assert staff.exit_code == 0, staff.output
    assert "Invitation queued for boss@example.com: the link works for 7 days, once." in staff.output
    assert rosa.exit_code == 0, rosa.output
    assert unknown.exit_code == 1
    assert "email: no therapist has the email nobody@example.com" in unknown.output
    assert sorted(message["To"] for message in smtp_sink.messages) == ["boss@example.com", "rosa@example.com"]
    db.session.expire_all()
    assert db.session.get(Therapist, therapist.id).user.email == "rosa@example.com"


def test_the_holder_of_an_expired_link_asks_the_staff_for_a_new_one(mail_app, staff, smtp_sink):
    therapist = make_therapist(email="rosa@example.com")
    invitation = invitations.invite_therapist(
        db.session, therapist_id=therapist.id, now=utcnow() - dt.timedelta(days=8)
    )
    db.session.commit()
    path = f"/welcome/{invitations.LINK.token(invitation)}"
    visitor = mail_app.test_client()

    dead = visitor.get(path)
    asked = visitor.post(f"{path}/renew", follow_redirects=True)
    asked_twice = visitor.post(f"{path}/renew", follow_redirects=True)
    guessed = visitor.post("/welcome/not-a-real-token/renew", follow_redirects=True)

    assert f'action="{path}/renew"' in body(dead)
    assert asked.status_code == asked_twice.status_code == guessed.status_code == 200
    assert text_of(body(asked)) == text_of(body(guessed))
    assert "the practice's staff have been told" in text_of(body(asked))
    bell = text_of(body(staff.get("/admin/notifications/")))
    assert bell.count(f"Login #{therapist.user_id} asks for a new invitation") == 1, bell
