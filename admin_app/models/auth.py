"""Logins and roles (Flask-Security-Too's pure-SQLAlchemy mixins)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from flask_security.models.sqla import FsModels, FsRoleMixin, FsUserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.audit import Audited
from admin_app.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from admin_app.models.people import Therapist

FsModels.set_db_info(base_model=Base, user_table_name="app_user", role_table_name="app_role")

ADMIN_ROLE = "admin"
THERAPIST_ROLE = "therapist"


class Role(Base, FsRoleMixin):
    __tablename__ = "app_role"

    def __str__(self) -> str:
        return self.name


class User(Audited, Base, FsUserMixin):
    """A login. Changes to it are audited by field name (email, active, password, second factor) and
    its roles by name added and removed; sign-ins are recorded as such (views/audit/sign_ins.py), so
    the counters a sign-in updates are not recorded as changes."""

    __tablename__ = "app_user"
    audit_ignored = frozenset(
        {"last_login_at", "current_login_at", "last_login_ip", "current_login_ip", "login_count", "update_datetime"}
    )
    audit_collections = ("roles",)

    locale: Mapped[str | None] = mapped_column(String(5))
    therapist: Mapped[Therapist | None] = relationship(back_populates="user")

    def __str__(self) -> str:
        return self.email

    @property
    def is_admin(self) -> bool:
        return self.has_role(ADMIN_ROLE)


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
