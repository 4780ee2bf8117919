"""Sessions that end (services.accounts.sessions has the rules), on the web side:

- every request of a signed-in session is checked first (before CSRF, so a form posted after the
  session ended goes to the sign-in page rather than to a CSRF error); an ended session is signed
  out with a message saying so, and a form posted in it is not processed;
- sign-in starts a new session id (no session fixation) and records who, when and from where;
  sign-out deletes the server-side session, so a copy of its cookie opens nothing;
- "My sessions" (in the account menu of both areas) lists the user's sessions, with *Sign out* for
  each and *Sign out everywhere*.
"""

from __future__ import annotations

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_login import user_logged_out
from flask_security import current_user, logout_user, password_changed, password_reset, user_authenticated

from admin_app.extensions import db
from admin_app.models import THERAPIST_ROLE
from admin_app.models.base import utcnow
from admin_app.services.accounts import sessions
from admin_app.services.platform import bounds
from admin_app.views.accounts.session_store import ENDED_KEY, SIGN_IN_KEY, DatabaseSessionInterface
from admin_app.views.platform.base import RoleRequired
from admin_app.views.platform.headers import is_static
from admin_app.views.platform.portal import moment

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
STAFF_ENDPOINT = "my_sessions"
PORTAL_ENDPOINT = "portal_sessions"


def init_app(app: Flask) -> None:
    """Server-side sessions for `app` (its own interface: the tests build several apps in one process)."""
    app.session_interface = DatabaseSessionInterface(app)
    app.before_request(end_a_session_that_ended)
    user_authenticated.connect(_signed_in, sender=app, weak=False)
    user_logged_out.connect(_signed_out, sender=app, weak=False)
    password_changed.connect(_password_changed, sender=app, weak=False)
    password_reset.connect(_password_changed, sender=app, weak=False)


def end_a_session_that_ended():
    if is_static(request.endpoint):
        return None
    if session.pop(ENDED_KEY, False):  # the store found the session's row expired
        return _sign_out(sessions.ended_message(_limits()))
    stored = session.get(SIGN_IN_KEY)
    if not current_user.is_authenticated:
        if stored is not None:  # the login was deactivated, or signed out everywhere
            return _sign_out(gettext("Your session has ended. Please sign in again."))
        return None
    now = utcnow()
    sign_in = sessions.SignIn.from_stored(stored)
    reason = sessions.refusal(sign_in, user=current_user, now=now, limits=_limits())
    if reason is not None:
        return _sign_out(reason)
    if sign_in.touch_due(now):
        session[SIGN_IN_KEY] = sign_in.touched(now).stored()
    return None


def _limits() -> sessions.Limits:
    return sessions.Limits.from_settings(current_app.config)


def _sign_out(reason):
    """End this request's session (a new, empty one follows) and say why; an unsafe request is not
    processed (it goes to the sign-in page), a page is shown as to anyone not signed in."""
    if current_user.is_authenticated:
        logout_user()
    else:
        _signed_out(current_app)
    flash(str(reason), "warning")
    if request.method not in SAFE_METHODS:
        return redirect(url_for("security.login"), 303)
    return None


def _signed_in(app: Flask, user, **_extra) -> None:
    current_app.session_interface.regenerate(session)
    session[SIGN_IN_KEY] = sessions.SignIn.new(
        user_id=user.id, now=utcnow(), user_agent=request.user_agent.string, address=request.remote_addr
    ).stored()


def _signed_out(app: Flask, **_extra) -> None:
    session.pop(SIGN_IN_KEY, None)
    current_app.session_interface.regenerate(session)


def _password_changed(app: Flask, user, **_extra) -> None:
    """Committed with the new password (Flask-Security commits after the view)."""
    sessions.end_other_sessions(db.session, user_id=user.id, keep_sid_hash=sessions.sid_hash(session.sid))


class MySessionsView(RoleRequired, BaseView):
    """The staff's "My sessions" (not in the menu: the account menu leads there)."""

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        this_one = sessions.sid_hash(session.sid)
        rows = sessions.my_sessions(db.session, user_id=current_user.id)
        return self.render("admin/accounts/my_sessions.html", rows=rows, this_one=this_one, moment=moment)

    @expose("/end", methods=("POST",))
    def end(self):
        row_id = bounds.record_id(request.form.get("session"))
        this_one = sessions.sid_hash(session.sid)
        if row_id is not None and sessions.end_session(
            db.session, user_id=current_user.id, session_row_id=row_id, keep_sid_hash=this_one
        ):
            db.session.commit()
            flash(gettext("That session was signed out."), "success")
        else:
            flash(gettext("That session had ended already."), "info")
        return redirect(url_for(".index"), 303)

    @expose("/end-all", methods=("POST",))
    def end_all(self):
        count = sessions.end_all_sessions(db.session, user=current_user._get_current_object())
        db.session.commit()
        logout_user()
        flash(gettext("All your sessions were signed out (%(count)s). Please sign in again.", count=count), "success")
        return redirect(url_for("security.login"), 303)


class PortalSessionsView(MySessionsView):
    required_role = THERAPIST_ROLE
