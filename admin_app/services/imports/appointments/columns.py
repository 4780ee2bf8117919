"""The file's columns, and a row read into what it says: its therapist and client (found by the
keys `matching` names), start, end, modality, kind, fee, currency, status, and its room (by site and
room name, as the rooms import matches them).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import unicodedata
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import AppointmentKind, Attendance, Modality, Room, Site, Therapist
from admin_app.services.imports import matching, values
from admin_app.services.imports.appointments.booked import Booked, Seat, chunks
from admin_app.services.imports.reading import Row, header_key
from admin_app.services.imports.report import ImportPlan
from admin_app.services.imports.rooms import existing_sites
from admin_app.services.platform.clinic_time import from_local, to_local
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.scheduling.attendance import CANCELLATIONS

COLUMNS: dict[str, tuple[str, ...]] = {
    **matching.CLIENT_COLUMN_ALIASES,
    "therapist_email": ("correo_terapeuta",),
    "start": ("inicio",),
    "duration_minutes": ("duracion",),
    "end": ("fin",),
    "modality": ("modalidad",),
    "kind": ("tipo",),
    "fee": ("tarifa",),
    "currency": ("moneda",),
    "status": ("estado",),
    "payer": ("pagador",),
    "authorization": ("autorizacion",),
    "site": ("sede",),
    "room": ("consultorio",),
}
REQUIRED = ("therapist_email", "start", "fee", "currency")
KEY_COLUMNS = (*matching.CLIENT_COLUMNS, "therapist_email", "start")  # what tells the rows apart

MODALITIES = {
    "virtual": Modality.VIRTUAL,
    "online": Modality.VIRTUAL,
    "on-site": Modality.ON_SITE,
    "on_site": Modality.ON_SITE,
    "on site": Modality.ON_SITE,
    "presencial": Modality.ON_SITE,
}
KINDS = {
    "individual": AppointmentKind.INDIVIDUAL,
    "couple": AppointmentKind.COUPLE,
    "pareja": AppointmentKind.COUPLE,
    "family": AppointmentKind.FAMILY,
    "familia": AppointmentKind.FAMILY,
    "group": AppointmentKind.GROUP,
    "grupo": AppointmentKind.GROUP,
}
SHARED_KINDS = (AppointmentKind.COUPLE, AppointmentKind.FAMILY, AppointmentKind.GROUP)
STATUSES = {
    "attended": Attendance.ATTENDED,
    "completed": Attendance.ATTENDED,
    "atendida": Attendance.ATTENDED,
    "cancelled": Attendance.CANCELLED,
    "canceled": Attendance.CANCELLED,
    "cancelada": Attendance.CANCELLED,
    "late-cancelled": Attendance.LATE_CANCELLED,
    "late_cancelled": Attendance.LATE_CANCELLED,
    "late cancelled": Attendance.LATE_CANCELLED,
    "no-show": Attendance.NO_SHOW,
    "no_show": Attendance.NO_SHOW,
    "no show": Attendance.NO_SHOW,
    "no asistio": Attendance.NO_SHOW,
    "no asistió": Attendance.NO_SHOW,
    "scheduled": Attendance.EXPECTED,
    "programada": Attendance.EXPECTED,
}
TIME_FORMATS = ("%H:%M", "%H:%M:%S")


@dataclasses.dataclass
class Line:
    """A row as read: what is known of it (None where the cell was wrong or left empty)."""

    row: int
    cells: dict[str, str]  # the row's cells as written, for messages
    therapist_id: int | None = None
    therapist_name: str = ""
    client_id: int | None = None
    client_name: str = ""
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    minutes: int | None = None
    modality: Modality | None = None
    kind: AppointmentKind | None = None
    fee: Decimal | None = None
    currency: str | None = None
    attendance: Attendance | None = None
    end_given: bool = False  # an end or a duration was written (even if wrong)
    room: int | None = None  # the id of the room the site and room columns name
    room_given: bool = False  # a site or a room was written (even if wrong)
    matched_by: str | None = None  # the key that found the client
    existing: Booked | None = None  # the appointment the client already takes part in
    seat: Seat | None = None  # ... and their participation in it
    # Who is billed, and the authorization used (`appointments.billing`); None: the client for a
    # new participant, what a booked one has otherwise.
    billing: dict | None = None

    @property
    def live(self) -> bool:
        return self.attendance not in CANCELLATIONS


def email_key(value: str) -> str:
    try:
        return values.email(value) or ""
    except values.CellError:
        return ""


def cells(rows: list[Row], name: str, key) -> set[str]:
    """The distinct values of a column, as `key` normalises them (each written value once)."""
    return {key(value) for value in {row.values.get(name, "") for row in rows}} - {""}


def cell_parsers() -> dict:
    """A parser per column, each remembering its answers for one file: an export repeats the
    same emails, times, fees and words on thousands of rows, and parsing a date is not free."""
    cache = functools.lru_cache(maxsize=None)
    return {
        "client_national_id": matching.parse_national_id,
        "client_number": matching.parse_client_number,
        "client_email": cache(values.email),
        "therapist_email": cache(lambda value: values.email(value, is_required=True)),
        "start": cache(values.local_datetime),
        "duration_minutes": cache(lambda value: values.whole_number(value) if value else None),
        "end": cache(_end),
        "modality": cache(lambda value: values.choice(value, MODALITIES) if value else None),
        "kind": cache(lambda value: values.choice(value, KINDS) if value else None),
        "fee": cache(values.amount),
        "currency": cache(values.currency),
        "status": cache(lambda value: values.choice(_nfc(value), STATUSES) if value else None),
    }


def read_row(
    row: Row,
    therapists: dict,
    clients: matching.ClientIndex,
    keys: matching.ClientKeys | None,
    column: dict,
    result: ImportPlan,
    parsers: dict,
    sites: dict[str, SiteRooms] | None = None,
) -> Line:
    line = Line(row=row.number, cells=row.values)

    def check(name: str, *more):
        try:
            return parsers[name](row.values.get(name, ""), *more)
        except values.CellError as error:
            fail(name, error.reason)
            return None

    def fail(name: str, reason) -> None:
        result.error(row.number, column[name], reason)

    if keys is not None:
        try:
            found = matching.existing_client(clients, keys)
        except matching.MatchError as error:
            fail(matching.key_column(error.key), error.reason)
        else:
            line.client_id, line.client_name = found.client.id, found.client.full_name
            line.matched_by = found.key
    email = check("therapist_email")
    if email is not None:
        therapist = therapists.get(email)
        if therapist is None:
            fail("therapist_email", _l("no therapist has the email %(value)s", value=email))
        else:
            line.therapist_id, line.therapist_name = therapist.id, therapist.full_name
    line.starts_at = check("start")
    line.minutes = check("duration_minutes")
    ends_at = check("end", line.starts_at)
    if line.starts_at is not None and ends_at is not None:
        if ends_at <= line.starts_at:
            fail("end", _l("the end must be after the start"))
        elif line.minutes is not None and ends_at - line.starts_at != dt.timedelta(minutes=line.minutes):
            fail(
                "end",
                _l(
                    "%(end)s does not match the duration of %(minutes)d minutes",
                    end=row.values.get("end", ""),
                    minutes=line.minutes,
                ),
            )
        else:
            line.ends_at = ends_at
    elif line.starts_at is not None and line.minutes is not None:
        line.ends_at = line.starts_at + dt.timedelta(minutes=line.minutes)
    line.end_given = bool(row.values.get("end") or row.values.get("duration_minutes"))
    line.modality = check("modality")
    line.kind = check("kind")
    line.fee = check("fee")
    line.currency = check("currency")
    line.attendance = check("status")
    _read_room(line, row, sites or {}, fail)
    return line


@dataclasses.dataclass(frozen=True)
class SiteRooms:
    """A stored site and its rooms by name folded as the rooms import folds it (case, accents and
    spacing aside)."""

    site: Site
    rooms: dict[str, Room]


def sites_by_name(session: Session, rows: list[Row]) -> dict[str, SiteRooms]:
    """The stored sites the file's site column names, with their rooms (two statements)."""
    wanted = {header_key(value) for value in {row.values.get("site", "") for row in rows}} - {""}
    if not wanted:
        return {}
    return {
        key: SiteRooms(site, {header_key(room.name): room for room in site.rooms})
        for key, site in existing_sites(session, wanted).items()
    }


def _read_room(line: Line, row: Row, sites: dict[str, SiteRooms], fail) -> None:
    """The room of an on-site row: both site and room, or neither; the room must be in use, and
    its site."""
    site_name, room_name = row.values.get("site", "").strip(), row.values.get("room", "").strip()
    if not site_name and not room_name:
        return
    line.room_given = True
    if not room_name:
        fail("room", _l("the site %(site)s is given: name its room too, or leave both empty", site=site_name))
        return
    if not site_name:
        fail("site", _l("the room %(room)s is given: name its site too, or leave both empty", room=room_name))
        return
    found = sites.get(header_key(site_name))
    if found is None:
        fail("site", _l("no site is named %(value)s", value=site_name))
        return
    if not found.site.active:
        fail("site", _l("the site %(value)s is not in use", value=found.site.name))
        return
    room = found.rooms.get(header_key(room_name))
    if room is None:
        fail("room", _l("%(site)s has no room named %(value)s", site=found.site.name, value=room_name))
        return
    if not room.active:
        fail("room", _l("%(room)s is not in use", room=f"{found.site.name} · {room.name}"))
        return
    line.room = room.id


def _nfc(value: str) -> str:
    """`asistió` typed with a combining accent is the same word."""
    return unicodedata.normalize("NFC", value)


def _end(value: str, starts_at: dt.datetime | None) -> dt.datetime | None:
    """A date and time, or a time alone meaning the local day of the start."""
    if not value:
        return None
    for pattern in TIME_FORMATS:
        try:
            clock = dt.datetime.strptime(value, pattern).time()
        except ValueError:
            continue
        if starts_at is None:
            return None  # the start's own error says what is wrong
        try:
            return from_local(dt.datetime.combine(to_local(starts_at).date(), clock))
        except RuleViolation as error:
            raise values.CellError(error.message) from None
    return values.local_datetime(value)


def therapists_by_email(session: Session, emails: set[str]) -> dict:
    found = {}
    for chunk in chunks(emails):
        query = select(Therapist.id, Therapist.full_name, Therapist.email).where(Therapist.email.in_(chunk))
        found.update((therapist.email, therapist) for therapist in session.execute(query))
    return found
