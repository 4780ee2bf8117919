"""Where on-site appointments happen."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.base import Base


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    address: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)

    rooms: Mapped[list[Room]] = relationship(back_populates="site", order_by="Room.name")

    def __str__(self) -> str:
        return self.name


class Room(Base):
    __tablename__ = "room"
    __table_args__ = (UniqueConstraint("site_id", "name", name="uq_room_site_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)

    site: Mapped[Site] = relationship(back_populates="rooms", lazy="joined")

    def __str__(self) -> str:
        return f"{self.site.name} · {self.name}"
