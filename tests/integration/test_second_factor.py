"""The second factor (TOTP with recovery codes): who must have one, setting it up, signing in with a
code or a recovery code, and the staff's reset from the logins screen. The e2e journey
(tests/e2e/test_second_factor.py) walks the same through a real server and browser."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AuditEvent, OutboundMessage, User
from tests.conftest import login
from tests.factories import make_admin, make_therapist, make_therapist_user
from tests.pages import body, flashed, text_of

KEY = re.compile(r'<code id="authr-key"[^>]*>([A-Z2-7-]+)</code>')


def user(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def set_up_authenticator(client) -> list[str]:
    """Through the setup page as a person would: the key shown, a code from it, then the recovery codes."""
    page = client.post("/tf-setup", data={"setup": "authenticator"})
    key = KEY.search(body(page)).group(1).replace("-", "")
    action = re.search(r'<form action="([^"]+)" method="post" name="two_factor_verify_code_form"', body(page)).group(1)
    done = client.post(action, data={"code": pyotp.TOTP(key).now()})
    assert done.status_code == 302, text_of(body(done))
    assert done.headers["Location"].endswith("/mf-recovery-codes")
    codes = client.post("/mf-recovery-codes", data={"generate_new_codes": "1"})
    return re.findall(r"<li>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</li>", body(codes)), key


@pytest.fixture
def staff_must_have_it(app, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_2FA_STAFF", True)


def test_staff_under_require_2fa_staff_set_it_up_before_any_admin_page(client, staff_must_have_it):
    make_admin()
    db.session.commit()

    signed = login(client, "staff@example.com")

    assert signed.headers["Location"].endswith("/tf-setup")
    assert client.get("/admin/").status_code == 302  # not signed in until the second factor is set up
    assert "Your login must have a second step" in text_of(body(client.get("/tf-setup")))
    assert 'value="disable"' not in body(client.get("/tf-setup"))


def test_therapists_sign_in_with_the_password_alone_unless_the_practice_requires_more(client, app, monkeypatch):
    make_therapist_user(make_therapist(email="rosa@example.com"))
    db.session.commit()
    monkeypatch.setitem(app.config, "REQUIRE_2FA_STAFF", True)

    assert login(client, "rosa@example.com").headers["Location"] == "/"
    client.post("/logout")
    monkeypatch.setitem(app.config, "REQUIRE_2FA_THERAPISTS", True)
    assert login(client, "rosa@example.com").headers["Location"].endswith("/tf-setup")


def test_a_therapist_turns_it_on_from_her_menu_and_signs_in_with_a_code_or_a_recovery_code_once(client):
    make_therapist_user(make_therapist(email="rosa@example.com"))
    db.session.commit()
    login(client, "rosa@example.com")
    assert "/tf-setup" in body(client.get("/portal/"))  # the account menu's "Two-step sign-in"

    codes, key = set_up_authenticator(client)

    assert len(codes) >= 3
    stored = user("rosa@example.com").mf_recovery_codes
    assert stored and not set(codes) & set(stored)  # only their hashes are kept
    client.post("/logout")
    assert login(client, "rosa@example.com").headers["Location"].startswith("/tf-validate")
    wrong = client.post("/tf-validate", data={"code": "000000"})
    assert "Invalid code" in text_of(body(wrong))
    assert client.get("/portal/").status_code == 302
    assert client.post("/mf-recovery", data={"code": codes[0]}).status_code == 302
    assert client.get("/portal/").status_code == 200
    client.post("/logout")
    login(client, "rosa@example.com")
    again = client.post("/mf-recovery", data={"code": codes[0]})
    assert "Recovery code invalid" in text_of(body(again))
    assert client.get("/portal/").status_code == 302


def test_the_staff_reset_clears_it_tells_the_owner_and_is_audited(admin_client, staff_must_have_it):
    therapist = make_therapist(email="rosa@example.com")
    make_therapist_user(therapist)
    db.session.commit()
    rosa = user("rosa@example.com")
    rosa.tf_primary_method, rosa.tf_totp_secret, rosa.mf_recovery_codes = "authenticator", "secret", ["hash"]
    db.session.commit()

    done = admin_client.post(
        "/admin/user/action/", data={"action": "reset_second_factor", "rowid": [str(rosa.id)]}, follow_redirects=True
    )

    assert "Second factor reset for rosa@example.com." in flashed(done)
    rosa = user("rosa@example.com")
    assert (rosa.tf_primary_method, rosa.tf_totp_secret, rosa.mf_recovery_codes or None) == (None, None, None)
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "second_factor")).all()
    assert (event.action, event.entity_id, event.actor) == ("delete", rosa.id, "staff@example.com")
    [email] = db.session.scalars(select(OutboundMessage).where(OutboundMessage.template == "second_factor_reset"))
    assert email.recipient == "rosa@example.com"
    again = admin_client.post(
        "/admin/user/action/", data={"action": "reset_second_factor", "rowid": [str(rosa.id)]}, follow_redirects=True
    )
    assert "No second factor to reset: rosa@example.com." in flashed(again)


def test_a_therapist_cannot_reset_anyone(client):
    therapist = make_therapist(email="rosa@example.com")
    make_therapist_user(therapist)
    staff = make_admin()
    staff.tf_primary_method, staff.tf_totp_secret = "authenticator", "secret"
    db.session.commit()
    login(client, "rosa@example.com")

    client.post("/admin/user/action/", data={"action": "reset_second_factor", "rowid": [str(staff.id)]})

    assert user("staff@example.com").tf_totp_secret == "secret"
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.entity == "second_factor")) is None


def test_an_invited_staff_member_sets_up_the_second_factor_before_being_signed_in(mail_app, smtp_sink, monkeypatch):
    monkeypatch.setitem(mail_app.config, "REQUIRE_2FA_STAFF", True)
    make_admin()
    db.session.commit()
    staff = mail_app.test_client()
    login(staff, "staff@example.com")
    set_up_authenticator(staff)
    staff.post("/admin/user/new/", data={"email": "new@example.com", "role": "admin", "locale": "en"})
    path = re.search(r"/welcome/[\w-]+", smtp_sink.to("new@example.com")[0].get_body(("plain",)).get_content())[0]
    newcomer = mail_app.test_client()

    chosen = newcomer.post(path, data={"password": "a-fresh-secret-42", "password_confirm": "a-fresh-secret-42"})

    assert chosen.headers["Location"].endswith("/tf-setup")
    assert newcomer.get("/admin/").status_code == 302  # not signed in yet
    set_up_authenticator(newcomer)
    assert newcomer.get("/admin/").status_code == 200
