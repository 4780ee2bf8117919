"""Logins and roles (Flask-Security-Too's pure-SQLAlchemy mixins)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_security.models.sqla import FsModels, FsRoleMixin, FsUserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.base import Base

if TYPE_CHECKING:
    from admin_app.models.people import Therapist

FsModels.set_db_info(base_model=Base, user_table_name="app_user", role_table_name="app_role")

ADMIN_ROLE = "admin"
THERAPIST_ROLE = "therapist"


class Role(Base, FsRoleMixin):
    __tablename__ = "app_role"

    def __str__(self) -> str:
        return self.name


class User(Base, FsUserMixin):
    __tablename__ = "app_user"

    locale: Mapped[str | None] = mapped_column(String(5))
    therapist: Mapped[Therapist | None] = relationship(back_populates="user")

    def __str__(self) -> str:
        return self.email

    @property
    def is_admin(self) -> bool:
        return self.has_role(ADMIN_ROLE)
