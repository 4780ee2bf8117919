"""Room reservations: a room blocked for a therapist on a weekday between two local times, from a
date until an optional date (the same date for a single day). DESIGN.md, "Room use"."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.audit import Audited
from admin_app.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from admin_app.models.people import Therapist
    from admin_app.models.sites import Room


class RoomReservation(Audited, Base):
    __tablename__ = "room_reservation"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday_iso"),
        CheckConstraint("ends_time > starts_time", name="ends_after_start"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="valid_until_after_from"),
        Index("ix_room_reservation_room_weekday", "room_id", "weekday"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="RESTRICT"))
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="RESTRICT"), index=True)
    weekday: Mapped[int]  # ISO: 1 Monday ... 7 Sunday
    starts_time: Mapped[dt.time] = mapped_column(Time)  # clinic-local wall clock
    ends_time: Mapped[dt.time] = mapped_column(Time)
    valid_from: Mapped[dt.date] = mapped_column(Date)  # local date of the first occurrence (on or after)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)  # inclusive; none: open-ended
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The clinic day the office last released part of it (services.rooms.reservations.release): its
    # use over the weeks before says nothing about what is left, so it is not flagged low again soon.
    released_on: Mapped[dt.date | None] = mapped_column(Date)

    room: Mapped[Room] = relationship(lazy="joined")
    therapist: Mapped[Therapist] = relationship()

    def __str__(self) -> str:
        return f"{self.room} · {self.weekday} {self.starts_time:%H:%M}–{self.ends_time:%H:%M}"
