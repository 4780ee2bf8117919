"""Sessions that end: the rules of a signed-in web session, and its rows (models.sessions.WebSession).

A signed-in session ends, whichever comes first:
- after `SESSION_IDLE_MINUTES` without a request (last use is written at most once a minute, so a
  page view does not write every time; the idle end may come up to a minute early);
- `SESSION_MAX_HOURS` after sign-in, however busy;
- at sign-out, or when its owner (or the staff, by deactivating the login or the therapist record)
  ends it: the row is deleted, so a copied cookie opens nothing.
A session nobody signed in to (the sign-in page's CSRF token, the chosen language) lasts the
absolute lifetime, so a sign-in page left open over lunch still posts.

A row that expired opens nothing. One that was signed in is kept `ENDED_ROWS_KEPT` (or until that
browser comes back), so its next request can say that the session ended rather than just show the
sign-in page; the periodic work (jobs/accounts.py) deletes what is left.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets

from flask_babel import format_timedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_app.models import THERAPIST_ROLE, User, WebSession
from admin_app.models.base import utcnow

TOUCH_EVERY = dt.timedelta(minutes=1)
ENDED_ROWS_KEPT = dt.timedelta(hours=24)
USER_AGENT_LENGTH = 255


@dataclasses.dataclass(frozen=True)
class Limits:
    """How long a session lives without a request (`idle`) and at most (`lifetime`)."""

    idle: dt.timedelta
    lifetime: dt.timedelta

    @classmethod
    def from_settings(cls, settings) -> Limits:
        return cls(
            idle=dt.timedelta(minutes=settings["SESSION_IDLE_MINUTES"]),
            lifetime=dt.timedelta(hours=settings["SESSION_MAX_HOURS"]),
        )


@dataclasses.dataclass(frozen=True)
class SignIn:
    """Who signed in to a session, when, from where; kept in the session itself (server-side)."""

    user_id: int
    started: dt.datetime
    seen: dt.datetime
    user_agent: str | None
    address: str | None

    @classmethod
    def new(cls, *, user_id: int, now: dt.datetime, user_agent: str | None, address: str | None) -> SignIn:
        agent = (user_agent or "")[:USER_AGENT_LENGTH] or None
        return cls(user_id=user_id, started=now, seen=now, user_agent=agent, address=address)

    def stored(self) -> dict:
        """As the session keeps it (JSON: instants as POSIX seconds)."""
        return {**dataclasses.asdict(self), "started": self.started.timestamp(), "seen": self.seen.timestamp()}

    @classmethod
    def from_stored(cls, value: object) -> SignIn | None:
        if not isinstance(value, dict):
            return None
        try:
            return cls(
                user_id=int(value["user_id"]),
                started=dt.datetime.fromtimestamp(float(value["started"]), dt.UTC),
                seen=dt.datetime.fromtimestamp(float(value["seen"]), dt.UTC),
                user_agent=value.get("user_agent"),
                address=value.get("address"),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def ends_at(self, limits: Limits) -> dt.datetime:
        return min(self.seen + limits.idle, self.started + limits.lifetime)

    def touch_due(self, now: dt.datetime) -> bool:
        return now - self.seen >= TOUCH_EVERY

    def touched(self, now: dt.datetime) -> SignIn:
        return dataclasses.replace(self, seen=now)


def sid_hash(store_id: str) -> str:
    return hashlib.sha256(store_id.encode()).hexdigest()


def expires_at(sign_in: SignIn | None, now: dt.datetime, limits: Limits) -> dt.datetime:
    return sign_in.ends_at(limits) if sign_in else now + limits.lifetime


@dataclasses.dataclass(frozen=True)
class Loaded:
    """What the store found for a cookie: the session's data, or that a signed-in session ended."""

    data: bytes | None = None
    ended: bool = False


def load(connection: Connection, *, store_id: str, now: dt.datetime) -> Loaded:
    row = connection.execute(
        select(WebSession.id, WebSession.data, WebSession.expires_at, WebSession.user_id).where(
            WebSession.sid_hash == sid_hash(store_id)
        )
    ).one_or_none()
    if row is None:
        return Loaded()
    if row.expires_at > now:
        return Loaded(data=row.data)
    connection.execute(delete(WebSession).where(WebSession.id == row.id))
    return Loaded(ended=row.user_id is not None)


def save(
    connection: Connection,
    *,
    store_id: str,
    data: bytes,
    sign_in: SignIn | None,
    now: dt.datetime,
    limits: Limits,
    insert: bool,
) -> None:
    """Write the session's row; a signed-in one says whose it is and its times. Only a new session
    (`insert`) adds a row: one deleted meanwhile (signed out from elsewhere) stays deleted."""
    values = {
        "data": data,
        "expires_at": expires_at(sign_in, now, limits),
        "user_id": sign_in.user_id if sign_in else None,
        "signed_in_at": sign_in.started if sign_in else None,
        "last_seen_at": sign_in.seen if sign_in else None,
        "user_agent": sign_in.user_agent if sign_in else None,
        "address": sign_in.address if sign_in else None,
    }
    key = sid_hash(store_id)
    where = WebSession.sid_hash == key
    if connection.execute(update(WebSession).where(where).values(values)).rowcount or not insert:
        return
    try:
        with connection.begin_nested():
            connection.execute(WebSession.__table__.insert().values(sid_hash=key, **values))
    except IntegrityError:  # a parallel first request of the same new session inserted it
        connection.execute(update(WebSession).where(where).values(values))


def forget(connection: Connection, *, store_id: str) -> None:
    connection.execute(delete(WebSession).where(WebSession.sid_hash == sid_hash(store_id)))


def my_sessions(session: Session, *, user_id: int, now: dt.datetime | None = None) -> list[WebSession]:
    """The user's live signed-in sessions, the most recently used first."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(WebSession)
            .where(WebSession.user_id == user_id, WebSession.expires_at > now)
            .order_by(WebSession.last_seen_at.desc(), WebSession.id.desc())
        )
    )


def end_session(session: Session, *, user_id: int, session_row_id: int, keep_sid_hash: str) -> bool:
    """End one of the user's other sessions (never another user's, nor the one asking: that is
    signing out); False when it had ended already."""
    return bool(
        session.execute(
            delete(WebSession)
            .where(
                WebSession.id == session_row_id,
                WebSession.user_id == user_id,
                WebSession.sid_hash != keep_sid_hash,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def end_other_sessions(session: Session, *, user_id: int, keep_sid_hash: str) -> int:
    """After a password change or reset: the user's other sessions end (Flask-Security voids them by a
    new `fs_uniquifier`; their rows go too, so "My sessions" does not list them)."""
    return session.execute(
        delete(WebSession)
        .where(WebSession.user_id == user_id, WebSession.sid_hash != keep_sid_hash)
        .execution_options(synchronize_session=False)
    ).rowcount


def end_all_sessions(session: Session, *, user: User) -> int:
    """End every session of `user`: their server-side rows go, and a new `fs_uniquifier` voids
    anything signed with the old one (remember and auth tokens). Returns how many sessions ended."""
    ended = session.execute(
        delete(WebSession).where(WebSession.user_id == user.id).execution_options(synchronize_session=False)
    ).rowcount
    user.fs_uniquifier = secrets.token_hex(32)
    session.flush()
    return ended


def delete_ended(session: Session, *, now: dt.datetime | None = None) -> int:
    """The periodic clean-up: rows nobody signed in to once expired, signed-in rows a while after."""
    now = now or utcnow()
    anonymous = (WebSession.user_id.is_(None)) & (WebSession.expires_at <= now)
    signed_in = WebSession.expires_at <= now - ENDED_ROWS_KEPT
    return session.execute(
        delete(WebSession).where(anonymous | signed_in).execution_options(synchronize_session=False)
    ).rowcount


def refusal(sign_in: SignIn | None, *, user: User, now: dt.datetime, limits: Limits) -> str | None:
    """Why this signed-in request's session is over, or None while it holds. A session is signed in
    only through a sign-in recorded here: a user that Flask-Login found another way (a remember-me
    cookie) is refused too."""
    if sign_in is None or sign_in.user_id != user.id:
        return _l("Your session has ended. Please sign in again.")
    if now >= sign_in.ends_at(limits):
        return ended_message(limits)
    # Staff logins have no therapist record: no query to find that out on each of their pages.
    if user.has_role(THERAPIST_ROLE) and user.therapist is not None and not user.therapist.active:
        return _l("Your session has ended: your therapist record is no longer active.")
    return None


def ended_message(limits: Limits) -> str:
    return _l(
        "Your session has ended: it was idle for %(idle)s, or open for %(lifetime)s since you signed in. "
        "Please sign in again.",
        idle=format_timedelta(limits.idle, threshold=1),
        lifetime=format_timedelta(limits.lifetime, threshold=1),
    )
