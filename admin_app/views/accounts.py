"""Logins: the staff manage who may sign in, with which role and language."""

from __future__ import annotations

from admin_app.views.base import PracticeModelView


class UserView(PracticeModelView):
    """Logins are created with `flask accounts ...`; here they are (de)activated and edited.

    Passwords are never shown or set here: a user sets their own through "forgot password".
    """

    can_create = False
    can_delete = False
    can_export = False
    column_list = ("email", "active", "roles", "locale", "therapist", "last_login_at")
    column_searchable_list = ("email",)
    column_filters = ("active", "roles")
    column_details_list = column_list
    form_columns = ("active", "roles", "locale")
