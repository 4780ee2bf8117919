"""Logins and roles (Flask-Security-Too's pure-SQLAlchemy mixins)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from flask import current_app, has_request_context, request
from flask_security import AsaList
from flask_security.models.sqla import FsModels, FsRoleMixin, FsUserMixin
from flask_security.utils import get_message
from sqlalchemy import ForeignKey, String
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.audit import Audited
from admin_app.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from admin_app.models.people import Therapist

FsModels.set_db_info(base_model=Base, user_table_name="app_user", role_table_name="app_role")

ADMIN_ROLE = "admin"
THERAPIST_ROLE = "therapist"


class CachedList(AsaList):
    """Flask-Security's comma-separated list, whose statements SQLAlchemy may cache: its AsaList
    leaves `cache_ok` unset, so every statement that reads a login or a role (each request reads the
    signed-in user) was compiled anew, with a warning. It holds no state, so caching it is safe."""

    cache_ok = True


class Role(Base, FsRoleMixin):
    __tablename__ = "app_role"

    permissions: Mapped[list[str] | None] = mapped_column(MutableList.as_mutable(CachedList()))

    def __str__(self) -> str:
        return self.name


class User(Audited, Base, FsUserMixin):
    """A login. Changes to it are audited by field name (email, active, password, second factor) and
    its roles by name added and removed; sign-ins are recorded as such (views/audit/sign_ins.py), so
    the counters a sign-in updates are not recorded as changes."""

    __tablename__ = "app_user"
    audit_ignored = frozenset(
        {
            "last_login_at",
            "current_login_at",
            "last_login_ip",
            "current_login_ip",
            "login_count",
            "update_datetime",
            "failed_logins",  # each failure is recorded as a failed sign-in
        }
    )
    audit_collections = ("roles",)

    mf_recovery_codes: Mapped[list[str] | None] = mapped_column(MutableList.as_mutable(CachedList()))
    locale: Mapped[str | None] = mapped_column(String(5))
    # Wrong passwords in a row since the last sign-in or lockout, and the lockout they led to
    # (services/accounts/lockout.py).
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    therapist: Mapped[Therapist | None] = relationship(back_populates="user")

    def __str__(self) -> str:
        return self.email

    @property
    def is_admin(self) -> bool:
        return self.has_role(ADMIN_ROLE)

    @property
    def must_have_second_factor(self) -> bool:
        """Staff under REQUIRE_2FA_STAFF, therapists under REQUIRE_2FA_THERAPISTS; anyone may turn it on."""
        config = current_app.config
        return bool(
            (config.get("REQUIRE_2FA_STAFF") and self.is_admin)
            or (config.get("REQUIRE_2FA_THERAPISTS") and self.has_role(THERAPIST_ROLE))
        )

    def check_tf_required(self, tf_setup_methods, tf_fresh):
        """Flask-Security's per-user hook, asked after the password: a login that must have a second
        factor and has none is sent to set one up before it is signed in."""
        required, methods = super().check_tf_required(tf_setup_methods, tf_fresh)
        return required or (self.must_have_second_factor and not tf_setup_methods), methods

    def check_tf_required_setup(self) -> bool:
        """The setup page offers "disable" only to a login that may go without."""
        return super().check_tf_required_setup() or self.must_have_second_factor

    def is_locked(self, form_error: list[str] | None = None) -> bool:
        """Flask-Security asks this after a correct password: a locked account is refused with the
        generic sign-in message (so a guesser learns nothing from it). It asks on the password-reset
        form too: there the owner may still choose a new password, which ends the lockout."""
        if self.locked_until is None or self.locked_until <= utcnow():
            return False
        if has_request_context() and request.endpoint == "security.forgot_password":
            return False
        if form_error is not None:
            form_error.append(get_message("GENERIC_AUTHN_FAILED")[0])
        return True


class LoginInvitation(Audited, Base):
    """A set-password link sent to a new login (a login is created without a password).

    Like the survey links, the token is derived from SECRET_KEY and `token_nonce`, so the email is
    rendered at delivery from ids; only its hash is kept. It works until `expires_at`, once
    (`used_at`); a new invitation for the same login revokes the previous one (`revoked_at`).
    """

    __tablename__ = "login_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_nonce: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The holder of the dead link asked the staff for a new one (the admins are told once).
    renewal_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __str__(self) -> str:
        return f"#{self.id}"
