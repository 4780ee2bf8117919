"""Clashes: a therapist, a room or a client (one whose attendance is not cancelled) in two live
appointments whose times overlap, found in one query and worded for the person at the screen.

Times are half-open, [start, end): back-to-back is allowed; cancelled appointments block
nothing. The booking guard (`guard`), the series planner and the spreadsheet import all word a
clash through `Conflict.message`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, literal, null, select, union_all
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    Client,
    Modality,
    Participant,
    Room,
    Site,
    Therapist,
)
from admin_app.services.platform.clinic_time import clinic_zone, to_local
from admin_app.services.scheduling.attendance import CANCELLATIONS


class ConflictKind(enum.StrEnum):
    THERAPIST = "therapist"
    ROOM = "room"
    CLIENT = "client"


_KIND_ORDER = {ConflictKind.THERAPIST: 0, ConflictKind.ROOM: 1, ConflictKind.CLIENT: 2}


@dataclass(frozen=True)
class Conflict:
    """Another live appointment in the way: who or what is double-booked, and that appointment.

    `starts_at`/`ends_at` are clinic-local; `room_name` is "Site · Room" when it has a room;
    `client_name` is the client booked twice (client conflicts only).
    """

    kind: ConflictKind
    appointment_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    therapist_name: str
    room_name: str | None = None
    client_name: str | None = None

    @property
    def when(self) -> str:
        end_format = "%H:%M" if self.ends_at.date() == self.starts_at.date() else "%Y-%m-%d %H:%M"
        return f"{self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at.strftime(end_format)}"

    @property
    def message(self):
        if self.kind == ConflictKind.CLIENT:
            return _l(
                "%(client)s already has an appointment on %(when)s with %(therapist)s.",
                client=self.client_name,
                when=self.when,
                therapist=self.therapist_name,
            )
        if self.kind == ConflictKind.ROOM:
            return _l(
                "Clashes with %(therapist)s's appointment on %(when)s in room %(room)s.",
                therapist=self.therapist_name,
                when=self.when,
                room=self.room_name,
            )
        return _l(
            "Clashes with %(therapist)s's appointment on %(when)s (same therapist).",
            therapist=self.therapist_name,
            when=self.when,
        )

    @property
    def discreet_message(self):
        """The clash told to a therapist in the portal: what is taken and when, never who else is
        booked (another therapist's name tells whom the client sees; their clients are not theirs)."""
        if self.kind == ConflictKind.CLIENT:
            return _l(
                "%(client)s already has another appointment on %(when)s.", client=self.client_name, when=self.when
            )
        if self.kind == ConflictKind.ROOM:
            return _l("Room %(room)s is taken on %(when)s by another appointment.", room=self.room_name, when=self.when)
        return self.message


def find_conflicts(
    session: Session,
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    therapist_id: int | None,
    room_id: int | None = None,
    client_ids: Iterable[int] = (),
    exclude_appointment_id: int | None = None,
) -> list[Conflict]:
    """The live appointments that [starts_at, ends_at) would clash with, in one query.

    Live: not cancelled; for a client, only where their attendance is not cancelled or
    late-cancelled. Sorted by start, then therapist, room, client. One appointment can appear
    once per kind (and once per client booked twice).
    """
    client_ids = sorted({int(client_id) for client_id in client_ids if client_id is not None})
    overlapping = [
        Appointment.status != AppointmentStatus.CANCELLED,
        Appointment.starts_at < ends_at,
        Appointment.ends_at > starts_at,
    ]
    if exclude_appointment_id is not None:
        overlapping.append(Appointment.id != exclude_appointment_id)

    def clashing(kind: ConflictKind, client_name, *conditions):
        return (
            select(
                literal(kind.value).label("kind"),
                Appointment.id.label("appointment_id"),
                Appointment.starts_at.label("starts_at"),
                Appointment.ends_at.label("ends_at"),
                Therapist.full_name.label("therapist_name"),
                Site.name.label("site_name"),
                Room.name.label("room_name"),
                client_name.label("client_name"),
            )
            .select_from(Appointment)
            .join(Therapist, Therapist.id == Appointment.therapist_id)
            .outerjoin(Room, Room.id == Appointment.room_id)
            .outerjoin(Site, Site.id == Room.site_id)
            .where(*overlapping, *conditions)
        )

    no_client = cast(null(), String)
    parts = []
    if therapist_id is not None:
        parts.append(clashing(ConflictKind.THERAPIST, no_client, Appointment.therapist_id == therapist_id))
    if room_id is not None:
        parts.append(clashing(ConflictKind.ROOM, no_client, Appointment.room_id == room_id))
    if client_ids:
        parts.append(
            clashing(
                ConflictKind.CLIENT,
                Client.full_name,
                Participant.client_id.in_(client_ids),
                Participant.attendance.not_in(CANCELLATIONS),
            )
            .join(Participant, Participant.appointment_id == Appointment.id)
            .join(Client, Client.id == Participant.client_id)
        )
    if not parts:
        return []
    rows = session.execute(parts[0] if len(parts) == 1 else union_all(*parts)).all()
    zone = clinic_zone()
    conflicts = []
    for row in rows:
        kind = ConflictKind(row.kind)
        conflicts.append(
            Conflict(
                kind=kind,
                appointment_id=row.appointment_id,
                starts_at=to_local(row.starts_at, zone),
                ends_at=to_local(row.ends_at, zone),
                therapist_name=row.therapist_name,
                room_name=f"{row.site_name} · {row.room_name}" if row.room_name is not None else None,
                client_name=row.client_name,
            )
        )
    return sorted(conflicts, key=lambda c: (c.starts_at, _KIND_ORDER[c.kind], c.client_name or ""))


def booking_clashes(
    session: Session,
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    therapist_id: int | None,
    room_id: int | None,
    modality: Modality | None,
    clients: Iterable[tuple[int, Attendance | None]],
) -> list[Conflict]:
    """What the booking guard would refuse a new booking for, asked while its form is filled in:
    each participant is a client and their attendance (None: not chosen yet). As on saving, a
    virtual appointment holds no room and a cancelled participant blocks nothing."""
    return find_conflicts(
        session,
        starts_at=starts_at,
        ends_at=ends_at,
        therapist_id=therapist_id,
        room_id=room_id if modality == Modality.ON_SITE else None,
        client_ids=[client_id for client_id, attendance in clients if attendance not in CANCELLATIONS],
    )
