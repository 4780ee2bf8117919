"""Settings read from the environment, parsed strictly, with safe local defaults.

A wrong value stops start-up with a `ConfigError` that names the variable, so a typo in a
deployment never turns into a practice running in the wrong time zone or currency.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.core import get_global
from babel.numbers import get_territory_currencies
from limits import parse_many

SUPPORTED_LOCALES = ("es", "en", "fr")
# The demo practices of demo/practices.py (a unit test keeps the two lists the same).
DEMO_PRACTICES = ("lima", "vancouver")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A setting has a value the application cannot run with."""

    def __init__(self, variable: str, reason: str) -> None:
        super().__init__(f"{variable}: {reason}")
        self.variable = variable


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(name, f"expected true or false, got {raw!r}")


def _integer(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {value}")
    return value


def _percent(env: Mapping[str, str], name: str, default: str) -> Decimal:
    """A percentage from 0 to 100 with at most two decimals (12.5, 33.33), as a Decimal."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return Decimal(default)
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ConfigError(name, f"expected a percentage such as 50 or 12.5, got {raw!r}") from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise ConfigError(name, f"must be a percentage from 0 to 100, got {raw!r}")
    if value != value.quantize(Decimal("0.01")):
        raise ConfigError(name, f"at most two decimals, got {raw!r}")
    return value


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    """A request limit in Flask-Limiter's notation ("5 per 15 minutes", "3/hour"; several joined by ';')."""
    value = env.get(name, default).strip()
    try:
        parsed = parse_many(value)
    except ValueError:
        parsed = []
    if not parsed:
        raise ConfigError(name, f"expected a limit such as '5 per 15 minutes', got {value!r}")
    return value


def _day_of_month(env: Mapping[str, str], name: str, default: int) -> int:
    value = _integer(env, name, default, 1)
    if value > 28:
        raise ConfigError(name, f"must be a day from 1 to 28 (every month has it), got {value}")
    return value


def _timezone(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, default).strip()
    if value not in available_timezones():
        raise ConfigError(name, f"unknown IANA time zone {value!r} (e.g. America/Lima)")
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError:  # pragma: no cover - available_timezones already checked
        raise ConfigError(name, f"unknown IANA time zone {value!r}") from None
    return value


def _tender_currencies() -> set[str]:
    """ISO 4217 codes that are legal tender somewhere today: not XXX ("no currency"), XTS
    (testing), gold, or a withdrawn currency, all of which `list_currencies()` also lists."""
    return {code for territory in get_global("territory_currencies") for code in get_territory_currencies(territory)}


def _currencies(env: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    raw = env.get(name, default)
    codes = tuple(code.strip().upper() for code in raw.split(",") if code.strip())
    if not codes:
        raise ConfigError(name, "at least one ISO 4217 currency code is required")
    known = _tender_currencies()
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ConfigError(name, f"unknown currency code(s), or not money in use today: {', '.join(unknown)}")
    return codes


def _locale(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, default).strip().lower()
    if value not in SUPPORTED_LOCALES:
        raise ConfigError(name, f"must be one of {', '.join(SUPPORTED_LOCALES)}, got {value!r}")
    return value


def _demo_practice(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, default).strip().lower()
    if value not in DEMO_PRACTICES:
        raise ConfigError(name, f"must be one of {', '.join(DEMO_PRACTICES)}, got {value!r}")
    return value


def _secret_key(env: Mapping[str, str], production: bool, instance_path: Path) -> str:
    """Use SECRET_KEY when given; locally, generate one once into instance/ and reuse it."""
    value = env.get("SECRET_KEY", "").strip()
    if value:
        return value
    if production:
        raise ConfigError("SECRET_KEY", "is required in production (APP_ENV=production)")
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        _write_once(key_file, secrets.token_urlsafe(48))
    return key_file.read_text().strip()


def _write_once(path: Path, text: str) -> None:
    """Create `path` atomically; when several processes race, the first one's text wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    draft.write_text(text)
    draft.chmod(0o600)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def _database_url(env: Mapping[str, str], instance_path: Path) -> str:
    value = env.get("DATABASE_URL", "").strip()
    if not value:
        instance_path.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{instance_path / 'practice.sqlite3'}"
    if value.startswith("postgres://"):  # Heroku-style URLs
        value = "postgresql://" + value[len("postgres://") :]
    if value.startswith("postgresql://"):
        value = "postgresql+psycopg://" + value[len("postgresql://") :]
    if not value.startswith(("postgresql+psycopg://", "sqlite:///")):
        raise ConfigError("DATABASE_URL", "must be a postgresql:// or sqlite:/// URL")
    return value


def _public_base_url(env: Mapping[str, str]) -> str:
    """PUBLIC_BASE_URL, or else the address `make run` serves on (HOST and PORT, as gunicorn.conf.py
    binds them), so the links in emails open on a practice trying the product."""
    value = env.get("PUBLIC_BASE_URL", "").strip().rstrip("/")
    if value:
        if not value.startswith(("http://", "https://")):
            raise ConfigError("PUBLIC_BASE_URL", f"must start with http:// or https://, got {value!r}")
        return value
    host = env.get("HOST", "").strip() or "127.0.0.1"
    if host in ("0.0.0.0", "::", "[::]"):  # every interface: this machine answers on loopback
        host = "127.0.0.1"
    port = _integer(env, "PORT", 5000, 1)
    return f"http://{host}:{port}"


def _prefix(env: Mapping[str, str], name: str, default: str) -> str:
    """A document number prefix: up to 12 ASCII letters, digits or '-' (numbers go into file names)."""
    value = env.get(name, default).strip()
    if len(value) > 12 or not all(
        character.isascii() and (character.isalnum() or character == "-") for character in value
    ):
        raise ConfigError(name, f"must be up to 12 letters, digits or '-', got {value!r}")
    return value


def load_settings(env: Mapping[str, str] | None = None, instance_path: Path | None = None) -> dict:
    """Return the Flask settings for `env` (default: the process environment)."""
    env = os.environ if env is None else env
    instance_path = instance_path or Path.cwd() / "instance"
    app_env = (env.get("APP_ENV") or env.get("FLASK_ENV") or "development").strip().lower()
    production = app_env == "production"

    currencies = _currencies(env, "CURRENCIES", "PEN,USD")
    default_currency = env.get("DEFAULT_CURRENCY", currencies[0]).strip().upper()
    if default_currency not in currencies:
        raise ConfigError("DEFAULT_CURRENCY", f"{default_currency!r} is not one of CURRENCIES")

    mail_server = env.get("MAIL_SERVER", "").strip()
    secret_key = _secret_key(env, production, instance_path)
    settings = {
        "APP_ENV": app_env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": _database_url(env, instance_path),
        # hide_parameters: SQL errors in logs never carry the values (client data).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "REDIS_URL": env.get("REDIS_URL", "").strip() or None,
        # Set by `make run` for gunicorn.conf.py, which then starts the embedded runner: without
        # Redis, runs in the background wait for it instead of running in the request.
        "RUN_PERIODIC_WORK": _flag(env, "RUN_PERIODIC_WORK", False),
        "CLINIC_TIMEZONE": _timezone(env, "CLINIC_TIMEZONE", "America/Lima"),
        "CURRENCIES": currencies,
        "DEFAULT_CURRENCY": default_currency,
        "DEFAULT_LOCALE": _locale(env, "DEFAULT_LOCALE", "es"),
        "PHONE_REGION": env.get("PHONE_REGION", "PE").strip().upper(),
        "PRACTICE_NAME": env.get("PRACTICE_NAME", "Demo Practice").strip(),
        "PRACTICE_ADDRESS": env.get("PRACTICE_ADDRESS", "").strip(),
        "PRACTICE_PHONE": env.get("PRACTICE_PHONE", "").strip(),
        # What `flask seed-demo` loads without --practice.
        "DEMO_PRACTICE": _demo_practice(env, "DEMO_PRACTICE", "lima"),
        "PUBLIC_BASE_URL": _public_base_url(env),
        "DEFAULT_APPOINTMENT_MINUTES": _integer(env, "DEFAULT_APPOINTMENT_MINUTES", 50, 5),
        # An authorization is low when this many sessions or fewer remain, or it ends within this many days.
        "AUTHORIZATION_LOW_SESSIONS": _integer(env, "AUTHORIZATION_LOW_SESSIONS", 2, 0),
        "AUTHORIZATION_EXPIRY_DAYS": _integer(env, "AUTHORIZATION_EXPIRY_DAYS", 14, 0),
        # A late cancellation or no-show costs this % of the fee, billed to the client (0: nothing).
        "MISSED_SESSION_FEE_PERCENT": _percent(env, "MISSED_SESSION_FEE_PERCENT", "0"),
        # How the numbers of invoices, credit notes and receipts read: the prefix, then six digits.
        "INVOICE_PREFIX": _prefix(env, "INVOICE_PREFIX", "INV-"),
        "CREDIT_NOTE_PREFIX": _prefix(env, "CREDIT_NOTE_PREFIX", "CN-"),
        "RECEIPT_PREFIX": _prefix(env, "RECEIPT_PREFIX", "R-"),
        "PAYOUT_PREFIX": _prefix(env, "PAYOUT_PREFIX", "PS-"),
        # On PostgreSQL a list of more rows than this shows the planner's estimate ("about N"), or no total
        # when filtered, and counts exactly on demand: count(*) over millions of rows on every page is slow.
        "LIST_EXACT_COUNT_LIMIT": _integer(env, "LIST_EXACT_COUNT_LIMIT", 10_000, 0),
        # The periodic payout run drafts the previous month's statements on this day of the month.
        "PAYOUT_DAY": _day_of_month(env, "PAYOUT_DAY", 5),
        # false: a practice that does not record payments pays out every charge up to the cut-off.
        "PAYOUTS_WAIT_FOR_PAYMENT": _flag(env, "PAYOUTS_WAIT_FOR_PAYMENT", True),
        # The Bad Fit rule looks at the participations of this many past days (DESIGN.md, "Bad Fit").
        "BAD_FIT_DAYS": _integer(env, "BAD_FIT_DAYS", 90, 1),
        # The therapist portal's home lists today's appointments and those of this many days after it.
        "PORTAL_DAYS_AHEAD": _integer(env, "PORTAL_DAYS_AHEAD", 7, 0),
        # A reservation used less than this (%) over the last 8 weeks is flagged (DESIGN.md, "Room use").
        "ROOM_USE_LOW_PERCENT": _integer(env, "ROOM_USE_LOW_PERCENT", 40, 0),
        # The admin home asks staff to look at invoice drafts left this many days (tasks).
        "INVOICE_DRAFT_TASK_DAYS": _integer(env, "INVOICE_DRAFT_TASK_DAYS", 7, 1),
        "MAIL_SERVER": mail_server or None,
        "MAIL_PORT": _integer(env, "MAIL_PORT", 25, 1),
        "MAIL_USE_TLS": _flag(env, "MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _flag(env, "MAIL_USE_SSL", False),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "no-reply@practice.local"),
        "MAIL_TIMEOUT_SECONDS": _integer(env, "MAIL_TIMEOUT_SECONDS", 30, 1),
        "REMINDER_HOURS_BEFORE": _integer(env, "REMINDER_HOURS_BEFORE", 24, 1),
        "SURVEY_DAY": _day_of_month(env, "SURVEY_DAY", 1),
        "SURVEY_VALID_DAYS": _integer(env, "SURVEY_VALID_DAYS", 30, 1),
        "INVITATION_VALID_DAYS": _integer(env, "INVITATION_VALID_DAYS", 7, 1),
        # A receipt's emailed link opens its PDF for this many days.
        "RECEIPT_LINK_VALID_DAYS": _integer(env, "RECEIPT_LINK_VALID_DAYS", 30, 1),
        "SURVEY_ANONYMOUS_TO_THERAPISTS": _flag(env, "SURVEY_ANONYMOUS_TO_THERAPISTS", True),
        # Clinical notes are the client's therapists' own; true lets staff read them too (each read audited).
        "STAFF_READ_CLINICAL_NOTES": _flag(env, "STAFF_READ_CLINICAL_NOTES", False),
        "SURVEY_GUESS_LIMIT": env.get("SURVEY_GUESS_LIMIT", "20 per hour").strip(),
        # Sign-in, second-factor and password-reset forms (POST) from one IP address, and for one
        # account (the email posted); past them the forms answer 429 (accounts.limits).
        "SIGN_IN_LIMIT_PER_ADDRESS": _rate_limit(env, "SIGN_IN_LIMIT_PER_ADDRESS", "30 per 15 minutes"),
        "SIGN_IN_LIMIT_PER_ACCOUNT": _rate_limit(env, "SIGN_IN_LIMIT_PER_ACCOUNT", "10 per 15 minutes"),
        # Password-reset emails to one address; beyond it the form answers the same but sends nothing.
        "RESET_EMAIL_LIMIT": _rate_limit(env, "RESET_EMAIL_LIMIT", "3 per hour"),
        # This many wrong passwords in a row lock a login for LOGIN_LOCKOUT_MINUTES (its owner is told by email).
        "LOGIN_LOCKOUT_FAILURES": _integer(env, "LOGIN_LOCKOUT_FAILURES", 5, 1),
        "LOGIN_LOCKOUT_MINUTES": _integer(env, "LOGIN_LOCKOUT_MINUTES", 15, 1),
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: none).
        "TRUSTED_PROXIES": _integer(env, "TRUSTED_PROXIES", 0, 0),
        **_twilio_settings(env),
        # Without a mail server nothing may be sent, not even by Flask-Security.
        "MAIL_SUPPRESS_SEND": not mail_server,
        "BABEL_DEFAULT_LOCALE": _locale(env, "DEFAULT_LOCALE", "es"),
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        # Uploads (spreadsheet imports) stop here before anything reads them.
        "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
        # An import reads at most this many rows of this many columns: a file of a few KB can hold a cell
        # in row 1,048,576 or column XFD (a workbook is compressed), and reading every row up to it would not end.
        "IMPORT_MAX_ROWS": _integer(env, "IMPORT_MAX_ROWS", 50_000, 1),
        "IMPORT_MAX_COLUMNS": _integer(env, "IMPORT_MAX_COLUMNS", 100, 1),
        # The import screen checks and imports a file of more rows than this as a run in the background,
        # with a progress bar (0: every file); a smaller one at once, within the request.
        "IMPORT_BACKGROUND_ROWS": _integer(env, "IMPORT_BACKGROUND_ROWS", 500, 0),
        # A signed-in session ends after this many minutes without a request, and this many hours after
        # sign-in however busy (services/accounts/sessions.py); the cookie holds only the session's id.
        "SESSION_IDLE_MINUTES": _integer(env, "SESSION_IDLE_MINUTES", 30, 1),
        "SESSION_MAX_HOURS": _integer(env, "SESSION_MAX_HOURS", 12, 1),
        # The session is saved when it changes (its last use at most once a minute), not on every request.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        # No "remember me" (see the login form): these flags hold should a remember cookie ever be sent.
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "FLASK_ADMIN_FLUID_LAYOUT": True,
        **_security_settings(env, production),
        **_second_factor_settings(env, production, secret_key),
    }
    if settings["PHONE_REGION"] and len(settings["PHONE_REGION"]) != 2:
        raise ConfigError("PHONE_REGION", "must be a two-letter country code such as PE or CA")
    return settings


def _twilio_settings(env: Mapping[str, str]) -> dict:
    """SMS go through Twilio when its account is configured; otherwise they stay in the outbox."""
    names = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
    values = {name: env.get(name, "").strip() or None for name in names}
    given = [name for name in names if values[name]]
    if given and len(given) != len(names):
        missing = next(name for name in names if not values[name])
        raise ConfigError(missing, "is required when any TWILIO_* setting is given")
    if values["TWILIO_FROM_NUMBER"] and not values["TWILIO_FROM_NUMBER"].startswith("+"):
        raise ConfigError("TWILIO_FROM_NUMBER", "must be an E.164 number such as +15551234567")
    return values


def _security_settings(env: Mapping[str, str], production: bool) -> dict:
    salt = env.get("SECURITY_PASSWORD_SALT", "").strip()
    if not salt:
        if production:
            raise ConfigError("SECURITY_PASSWORD_SALT", "is required in production")
        salt = "local-development-salt"
    return {
        "SECURITY_PASSWORD_SALT": salt,
        "SECURITY_RECOVERABLE": True,
        "SECURITY_CHANGEABLE": True,
        "SECURITY_TRACKABLE": True,
        "SECURITY_REGISTERABLE": False,
        "SECURITY_CONFIRMABLE": False,
        "SECURITY_POST_LOGIN_VIEW": "/",
        "SECURITY_POST_LOGOUT_VIEW": "/login",
        "SECURITY_LOGIN_URL": "/login",
        "SECURITY_LOGOUT_URL": "/logout",
        "SECURITY_RESET_URL": "/reset",
        "SECURITY_CHANGE_URL": "/change-password",
        "SECURITY_SEND_PASSWORD_CHANGE_EMAIL": True,
        "SECURITY_EMAIL_VALIDATOR_ARGS": {"check_deliverability": False},
        "SECURITY_USE_REGISTER_V2": True,
        "SECURITY_DEFAULT_REMEMBER_ME": False,
        "SECURITY_EMAIL_SENDER": env.get("MAIL_DEFAULT_SENDER", "no-reply@practice.local"),
        "SECURITY_CSRF_IGNORE_UNAUTH_ENDPOINTS": False,
        # Sign-in and reset answer the same for a known and an unknown email (no "user does not exist").
        "SECURITY_RETURN_GENERIC_RESPONSES": True,
        # A reset for an unknown email costs one password hash (Flask-Security's stand-in); for a known one, the
        # hash of the password hash that goes into the link's token, by default sha256_crypt at four times the
        # cost: the time told which emails have accounts. Tokens now take the password's scheme, so both answers
        # cost one argon2 hash (links sent before still verify by the older schemes).
        "SECURITY_HASHING_SCHEMES": ["argon2", "sha256_crypt", "hex_md5"],
        "SECURITY_DEPRECATED_HASHING_SCHEMES": ["auto"],
        # Off: its default ({"private": True, "no-store": True}) reaches the browser as the literal text
        # "private=True, no-store=True"; views/platform/headers.py sends no-store on every page instead.
        "SECURITY_CACHE_CONTROL": None,
        # Its catalog first, then ours (translations/*/LC_MESSAGES/flask_security.po), whose messages win:
        # its Spanish says "tú", the practice "usted".
        "SECURITY_I18N_DIRNAME": ["builtin", str(Path(__file__).resolve().parent / "translations")],
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        # One password policy wherever a password is set (services/accounts/passwords.py adds "never the email").
        "SECURITY_PASSWORD_LENGTH_MIN": 12,
        "SECURITY_PASSWORD_COMPLEXITY_CHECKER": "zxcvbn",
    }


def _second_factor_settings(env: Mapping[str, str], production: bool, secret_key: str) -> dict:
    """TOTP (an authenticator app) with recovery codes, through Flask-Security's two-factor support.

    SECURITY_TOTP_SECRET encrypts each user's TOTP secret in the database, so it is required in
    production; locally it is derived from SECRET_KEY (itself kept in instance/). Who must have a
    second factor is User.check_tf_required (models/auth.py), from the two REQUIRE_2FA_* flags.
    """
    secret = env.get("SECURITY_TOTP_SECRET", "").strip()
    if not secret:
        if production:
            raise ConfigError("SECURITY_TOTP_SECRET", "is required in production")
        secret = hashlib.sha256(f"totp:{secret_key}".encode()).hexdigest()
    return {
        "REQUIRE_2FA_STAFF": _flag(env, "REQUIRE_2FA_STAFF", production),
        "REQUIRE_2FA_THERAPISTS": _flag(env, "REQUIRE_2FA_THERAPISTS", False),
        "SECURITY_TWO_FACTOR": True,
        "SECURITY_TWO_FACTOR_ENABLED_METHODS": ["authenticator"],
        "SECURITY_TOTP_SECRETS": {"1": secret},
        "SECURITY_TOTP_ISSUER": env.get("PRACTICE_NAME", "Demo Practice").strip(),
        "SECURITY_MULTI_FACTOR_RECOVERY_CODES": True,
        # No code by email: the email account is not a second factor. A lost phone means a recovery
        # code, or a reset by the staff (the logins screen).
        "SECURITY_TWO_FACTOR_RESCUE_EMAIL": False,
        # After turning it on from the account menu: the recovery codes page, to make them.
        "SECURITY_TWO_FACTOR_POST_SETUP_VIEW": ".mf_recovery_codes",
    }


class TestingSettings:
    """Overrides for the test-suite: fast password hashing, CSRF checked in dedicated tests."""

    values = {
        "TESTING": True,
        "SECURITY_PASSWORD_HASH": "plaintext",
        "SECURITY_PASSWORD_SINGLE_HASH": True,
        "WTF_CSRF_ENABLED": False,
        # Tests sign in far more often than people: the limit tests set their own.
        "SIGN_IN_LIMIT_PER_ADDRESS": "10000 per hour",
        "SIGN_IN_LIMIT_PER_ACCOUNT": "10000 per hour",
        # Tests move the clock by hours and months after signing in: the session tests set their own.
        "SESSION_IDLE_MINUTES": 10 * 366 * 24 * 60,
        "SESSION_MAX_HOURS": 10 * 366 * 24,
    }
