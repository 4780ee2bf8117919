"""The room select of an on-site booking (the appointment form, the new series): the rooms in the
order `services.rooms.choices.booking_rooms` gives, asked again by room-choices.js as the form's
therapist and time change (`RoomView.booking_rooms_view`, staff only)."""

from __future__ import annotations

import datetime as dt

from flask import current_app, request, url_for

from admin_app.extensions import db
from admin_app.services.platform import bounds
from admin_app.services.rooms.choices import booking_rooms
from admin_app.views.platform.base import id_arg
from admin_app.views.platform.formatting import wall_time


def room_lookup_args(**fields: str) -> dict[str, str]:
    """What a room select tells room-choices.js: where to ask for its rooms, and the form's fields
    (CSS selectors) holding the therapist, start, end, duration and modality."""
    return {"data-rooms-url": url_for("room.booking_rooms_view"), **{f"data-{k}": v for k, v in fields.items()}}


def booking_rooms_json() -> dict:
    """The rooms for the form's therapist and times as typed (`starts_at`, then `ends_at` or
    `duration_minutes`, clinic time; `selected`: the room chosen, kept even if no longer in use)."""
    start = wall_time(request.args.get("starts_at", ""))
    end = wall_time(request.args.get("ends_at", ""))
    if start is not None and end is None:
        minutes = request.args.get("duration_minutes", type=int) or current_app.config["DEFAULT_APPOINTMENT_MINUTES"]
        if 0 < minutes <= bounds.MAX_APPOINTMENT_MINUTES:
            end = start + dt.timedelta(minutes=minutes)
    options = booking_rooms(
        db.session, therapist_id=id_arg("therapist"), start=start, end=end, selected=request.args.get("selected")
    )
    return {"rooms": [{"id": option.id, "text": option.label, "reserved": option.reserved} for option in options]}
