"""The password policy, one for every place a password is set: Flask-Security's change and reset
forms (through `PasswordPolicy`, its `password_util_cls`), the invitation's set-password page and
the `flask accounts` commands (through `check_password`).

Flask-Security checks the length (SECURITY_PASSWORD_LENGTH_MIN) and, with zxcvbn, refuses what is
easy to guess; the practice adds that a password is never the login's email nor its local part,
and gives zxcvbn both, so a password made from them scores low too.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_security import PasswordUtil
from flask_security.utils import password_complexity_validator, password_length_validator

from admin_app.services.platform.errors import RuleViolation


class PasswordPolicy(PasswordUtil):
    """Flask-Security's password checks with the practice's rule and messages that say what is wrong."""

    def validate(self, password: str, is_register: bool, **kwargs) -> tuple[list | None, str]:
        normalised = self.normalize(password)
        user = kwargs.get("user")
        email = (getattr(user, "email", None) if user is not None else kwargs.get("email")) or ""
        return password_problems(normalised, email), normalised


def password_problems(password: str, email: str) -> list[str] | None:
    """What is wrong with `password` for the login `email`, or None when it may be used."""
    wrong_length = password_length_validator(password)  # "Password must be at least 12 characters"
    if wrong_length:
        return wrong_length
    email = email.strip().casefold()
    local_part = email.partition("@")[0]
    if email and password.strip().casefold() in (email, local_part):
        return [str(_l("Password: it must not be your email address or the part before the @."))]
    weak = password_complexity_validator(password, True, email=email, local_part=local_part)
    if weak:
        return [str(_l("Password: too easy to guess. %(hint)s", hint=weak[0]))]
    return None


def check_password(password: str, *, email: str) -> str:
    """The password as it is to be stored (normalised), or RuleViolation on the field `password`."""
    policy = current_app.extensions["security"].password_util
    problems, normalised = policy.validate(password, True, email=email)
    if problems:
        raise RuleViolation(" ".join(str(problem) for problem in problems), field="password")
    return normalised
