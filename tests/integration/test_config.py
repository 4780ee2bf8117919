"""Settings: a wrong value stops start-up with an error naming the variable; safe local defaults."""

from __future__ import annotations

import stat
from decimal import Decimal

import pytest

from admin_app import create_app
from admin_app.config import DEMO_PRACTICES, ConfigError, load_settings
from admin_app.demo import practices as demo_practices

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "SECURITY_PASSWORD_SALT": "salt",
    "SECURITY_TOTP_SECRET": "t" * 40,
}
TWILIO = {
    "TWILIO_ACCOUNT_SID": "AC" + "0123456789abcdef" * 2,
    "TWILIO_AUTH_TOKEN": "token",
    "TWILIO_FROM_NUMBER": "+15005550006",
}


@pytest.mark.parametrize(
    ("env", "variable", "shown"),
    [
        ({"CLINIC_TIMEZONE": "Mars/Base"}, "CLINIC_TIMEZONE", "Mars/Base"),
        ({"CLINIC_TIMEZONE": "EST5EDT-ish"}, "CLINIC_TIMEZONE", "EST5EDT-ish"),
        ({"CURRENCIES": "PEN,XXX"}, "CURRENCIES", "XXX"),
        ({"CURRENCIES": "PEN,SOL"}, "CURRENCIES", "SOL"),
        ({"CURRENCIES": " , "}, "CURRENCIES", "at least one"),
        ({"CURRENCIES": "PEN,USD", "DEFAULT_CURRENCY": "CAD"}, "DEFAULT_CURRENCY", "CAD"),
        ({"DEFAULT_LOCALE": "de"}, "DEFAULT_LOCALE", "de"),
        ({"DEFAULT_APPOINTMENT_MINUTES": "fifty"}, "DEFAULT_APPOINTMENT_MINUTES", "fifty"),
        ({"DEFAULT_APPOINTMENT_MINUTES": "0"}, "DEFAULT_APPOINTMENT_MINUTES", "at least 5"),
        ({"MAIL_PORT": "smtp"}, "MAIL_PORT", "smtp"),
        ({"MAIL_USE_TLS": "maybe"}, "MAIL_USE_TLS", "maybe"),
        ({"MAIL_TIMEOUT_SECONDS": "0"}, "MAIL_TIMEOUT_SECONDS", "at least 1"),
        ({"REMINDER_HOURS_BEFORE": "abc"}, "REMINDER_HOURS_BEFORE", "abc"),
        ({"REMINDER_HOURS_BEFORE": "0"}, "REMINDER_HOURS_BEFORE", "at least 1"),
        ({"TWILIO_ACCOUNT_SID": TWILIO["TWILIO_ACCOUNT_SID"]}, "TWILIO_AUTH_TOKEN", "required"),
        ({**TWILIO, "TWILIO_FROM_NUMBER": " "}, "TWILIO_FROM_NUMBER", "required"),
        ({"TWILIO_FROM_NUMBER": "+15005550006"}, "TWILIO_ACCOUNT_SID", "required"),
        ({**TWILIO, "TWILIO_FROM_NUMBER": "15005550006"}, "TWILIO_FROM_NUMBER", "E.164"),
        ({"PHONE_REGION": "PER"}, "PHONE_REGION", "two-letter"),
        ({"DEMO_PRACTICE": "toronto"}, "DEMO_PRACTICE", "toronto"),
        ({"DATABASE_URL": "mysql://db/practice"}, "DATABASE_URL", "postgresql://"),
        ({"PUBLIC_BASE_URL": "practice.example.com"}, "PUBLIC_BASE_URL", "http://"),
        ({"INVITATION_VALID_DAYS": "0"}, "INVITATION_VALID_DAYS", "at least 1"),
        ({"RECEIPT_LINK_VALID_DAYS": "0"}, "RECEIPT_LINK_VALID_DAYS", "at least 1"),
        ({"RECEIPT_LINK_VALID_DAYS": "a month"}, "RECEIPT_LINK_VALID_DAYS", "a month"),
        ({"IMPORT_MAX_ROWS": "0"}, "IMPORT_MAX_ROWS", "at least 1"),
        ({"SESSION_IDLE_MINUTES": "0"}, "SESSION_IDLE_MINUTES", "at least 1"),
        ({"SESSION_IDLE_MINUTES": "half an hour"}, "SESSION_IDLE_MINUTES", "half an hour"),
        ({"SESSION_MAX_HOURS": "0"}, "SESSION_MAX_HOURS", "at least 1"),
        ({"IMPORT_MAX_COLUMNS": "many"}, "IMPORT_MAX_COLUMNS", "many"),
        ({"MISSED_SESSION_FEE_PERCENT": "half"}, "MISSED_SESSION_FEE_PERCENT", "half"),
        ({"MISSED_SESSION_FEE_PERCENT": "100.5"}, "MISSED_SESSION_FEE_PERCENT", "0 to 100"),
        ({"MISSED_SESSION_FEE_PERCENT": "-1"}, "MISSED_SESSION_FEE_PERCENT", "0 to 100"),
        ({"MISSED_SESSION_FEE_PERCENT": "NaN"}, "MISSED_SESSION_FEE_PERCENT", "0 to 100"),
        ({"MISSED_SESSION_FEE_PERCENT": "12.345"}, "MISSED_SESSION_FEE_PERCENT", "two decimals"),
        ({"INVOICE_PREFIX": "INV/2026-"}, "INVOICE_PREFIX", "letters, digits or '-'"),
        ({"RECEIPT_PREFIX": "RECEIPT-NUMBER-"}, "RECEIPT_PREFIX", "up to 12"),
        ({"CREDIT_NOTE_PREFIX": "NC-é"}, "CREDIT_NOTE_PREFIX", "NC-é"),
        ({"APP_ENV": "production", "SECURITY_PASSWORD_SALT": "salt", "SECRET_KEY": " "}, "SECRET_KEY", "production"),
        ({"APP_ENV": "production", "SECRET_KEY": "s" * 40}, "SECURITY_PASSWORD_SALT", "production"),
        ({**PRODUCTION, "SECURITY_TOTP_SECRET": " "}, "SECURITY_TOTP_SECRET", "production"),
        ({"REQUIRE_2FA_STAFF": "sometimes"}, "REQUIRE_2FA_STAFF", "sometimes"),
        ({"REQUIRE_2FA_THERAPISTS": "2"}, "REQUIRE_2FA_THERAPISTS", "'2'"),
    ],
)
def test_a_wrong_setting_is_refused_naming_the_variable(tmp_path, env, variable, shown):
    with pytest.raises(ConfigError) as raised:
        load_settings({"SECRET_KEY": "k", **env}, instance_path=tmp_path)

    assert raised.value.variable == variable
    assert str(raised.value).startswith(f"{variable}: ")
    assert shown in str(raised.value)


@pytest.mark.parametrize(("raw", "percent"), [(None, "0"), ("50", "50"), (" 12.5 ", "12.5"), ("33.33", "33.33")])
def test_the_missed_session_fee_is_a_percentage_of_the_fee(tmp_path, raw, percent):
    env = {"SECRET_KEY": "k"} | ({} if raw is None else {"MISSED_SESSION_FEE_PERCENT": raw})
    assert load_settings(env, instance_path=tmp_path)["MISSED_SESSION_FEE_PERCENT"] == Decimal(percent)


def test_production_refuses_to_start_without_a_secret_key_and_writes_none(tmp_path):
    with pytest.raises(ConfigError, match="^SECRET_KEY: "):
        load_settings({"APP_ENV": "production", "SECURITY_PASSWORD_SALT": "salt"}, instance_path=tmp_path)
    assert not (tmp_path / "secret_key").exists()


def test_production_with_its_secrets_starts_with_secure_cookies(tmp_path):
    settings = load_settings({**PRODUCTION, "DATABASE_URL": "postgres://u:p@db/practice"}, instance_path=tmp_path)

    assert settings["SECRET_KEY"] == "s" * 40
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["REMEMBER_COOKIE_SECURE"] is True and settings["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/practice"
    assert settings["SECURITY_TOTP_SECRETS"] == {"1": "t" * 40}
    assert (settings["REQUIRE_2FA_STAFF"], settings["REQUIRE_2FA_THERAPISTS"]) == (True, False)


def test_a_second_factor_is_not_required_locally_so_the_demo_logins_work(tmp_path):
    settings = load_settings({"SECRET_KEY": "k"}, instance_path=tmp_path)

    assert (settings["REQUIRE_2FA_STAFF"], settings["REQUIRE_2FA_THERAPISTS"]) == (False, False)
    assert settings["SECURITY_TWO_FACTOR_ENABLED_METHODS"] == ["authenticator"]
    assert (
        settings["SECURITY_TOTP_SECRETS"]
        != load_settings({"SECRET_KEY": "other"}, instance_path=tmp_path)["SECURITY_TOTP_SECRETS"]
    )  # derived from SECRET_KEY, never a value shared by every installation


def test_the_defaults_are_the_lima_practice_on_sqlite(tmp_path):
    settings = load_settings({"SECRET_KEY": "k"}, instance_path=tmp_path)

    assert settings["CLINIC_TIMEZONE"] == "America/Lima"
    assert settings["CURRENCIES"] == ("PEN", "USD")
    assert settings["DEFAULT_CURRENCY"] == "PEN"
    assert settings["DEFAULT_LOCALE"] == "es"
    assert settings["DEFAULT_APPOINTMENT_MINUTES"] == 50
    assert settings["DEMO_PRACTICE"] == "lima"
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'practice.sqlite3'}"
    assert settings["MAIL_SUPPRESS_SEND"] is True  # no MAIL_SERVER: nothing is sent
    assert settings["MAIL_TIMEOUT_SECONDS"] == 30
    assert settings["REMINDER_HOURS_BEFORE"] == 24
    assert settings["TWILIO_ACCOUNT_SID"] is None  # no Twilio: SMS stay in the outbox
    assert settings["TWILIO_AUTH_TOKEN"] is None
    assert settings["TWILIO_FROM_NUMBER"] is None
    assert settings["WTF_CSRF_ENABLED"] is True
    assert settings["PRACTICE_PHONE"] == ""
    assert settings["RECEIPT_LINK_VALID_DAYS"] == 30
    assert (settings["IMPORT_MAX_ROWS"], settings["IMPORT_MAX_COLUMNS"]) == (50_000, 100)
    assert (settings["SESSION_IDLE_MINUTES"], settings["SESSION_MAX_HOURS"]) == (30, 12)


@pytest.mark.parametrize(
    ("env", "base_url"),
    [
        ({}, "http://127.0.0.1:5000"),
        ({"HOST": "127.0.0.1", "PORT": "5207"}, "http://127.0.0.1:5207"),
        ({"HOST": "0.0.0.0", "PORT": "8000"}, "http://127.0.0.1:8000"),
        (
            {"HOST": "10.1.2.3", "PORT": "8000", "PUBLIC_BASE_URL": "https://practice.example.com/"},
            "https://practice.example.com",
        ),
    ],
)
def test_links_in_emails_start_from_the_served_address_unless_public_base_url_says(tmp_path, env, base_url):
    assert load_settings({"SECRET_KEY": "k", **env}, instance_path=tmp_path)["PUBLIC_BASE_URL"] == base_url


def test_twilio_and_the_reminder_lead_time_are_read_from_the_environment(tmp_path):
    env = {"SECRET_KEY": "k", "REMINDER_HOURS_BEFORE": "48", **{name: f" {value} " for name, value in TWILIO.items()}}

    settings = load_settings(env, instance_path=tmp_path)

    assert settings["REMINDER_HOURS_BEFORE"] == 48
    assert {name: settings[name] for name in TWILIO} == TWILIO  # surrounding spaces dropped


def test_blank_twilio_settings_count_as_not_given(tmp_path):
    blank = {name: "  " for name in TWILIO}

    settings = load_settings({"SECRET_KEY": "k", **blank}, instance_path=tmp_path)

    assert settings["TWILIO_ACCOUNT_SID"] is None


def test_a_vancouver_practice_is_configured_from_the_environment(tmp_path):
    settings = load_settings(
        {
            "SECRET_KEY": "k",
            "CLINIC_TIMEZONE": "America/Vancouver",
            "CURRENCIES": "cad, usd",
            "DEFAULT_LOCALE": "EN",
            "PHONE_REGION": "ca",
            "DEMO_PRACTICE": " Vancouver",
            "PRACTICE_PHONE": " +1 604 555 0100 ",
            "RECEIPT_LINK_VALID_DAYS": "60",
        },
        instance_path=tmp_path,
    )

    assert settings["CLINIC_TIMEZONE"] == "America/Vancouver"
    assert settings["CURRENCIES"] == ("CAD", "USD")
    assert settings["DEFAULT_CURRENCY"] == "CAD"  # the first listed
    assert settings["DEFAULT_LOCALE"] == "en"
    assert settings["PHONE_REGION"] == "CA"
    assert settings["DEMO_PRACTICE"] == "vancouver"
    assert settings["PRACTICE_PHONE"] == "+1 604 555 0100"
    assert settings["RECEIPT_LINK_VALID_DAYS"] == 60


def test_without_secret_key_one_is_generated_once_and_reused(tmp_path):
    instance = tmp_path / "instance"

    first = load_settings({}, instance_path=instance)["SECRET_KEY"]
    second = load_settings({}, instance_path=instance)["SECRET_KEY"]

    assert len(first) >= 32
    assert first == second
    key_file = instance / "secret_key"
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # readable by the app's user only
    assert load_settings({}, instance_path=tmp_path / "other")["SECRET_KEY"] != first


def test_create_app_stops_on_a_wrong_setting_in_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setenv("CLINIC_TIMEZONE", "Mars/Base")

    with pytest.raises(ConfigError, match="^CLINIC_TIMEZONE: "):
        create_app()


def test_the_demo_practices_a_setting_may_name_are_the_ones_there_are():
    assert set(DEMO_PRACTICES) == set(demo_practices.PRACTICES)
