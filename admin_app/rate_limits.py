"""Request limits that hold across every web process: Flask-Limiter's counts kept per app, in Redis
when REDIS_URL is set, else in the application's own database.

`DatabaseStorage` is a storage of the `limits` library (the one Flask-Limiter uses), registered as
`app-database://`: "the database of the app serving the request". Each hit is one atomic
`INSERT .. ON CONFLICT DO UPDATE .. RETURNING` (SQLite 3.35+ and PostgreSQL), on a connection of its
own that commits at once, so concurrent workers never lose a count and a request that rolls back
does not undo one. It supports the fixed-window strategy (Flask-Limiter's default and ours), not the
moving- or sliding-window ones. Expired rows are deleted by `purge_expired` (periodic work).

`PerAppLimiter` keeps Flask-Limiter's storage per Flask app: the extension object is shared by
every app of the process (the tests build many), and Flask-Limiter itself keeps only the last one.

`LimitedResetMail` is Flask-Security's mail with at most RESET_EMAIL_LIMIT password-reset emails to
one address: beyond it the reset form answers as always (the same for every email), and nothing is
sent. Keys hold a hash of an email, never the email.
"""

from __future__ import annotations

import hashlib

from flask import Flask, current_app, has_app_context
from flask_limiter import Limiter
from flask_security.mail_util import MailUtil
from limits import parse_many
from limits.storage import Storage
from limits.strategies import RateLimiter
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from admin_app.models import RateLimitCounter
from admin_app.models.base import utcnow

SCHEME = "app-database"
STORAGE_URI = f"{SCHEME}://"
_STATE = "rate_limits"  # app.extensions key: (storage, strategy) of that app
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def storage_uri(config) -> str:
    """Where an app keeps its counts: Redis when configured, else its own database."""
    return config.get("REDIS_URL") or STORAGE_URI


def _now() -> float:
    """Seconds since the epoch, as the `limits` library counts expiry (from the app's one clock)."""
    return utcnow().timestamp()


def _engine() -> Engine:
    return current_app.extensions["sqlalchemy"].engine


class DatabaseStorage(Storage):
    """Fixed-window counters in the `rate_limit_counter` table of the current app's database."""

    STORAGE_SCHEME = [SCHEME]

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to the key's count and return the new count; an expired count starts again
        (with a new expiry), in the same statement."""
        engine = _engine()
        now = _now()
        table = RateLimitCounter.__table__
        statement = _INSERTS[engine.dialect.name](table).values(key=key, hits=amount, expires_at=now + expiry)
        expired = table.c.expires_at <= now
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "hits": _when(expired, statement.excluded.hits, table.c.hits + statement.excluded.hits),
                "expires_at": _when(expired, statement.excluded.expires_at, table.c.expires_at),
            },
        ).returning(table.c.hits)
        with engine.begin() as connection:
            return connection.execute(statement).scalar_one()

    def get(self, key: str) -> int:
        with _engine().connect() as connection:
            hits = connection.scalar(
                select(RateLimitCounter.hits).where(RateLimitCounter.key == key, RateLimitCounter.expires_at > _now())
            )
        return hits or 0

    def get_expiry(self, key: str) -> float:
        with _engine().connect() as connection:
            expires_at = connection.scalar(select(RateLimitCounter.expires_at).where(RateLimitCounter.key == key))
        now = _now()
        return expires_at if expires_at is not None and expires_at > now else now

    def check(self) -> bool:
        try:
            with _engine().connect() as connection:
                connection.scalar(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with _engine().begin() as connection:
            return connection.execute(delete(RateLimitCounter)).rowcount

    def clear(self, key: str) -> None:
        with _engine().begin() as connection:
            connection.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))


def _when(condition, then, otherwise):
    return case((condition, then), else_=otherwise)


def purge_expired(now: float | None = None) -> int:
    """Delete the counters whose window has ended (they count for nothing); returns how many."""
    with _engine().begin() as connection:
        return connection.execute(
            delete(RateLimitCounter).where(RateLimitCounter.expires_at <= (now or _now()))
        ).rowcount


class PerAppLimiter(Limiter):
    """Flask-Limiter with its storage and strategy kept on each app (`app.extensions`), so that in a
    process with several apps each counts where its own settings say."""

    def init_app(self, app: Flask) -> None:
        self.__dict__["_binding"] = True  # while it binds, Flask-Limiter reads what it just made
        try:
            super().init_app(app)
        finally:
            self.__dict__["_binding"] = False
        app.extensions[_STATE] = (self.__dict__.get("_last_storage"), self.__dict__.get("_last_limiter"))

    def _per_app(self, index: int, last: str):
        if has_app_context() and not self.__dict__.get("_binding"):
            state = current_app.extensions.get(_STATE)
            if state is not None:
                return state[index]
        return self.__dict__.get(last)

    @property
    def _storage(self) -> Storage | None:
        return self._per_app(0, "_last_storage")

    @_storage.setter
    def _storage(self, value: Storage | None) -> None:
        self.__dict__["_last_storage"] = value

    @property
    def _limiter(self) -> RateLimiter | None:
        return self._per_app(1, "_last_limiter")

    @_limiter.setter
    def _limiter(self, value: RateLimiter | None) -> None:
        self.__dict__["_last_limiter"] = value


def hashed(value: str) -> str:
    """What a limit's key holds for an email: a hash, so no address sits in Redis or a table."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def within(limit: str, *identifiers: str) -> bool:
    """Count one more against `limit` (Flask-Limiter's notation) for `identifiers`, in the current app's
    storage; False once it is reached. A storage outage lets it through (logged), as Flask-Limiter's
    own limits do here (`swallow_errors`)."""
    strategy = current_app.extensions[_STATE][1]
    try:
        return all([strategy.hit(item, *identifiers) for item in parse_many(limit)])
    except strategy.storage.base_exceptions:
        current_app.logger.exception("the request limit storage failed; the request goes through")
        return True


class LimitedResetMail(MailUtil):
    """Flask-Security's mail, with at most RESET_EMAIL_LIMIT reset emails to one address."""

    def send_mail(self, template, subject, recipient, sender, body, html, **kwargs) -> None:
        address = recipient[1] if isinstance(recipient, tuple) else recipient
        if template == current_app.config["SECURITY_EMAIL_TEMPLATE_PASSWORD_RESET"] and not within(
            current_app.config["RESET_EMAIL_LIMIT"], "reset-email", hashed(address.strip().lower())
        ):
            current_app.logger.warning("password reset email not sent: RESET_EMAIL_LIMIT reached for its address")
            return
        super().send_mail(template, subject, recipient, sender, body, html, **kwargs)
