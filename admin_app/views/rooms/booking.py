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


def booking_span(
    start: dt.datetime | None, end: dt.datetime | None = None, minutes: int | None = None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The form's start and end as typed so far, for ordering its rooms: the end is the start plus
    the duration when none is typed; a date outside the practice's calendar, or a duration no
    appointment has, is no time yet (the form's own checks say what is wrong on saving)."""
    if start is None or bounds.date_problem(start) is not None:
        return None, None
    if end is None and minutes is not None and 0 < minutes <= bounds.MAX_APPOINTMENT_MINUTES:
        end = start + dt.timedelta(minutes=minutes)
    if end is None or bounds.date_problem(end) is not None:
        return start, None
    return start, end


def booking_rooms_json() -> dict:
    """The rooms for the form's therapist and times as typed (`starts_at`, then `ends_at` or
    `duration_minutes`, clinic time; `selected`: the room chosen, kept even if no longer in use)."""
    start, end = booking_span(
        wall_time(request.args.get("starts_at", "")),
        wall_time(request.args.get("ends_at", "")),
        request.args.get("duration_minutes", type=int) or current_app.config["DEFAULT_APPOINTMENT_MINUTES"],
    )
    options = booking_rooms(
        db.session, therapist_id=id_arg("therapist"), start=start, end=end, selected=request.args.get("selected")
    )
    return {"rooms": [{"id": option.id, "text": option.label, "reserved": option.reserved} for option in options]}
