"""Guessing at the sign-in pages: wrong passwords lock a login (and its owner is told once), the
forms are limited per address and per account, the answers do not say whether an email is known,
and reset emails to one address are limited."""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time

import pytest

from admin_app.config import load_settings
from admin_app.extensions import db
from admin_app.models import User
from tests.conftest import login, make_app
from tests.factories import make_admin
from tests.factories.accounts import PASSWORD
from tests.pages import body, text_of

GENERIC = "Authentication failed - identity or password/passcode invalid"
LOCKED_SUBJECT = "Your login to Demo Practice is locked for 15 minutes"
RESET_LINK = re.compile(r"https?://[^/\s]+(/reset/[\w.-]+)")


@pytest.fixture
def mailing(app, database_url, smtp_sink):
    """An app that emails the SMTP sink (the suite's request limits are high enough to watch the lockout alone)."""
    return make_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_sink.port, MAIL_SUPPRESS_SEND=False)


def wrong(client, email: str = "ana@example.com"):
    return login(client, email, "not-the-password")


def test_thirty_wrong_passwords_then_the_right_one_do_not_sign_in(app, database_url, tmp_path):
    defaults = load_settings(env={}, instance_path=tmp_path)
    production = make_app(
        database_url, **{name: defaults[name] for name in ("SIGN_IN_LIMIT_PER_ADDRESS", "SIGN_IN_LIMIT_PER_ACCOUNT")}
    )
    make_admin("ana@example.com")
    db.session.commit()
    guesser = production.test_client()

    answers = [wrong(guesser).status_code for _ in range(30)]

    assert 302 not in answers
    assert answers[-1] == 429  # the account's limit stopped the guessing before the 30th
    assert login(production.test_client(), "ana@example.com", PASSWORD).status_code != 302


def test_wrong_passwords_in_a_row_lock_the_login_until_it_opens_again(mailing, smtp_sink, clock):
    make_admin("ana@example.com", locale="en")
    db.session.commit()
    owner = mailing.test_client()

    for _ in range(4):
        assert GENERIC in text_of(body(wrong(owner)))
    assert login(owner, "ana@example.com", PASSWORD).status_code == 302  # a sign-in starts the count again
    owner = mailing.test_client()
    for _ in range(4):
        wrong(owner)
    assert smtp_sink.to("ana@example.com") == []
    wrong(owner)  # the fifth in a row

    refused = login(owner, "ana@example.com", PASSWORD)
    assert refused.status_code == 200
    assert GENERIC in text_of(body(refused))
    [email] = smtp_sink.to("ana@example.com")
    assert email["Subject"] == LOCKED_SUBJECT
    assert "not even with the right password" in email.get_body(("plain",)).get_content()

    for _ in range(6):  # still locked: no longer counted, no second email
        wrong(owner)
    assert len(smtp_sink.to("ana@example.com")) == 1

    clock.set(clock.now() + dt.timedelta(minutes=16))
    assert login(mailing.test_client(), "ana@example.com", PASSWORD).status_code == 302
    db.session.expire_all()
    user = db.session.query(User).filter_by(email="ana@example.com").one()
    assert user.failed_logins == 0


def test_the_lockout_email_speaks_the_owners_language(mailing, smtp_sink):
    make_admin("eva@example.com", locale="es")
    db.session.commit()
    for _ in range(5):
        wrong(mailing.test_client(), "eva@example.com")

    [email] = smtp_sink.to("eva@example.com")
    assert email["Subject"] == "Su acceso a Demo Practice está bloqueado durante 15 minutos"


def test_a_password_reset_ends_the_lockout(mailing, smtp_sink):
    make_admin("ana@example.com")
    db.session.commit()
    for _ in range(5):
        wrong(mailing.test_client())
    owner = mailing.test_client()

    assert owner.post("/reset", data={"email": "ana@example.com"}).status_code == 200  # locked, still sent
    [reset_email] = [email for email in smtp_sink.to("ana@example.com") if email["Subject"] != LOCKED_SUBJECT]
    path = RESET_LINK.search(reset_email.get_body(("plain",)).get_content()).group(1)
    new = {"password": "a-new-password-2026", "password_confirm": "a-new-password-2026"}
    assert owner.post(path, data=new).status_code == 302

    assert login(mailing.test_client(), "ana@example.com", "a-new-password-2026").status_code == 302


# Request limits


@pytest.fixture
def strict(app, database_url):
    return make_app(database_url, SIGN_IN_LIMIT_PER_ADDRESS="5 per hour", SIGN_IN_LIMIT_PER_ACCOUNT="3 per hour")


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_one_account_is_limited_whatever_the_address(strict):
    answers = [wrong(from_address(strict, f"198.51.100.{n}"), "Ana@Example.com ").status_code for n in range(4)]

    assert answers == [200, 200, 200, 429]
    # Another account from those addresses is not affected.
    assert wrong(from_address(strict, "198.51.100.1"), "eva@example.com").status_code == 200


def test_one_address_is_limited_whatever_the_account(strict):
    guesser = from_address(strict, "203.0.113.7")

    answers = [wrong(guesser, f"user{n}@example.com").status_code for n in range(6)]

    assert answers == [200] * 5 + [429]
    assert guesser.get("/login").status_code == 200  # only the posts count
    assert wrong(from_address(strict, "203.0.113.8"), "other@example.com").status_code == 200


def test_the_limit_answer_is_a_page_in_the_visitors_language(strict):
    guesser = from_address(strict, "203.0.113.9")
    for _ in range(3):
        wrong(guesser)

    blocked = guesser.post(
        "/login", data={"email": "ana@example.com", "password": "x"}, headers={"Accept-Language": "fr-CA,fr;q=0.9"}
    )

    assert blocked.status_code == 429
    assert '<html lang="fr">' in body(blocked)
    assert "Trop de tentatives. Veuillez réessayer plus tard." in text_of(body(blocked))
    assert 'id="way-back" href="/login"' in body(blocked)  # the error page, in the sign-in pages' look


def test_the_password_reset_form_is_limited_too(strict):
    guesser = from_address(strict, "203.0.113.10")

    answers = [guesser.post("/reset", data={"email": "ana@example.com"}).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]


# The same answer for a known and an unknown email


def test_sign_in_answers_the_same_for_a_known_and_an_unknown_email(app):
    make_admin("ana@example.com")
    db.session.commit()

    known = wrong(app.test_client(), "ana@example.com")
    unknown = wrong(app.test_client(), "nobody@example.com")

    assert known.status_code == unknown.status_code == 200
    assert GENERIC in text_of(body(known))
    assert text_of(body(known)).replace("ana@example.com", "X") == text_of(body(unknown)).replace(
        "nobody@example.com", "X"
    )


def test_reset_answers_the_same_and_sends_at_most_the_limit(mailing, smtp_sink):
    make_admin("ana@example.com")
    db.session.commit()

    known = [mailing.test_client().post("/reset", data={"email": "ana@example.com"}) for _ in range(5)]
    unknown = mailing.test_client().post("/reset", data={"email": "nobody@example.com"})

    pages = {text_of(body(answer)).replace("ana@example.com", "X") for answer in known}
    assert pages == {text_of(body(unknown)).replace("nobody@example.com", "X")}
    assert {answer.status_code for answer in [*known, unknown]} == {200}
    assert "Instructions to reset your password have been sent to X." in pages.pop()
    assert len(smtp_sink.to("ana@example.com")) == 3  # RESET_EMAIL_LIMIT, 3 per hour
    assert smtp_sink.to("nobody@example.com") == []


# Timing: an unknown email costs what a known one does (measured on the real password hash)


@pytest.fixture
def real_hash(app, database_url, smtp_sink):
    """An app with production's password hash (argon2) that emails the sink; the suite's plaintext
    hash is back for the tests that follow (Flask-Security keeps its hasher on the shared extension)."""
    hashing = make_app(
        database_url,
        SECURITY_PASSWORD_HASH="argon2",
        SECURITY_PASSWORD_SINGLE_HASH=False,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_sink.port,
        MAIL_SUPPRESS_SEND=False,
        RESET_EMAIL_LIMIT="1000 per hour",
    )
    with hashing.app_context():
        make_admin("ana@example.com")
        db.session.commit()
        yield hashing
        db.session.remove()
    make_app(database_url)


def seconds(send) -> float:
    started = time.perf_counter()
    send()
    return time.perf_counter() - started


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda client, email: login(client, email, "not-the-password"), id="sign-in"),
        pytest.param(lambda client, email: client.post("/reset", data={"email": email}), id="reset"),
    ],
)
def test_an_unknown_email_takes_as_long_as_a_known_one(real_hash, form):
    visitor = real_hash.test_client()
    form(visitor, "warm-up@example.com")

    # Taken in turns, so that what else the machine does weighs on both alike.
    times = [
        (seconds(lambda: form(visitor, "ana@example.com")), seconds(lambda: form(visitor, "nobody@example.com")))
        for _ in range(7)
    ]

    known, unknown = (statistics.median(column) for column in zip(*times, strict=True))
    assert abs(known - unknown) < 0.25, times


def test_the_second_factor_code_is_limited_per_login(app, database_url):
    pytest.importorskip("qrcode", reason="two-factor sign-in needs flask-security's mfa extra")
    two_factor = make_app(
        database_url,
        SECURITY_TWO_FACTOR=True,
        SECURITY_TWO_FACTOR_ENABLED_METHODS=["authenticator"],
        SECURITY_TOTP_SECRETS={"1": "a-test-totp-secret-of-some-length"},
        SECURITY_TOTP_ISSUER="Demo Practice",
        SIGN_IN_LIMIT_PER_ADDRESS="1000 per hour",
        SIGN_IN_LIMIT_PER_ACCOUNT="4 per hour",
    )
    with two_factor.app_context():
        user = make_admin("ana@example.com")
        user.tf_primary_method = "authenticator"
        user.tf_totp_secret = two_factor.extensions["security"]._totp_factory.generate_totp_secret()
        db.session.commit()
        visitor = from_address(two_factor, "203.0.113.20")
        assert login(visitor, "ana@example.com", PASSWORD).status_code == 302  # on to the code

        answers = [visitor.post("/tf-validate", data={"code": "000000"}).status_code for _ in range(5)]
        db.session.remove()

    assert answers == [200, 200, 200, 200, 429]  # the address's limit is far: the login's stopped it
    make_app(database_url)  # the suite's settings again for Flask-Security's shared extension
