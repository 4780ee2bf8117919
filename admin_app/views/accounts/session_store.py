"""Flask-Session's server-side sessions, kept in our own table (models.sessions.WebSession).

Flask-Session 0.8 does the session's web side: a random 256-bit id in the cookie (nothing else,
nothing readable), the cookie's flags from Flask's SESSION_COOKIE_* settings, `regenerate()` at
sign-in and sign-out. Its own SQLAlchemy backend is not used, after reading its source: it defines
its model on `db.Model` at every `init_app` (a second app in one process, as in the tests, fails
with "Table 'sessions' is already defined"), creates its table itself at start-up (our migrations
own the schema: `flask db upgrade` would then find the table there), commits the request's
`db.session` when it saves (committing whatever a view left pending), stores naive local times,
keeps the id in clear, and cannot list a user's sessions. So this interface puts the same
machinery over our table, through services.accounts.sessions, on a connection of its own.

The session is serialised as Flask's own cookie session was (tagged JSON: flashed messages may be
Markup, which Flask-Session's msgspec refuses).
"""

from __future__ import annotations

from flask import Flask, current_app
from flask.json.tag import TaggedJSONSerializer
from flask_session.base import Serializer, ServerSideSession, ServerSideSessionInterface

from admin_app.extensions import db
from admin_app.models.base import utcnow
from admin_app.services.accounts import sessions

# The session keys this app adds: who signed in (sessions.SignIn), and "a signed-in session ended".
SIGN_IN_KEY = "_sign_in"
ENDED_KEY = "_session_ended"


class TaggedJSON(Serializer):
    def __init__(self) -> None:
        self._tagged = TaggedJSONSerializer()

    def encode(self, session: ServerSideSession) -> bytes:
        return self._tagged.dumps(dict(session)).encode()

    def decode(self, serialized_data: bytes) -> dict:
        return self._tagged.loads(bytes(serialized_data).decode())


class DatabaseSessionInterface(ServerSideSessionInterface):
    """Sessions in the `web_session` table. `flask session_cleanup` (Flask-Session's command) and the
    periodic work both delete ended rows."""

    ttl = False  # rows do not expire by themselves: someone must delete them

    def __init__(self, app: Flask) -> None:
        # Not permanent: the cookie has no expiry date and goes when the browser closes; the
        # server decides how long the session lives (SESSION_IDLE_MINUTES, SESSION_MAX_HOURS).
        super().__init__(app, key_prefix="", use_signer=False, permanent=False, sid_length=32)
        self.serializer = TaggedJSON()

    def open_session(self, app: Flask, request) -> ServerSideSession:
        session = super().open_session(app, request)
        # Whether the session's row exists: a session that was ended while one of its requests ran
        # must not be written back (its row is updated, never inserted again).
        session.in_store = request.cookies.get(self.get_cookie_name(app)) == session.sid
        return session

    def regenerate(self, session: ServerSideSession) -> None:
        """A new id for this session, whatever it holds (Flask-Session's renews only a non-empty
        one). The old id's row is deleted when the session is saved, at the end of the request: not
        in the middle of the view's transaction."""
        if getattr(session, "in_store", False):
            session.replaced_sid = session.sid
        session.sid = self._generate_sid(self.sid_length)
        session.in_store = False
        session.modified = True

    def save_session(self, app: Flask, session: ServerSideSession, response) -> None:
        replaced = getattr(session, "replaced_sid", None)
        if replaced:
            self._delete_session(self._get_store_id(replaced))
        super().save_session(app, session, response)

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        with db.engine.begin() as connection:
            found = sessions.load(connection, store_id=store_id, now=utcnow())
        if found.ended:
            return {ENDED_KEY: True}
        return None if found.data is None else self.serializer.decode(found.data)

    def _upsert_session(self, session_lifetime, session: ServerSideSession, store_id: str) -> None:
        _release_the_request_transaction()
        with db.engine.begin() as connection:
            sessions.save(
                connection,
                store_id=store_id,
                data=self.serializer.encode(session),
                sign_in=sessions.SignIn.from_stored(session.get(SIGN_IN_KEY)),
                now=utcnow(),
                insert=not getattr(session, "in_store", False),
                limits=sessions.Limits.from_settings(current_app.config),
            )

    def _delete_session(self, store_id: str) -> None:
        _release_the_request_transaction()
        with db.engine.begin() as connection:
            sessions.forget(connection, store_id=store_id)

    def _delete_expired_sessions(self) -> None:
        sessions.delete_ended(db.session)
        db.session.commit()


def _release_the_request_transaction() -> None:
    """The session is written on a connection of its own, after the view committed its work; what
    the view left uncommitted (half of a failed change) would be rolled back at the end of the
    request anyway. Rolled back now, it cannot hold SQLite's one write lock against this write."""
    if db.session().in_transaction():
        db.session.rollback()
