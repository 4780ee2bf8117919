"""Sites and their rooms."""

from __future__ import annotations

from flask_admin.model.form import InlineFormAdmin

from admin_app.models import Room
from admin_app.views.platform.base import PracticeModelView


class SiteView(PracticeModelView):
    column_list = ("name", "address", "active")
    column_searchable_list = ("name",)
    form_columns = ("name", "address", "active")
    inline_models = (InlineFormAdmin(Room, form_columns=("id", "name", "active")),)


class RoomView(PracticeModelView):
    column_list = ("site", "name", "active")
    column_filters = ("site", "active")
    form_columns = ("site", "name", "active")
