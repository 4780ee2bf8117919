"""Sites and their rooms, and a room's week (its reservations and the appointments held in it)."""

from __future__ import annotations

import datetime as dt

from flask import abort, redirect, url_for
from flask_admin import expose
from flask_admin.model.form import InlineFormAdmin
from flask_babel import gettext
from markupsafe import Markup

from admin_app.extensions import db
from admin_app.models import Room
from admin_app.services.platform.errors import NotFound
from admin_app.services.rooms import week
from admin_app.views.platform.base import PracticeModelView, id_arg, requested_day
from admin_app.views.rooms.booking import booking_rooms_json


class SiteView(PracticeModelView):
    column_list = ("name", "address", "active")
    column_searchable_list = ("name",)
    form_columns = ("name", "address", "active")
    inline_models = (InlineFormAdmin(Room, form_columns=("id", "name", "active")),)


def _week_link(view, _context, room: Room, _name) -> Markup:
    return Markup('<a href="{}">{}</a>').format(view.get_url(".week_view", id=room.id), gettext("Week"))


class RoomView(PracticeModelView):
    column_list = ("site", "name", "active", "week")
    column_filters = ("site", "active")
    column_searchable_list = ("name", "site.name")  # "Broadway" finds Broadway's rooms
    column_formatters = {"week": _week_link}
    column_formatters_export = {"week": lambda *_args: ""}
    column_export_list = ("site", "name", "active")
    form_columns = ("site", "name", "active")

    @expose("/for-booking/")
    def booking_rooms_view(self):
        """The rooms an on-site booking offers, in order, as JSON (room-choices.js)."""
        return booking_rooms_json()

    @expose("/week/")
    def week_view(self):
        """The room's week: reservations per day and the appointments held in it (`?id=`, `?date=`)."""
        room_id = id_arg("id")
        if room_id is None:  # no room named: the list to choose one from
            return redirect(self.get_url(".index_view"))
        try:
            shown = week.room_week(db.session, room_id, requested_day())
        except NotFound:
            abort(404)
        return self.render(
            "admin/rooms/room_week.html",
            week=shown,
            previous_url=url_for(".week_view", id=room_id, date=(shown.monday - dt.timedelta(days=7)).isoformat()),
            next_url=url_for(".week_view", id=room_id, date=(shown.monday + dt.timedelta(days=7)).isoformat()),
        )
