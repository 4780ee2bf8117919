"""Sessions that end, through the app as a browser uses it: the cookie holds only an id, sign-out
and "sign out everywhere" delete the sessions on the server, an idle or too old session ends with
a message, a deactivated login or therapist record is signed out at its next request, and no
remember-me cookie signs anyone in."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select

from admin_app.config import load_settings
from admin_app.extensions import db
from admin_app.models import User, WebSession
from admin_app.services.accounts import sessions
from tests.conftest import login, make_app, sign_in_therapist
from tests.factories import PASSWORD, make_admin, make_therapist
from tests.pages import text_of

COOKIE = "session"
ENDED = "Your session has ended"


@pytest.fixture(autouse=True)
def production_limits(app, monkeypatch):
    """The defaults a practice gets (the suite's own settings let sessions outlive its clock jumps)."""
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 30)
    monkeypatch.setitem(app.config, "SESSION_MAX_HOURS", 12)


@pytest.fixture
def staff(app):
    user = make_admin()
    db.session.commit()
    return user


def signed_in(app, email="staff@example.com"):
    browser = app.test_client()
    assert login(browser, email).status_code == 302
    return browser


def cookie_of(browser) -> str:
    return browser.get_cookie(COOKIE).value


def is_signed_in(browser) -> bool:
    return browser.get("/admin/").status_code == 200


def sign_in_page(browser) -> str:
    return text_of(browser.get("/login").get_data(as_text=True))


def test_the_cookie_carries_only_a_random_id_and_flashed_text_stays_on_the_server(app, staff):
    browser = signed_in(app)
    browser.post("/admin/sessions/end-all")  # flashes a message, then redirects to the sign-in page

    value = cookie_of(browser)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), value  # 32 random bytes, nothing else
    row = db.session.scalar(select(WebSession).where(WebSession.sid_hash == sessions.sid_hash(value)))
    assert b"All your sessions were signed out" in row.data  # the message waits on the server
    assert value.encode() not in row.data  # and the database keeps the id's hash only


def test_sign_in_starts_a_new_session_id(app, staff):
    browser = app.test_client()
    browser.get("/login")
    before = cookie_of(browser)

    login(browser, staff.email)

    assert cookie_of(browser) != before
    assert db.session.scalar(select(WebSession.id).where(WebSession.sid_hash == sessions.sid_hash(before))) is None


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(app, staff):
    browser = signed_in(app)
    copied = cookie_of(browser)

    browser.post("/logout")
    thief = app.test_client()
    thief.set_cookie(COOKIE, copied)

    assert not is_signed_in(thief)
    assert db.session.scalar(select(WebSession.id).where(WebSession.user_id == staff.id)) is None


def test_an_idle_session_ends_with_a_message_and_activity_keeps_it(app, staff, clock):
    browser = signed_in(app)
    start = clock.now()
    for minutes in (20, 40, 60):  # a request every 20 minutes keeps it open
        clock.set(start + dt.timedelta(minutes=minutes))
        assert is_signed_in(browser)

    clock.set(start + dt.timedelta(minutes=60 + 31))
    answer = browser.get("/admin/")

    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert "it was idle for 30 minutes, or open for 12 hours" in sign_in_page(browser)
    assert not is_signed_in(browser)


def test_a_busy_session_ends_after_its_lifetime(app, staff, clock, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_MAX_HOURS", 2)
    browser = signed_in(app)
    start = clock.now()
    for minutes in range(20, 120, 20):
        clock.set(start + dt.timedelta(minutes=minutes))
        assert is_signed_in(browser)

    clock.set(start + dt.timedelta(minutes=121))

    assert not is_signed_in(browser)
    assert ENDED in sign_in_page(browser)


def test_a_form_posted_after_the_session_ended_is_not_processed(app, staff, clock):
    browser = signed_in(app)
    clock.set(clock.now() + dt.timedelta(minutes=45))

    answer = browser.post("/language", data={"locale": "fr"})

    assert answer.status_code == 303 and answer.headers["Location"].endswith("/login")
    assert db.session.get(User, staff.id).locale == "en"


def test_last_activity_is_written_at_most_once_a_minute(app, staff, clock):
    browser = signed_in(app)

    def last_seen():
        db.session.expire_all()
        return db.session.scalar(select(WebSession.last_seen_at).where(WebSession.user_id == staff.id))

    first = last_seen()
    clock.set(clock.now() + dt.timedelta(seconds=30))
    browser.get("/admin/")
    assert last_seen() == first
    clock.set(clock.now() + dt.timedelta(seconds=40))
    browser.get("/admin/")
    assert last_seen() > first


def test_a_deactivated_login_is_signed_out_at_its_next_request(app, staff):
    browser = signed_in(app)
    staff.active = False
    db.session.commit()

    assert not is_signed_in(browser)
    assert ENDED in sign_in_page(browser)


def test_a_deactivated_therapist_record_signs_the_therapist_out(app):
    rosa = make_therapist(full_name="Rosa Mendoza", email="rosa@example.com")
    browser = sign_in_therapist(app.test_client(), rosa)
    assert browser.get("/portal/").status_code == 200

    rosa.active = False
    db.session.commit()

    assert browser.get("/portal/").status_code == 302
    assert "therapist record is no longer active" in sign_in_page(browser)
    assert db.session.scalar(select(WebSession.id).where(WebSession.user_id == rosa.user_id)) is None


def test_my_sessions_lists_them_and_signs_out_another_one(app, staff):
    laptop = signed_in(app)
    phone = app.test_client()
    phone.post("/login", data={"email": staff.email, "password": PASSWORD}, headers={"User-Agent": "PhoneBrowser"})

    page = laptop.get("/admin/sessions/").get_data(as_text=True)
    assert "PhoneBrowser" in page and "This session" in page
    phone_row = db.session.scalar(select(WebSession.id).where(WebSession.user_agent == "PhoneBrowser"))

    laptop.post("/admin/sessions/end", data={"session": str(phone_row)})

    assert not is_signed_in(phone)
    assert is_signed_in(laptop)


def test_no_one_ends_another_users_session(app, staff):
    make_admin("other@example.com")
    db.session.commit()
    other = signed_in(app, "other@example.com")
    other_row = db.session.scalar(select(WebSession.id).where(WebSession.user_id != staff.id))
    me = signed_in(app)

    me.post("/admin/sessions/end", data={"session": str(other_row)})

    assert is_signed_in(other)


def test_sign_out_everywhere_ends_every_session_of_mine(app, staff):
    laptop, phone = signed_in(app), signed_in(app)
    uniquifier = staff.fs_uniquifier

    answer = laptop.post("/admin/sessions/end-all")

    assert answer.headers["Location"].endswith("/login")
    assert not is_signed_in(phone) and not is_signed_in(laptop)
    db.session.expire_all()
    assert db.session.get(User, staff.id).fs_uniquifier != uniquifier
    assert db.session.scalar(select(WebSession.id).where(WebSession.user_id == staff.id)) is None


def test_no_remember_me_cookie_is_issued_and_none_signs_in(app, staff):
    browser = app.test_client()
    browser.post("/login", data={"email": staff.email, "password": PASSWORD, "remember": "y"})
    assert browser.get_cookie("remember_token") is None
    assert "Remember" not in sign_in_page(app.test_client())

    forged = app.test_client()  # a remember cookie signed for this login, as Flask-Login makes them
    forged.set_cookie("remember_token", encode_cookie(staff.fs_uniquifier))
    assert not is_signed_in(forged)


def test_the_periodic_clean_up_deletes_ended_sessions(app, staff, clock):
    signed_in(app)
    app.test_client().get("/login")  # a session nobody signed in to
    assert len(db.session.scalars(select(WebSession)).all()) == 2

    clock.set(clock.now() + dt.timedelta(hours=13))
    assert sessions.delete_ended(db.session) == 1  # the anonymous one; the signed-in one says why for a day
    clock.set(clock.now() + dt.timedelta(hours=25))
    assert sessions.delete_ended(db.session) == 1
    assert db.session.scalars(select(WebSession)).all() == []


def test_cookies_are_http_only_same_site_and_secure_in_production(database_url, tmp_path):
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": "production-secret",
        "SECURITY_PASSWORD_SALT": "production-salt",
        "SECURITY_TOTP_SECRET": "t" * 40,
        "DATABASE_URL": database_url,
    }
    settings = load_settings(env, tmp_path)
    assert settings["REMEMBER_COOKIE_SECURE"] and settings["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    production = make_app(
        database_url,
        **{key: value for key, value in settings.items() if key.startswith(("SESSION_", "REMEMBER_", "APP_ENV"))},
    )
    with production.app_context():
        answer = production.test_client().get("/login", base_url="https://localhost")
        db.engine.dispose()

    [cookie] = [value for value in answer.headers.getlist("Set-Cookie") if value.startswith(f"{COOKIE}=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Expires" not in cookie  # gone with the browser; the server decides how long it lives
