"""The sign-in form, without "Remember me".

A remember-me cookie signs its holder in again after the session ended, for a year: it would undo
the idle timeout and the absolute lifetime, and, being tied to the login's `fs_uniquifier` (one per
login), it cannot be revoked for one browser without signing out all the others. A back office of
health records signs in for one working day at most (SESSION_MAX_HOURS). So no remember cookie is
ever issued (SECURITY_DEFAULT_REMEMBER_ME is off too), and a request that one signs in is refused
(views/accounts/sessions.py: only a sign-in recorded on the server counts).
"""

from __future__ import annotations

from flask_security.forms import LoginForm


class PracticeLoginForm(LoginForm):
    remember = None  # WTForms: removes the inherited field
