"""The room use report as a file (`flask report rooms`): a month's figures (`room_use`) as JSON or CSV.

JSON: `{"month", "timezone", "rooms": [{"site", "room", "reserved_hours", "used_hours", "use"}],
"therapists": [{"email", "name", "reserved_hours", "used_hours", "unreserved_hours", "use"}]}`; hours
are numbers with two decimals, use a fraction with three decimals, null when nothing is reserved.
Rooms by site and room, therapists by name: each one that reserved something or was used on site.

CSV: the same rows in one table with a `kind` column, `room` rows first then `therapist` rows;
a cell a kind does not have (a room's email, a room's unreserved hours) is empty, as is the use
of a row with nothing reserved. The files name therapists and how they use their rooms, so each is
recorded in the audit trail as an export.
"""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy.orm import Session

from admin_app.models import RoomReservation
from admin_app.services.platform import documents
from admin_app.services.platform.months import Month
from admin_app.services.rooms.room_use import room_use

CSV_COLUMNS = (
    "month",
    "kind",
    "site",
    "room",
    "email",
    "name",
    "reserved_hours",
    "used_hours",
    "unreserved_hours",
    "use",
)
EXPORT = documents.Export(f"{RoomReservation.__tablename__}:use")


def room_use_report(session: Session, month: Month) -> dict:
    """The month's room use as a JSON-ready dict (the module docstring has its shape)."""
    use = room_use(session, month)
    return {
        "month": str(month),
        "timezone": use.timezone,
        "rooms": [
            {
                "site": line.site,
                "room": line.room,
                "reserved_hours": float(line.figures.reserved_hours),
                "used_hours": float(line.figures.used_hours),
                "use": _number(line.figures.use),
            }
            for line in use.total.rooms
        ],
        "therapists": [
            {
                "email": line.email,
                "name": line.name,
                "reserved_hours": float(line.figures.reserved_hours),
                "used_hours": float(line.figures.used_hours),
                "unreserved_hours": float(line.figures.unreserved_hours),
                "use": _number(line.figures.use),
            }
            for line in use.total.therapists
        ],
    }


def room_use_json(session: Session, month: Month) -> documents.Document:
    text = json.dumps(room_use_report(session, month), ensure_ascii=False, indent=2) + "\n"
    return documents.text_document(
        session, text, mimetype="application/json", filename=_name(month, "json"), export=EXPORT
    )


def room_use_csv(session: Session, month: Month) -> documents.Document:
    """The same rows as the JSON in one table (the module docstring says how)."""
    use = room_use(session, month).total
    rows = [
        (
            str(month),
            "room",
            line.site,
            line.room,
            None,
            None,
            line.figures.reserved_hours,
            line.figures.used_hours,
            None,
            line.figures.use,
        )
        for line in use.rooms
    ] + [
        (
            str(month),
            "therapist",
            None,
            None,
            line.email,
            line.name,
            line.figures.reserved_hours,
            line.figures.used_hours,
            line.figures.unreserved_hours,
            line.figures.use,
        )
        for line in use.therapists
    ]
    return documents.csv_document(session, CSV_COLUMNS, rows, filename=_name(month, "csv"), export=EXPORT)


def _number(fraction: Decimal | None) -> float | None:
    return None if fraction is None else float(fraction)


def _name(month: Month, extension: str) -> str:
    return documents.file_name("room-use", str(month), extension=extension)
