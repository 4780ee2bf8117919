"""What every back-office screen shares: who may see it, how values look, how rules surface."""

from __future__ import annotations

import datetime as dt
import enum
import unicodedata
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, redirect, request, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.model.form import InlineFormAdmin
from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l
from flask_security import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import Enum as SAEnum
from sqlalchemy.exc import DBAPIError
from wtforms.validators import ValidationError

from admin_app.extensions import db
from admin_app.models import ADMIN_ROLE
from admin_app.services.platform import bounds, clinic_time, races
from admin_app.services.platform.bounds import calendar_day
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import CHOICES, FIELDS, LANGUAGES, choices_for
from admin_app.views.platform.counting import CountsOnDemand
from admin_app.views.platform.exports import StreamedExport
from admin_app.views.platform.filters import PracticeFilterConverter, bounded_filter
from admin_app.views.platform.formatting import (
    DETAIL_FORMATTERS,
    EXPORT_FORMATTERS,
    LIST_FORMATTERS,
    ModelConverter,
    wall_time,
)
from admin_app.views.platform.keyset import KeysetPages
from admin_app.views.platform.row_actions import once_per_page
from admin_app.views.platform.search import SearchInBody

CURRENCY_FIELDS = ("currency", "default_currency")
T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)
LANGUAGE_FIELDS = ("preferred_language", "locale")


def id_arg(name: str) -> int | None:
    """A record id from the query string; None when absent or not an id a record can have."""
    return bounds.record_id(request.args.get(name))


def instant_arg(name: str) -> dt.datetime | None:
    """A clinic time from the query string (the reader's format or ISO, `YYYY-MM-DDTHH:MM`) as an
    instant; None when absent, or when it is no time the practice's calendar has (a date out of its
    range, a time a daylight-saving jump skips: the form says why on saving)."""
    local = wall_time(request.args.get(name, ""))
    if local is None or bounds.date_problem(local) is not None:
        return None
    try:
        return clinic_time.from_local(local)
    except RuleViolation:
        return None


def local_path(target: str | None) -> str | None:
    r"""A path of this site to go back to (a form's `next`); None for anything else, so a posted
    value can never make an open redirect. Browsers drop tabs and newlines inside a URL and read a
    backslash as a slash, so `/<tab>/host`, `/\host` and `//host` all lead off-site: a path with a
    control or invisible character or a backslash is refused, as is one naming a scheme or a host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(unicodedata.category(char)[0] in "CZ" and char != " " for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def requested_day(name: str = "date") -> dt.date:
    """The clinic date the query string's `name` gives (YYYY-MM-DD); today when absent, and today
    after showing why when it is no date the calendar holds."""
    raw = request.args.get(name, "")
    if not raw:
        return clinic_time.today()
    try:
        return calendar_day(raw)
    except ValueError:
        # str(): a lazy string reaches the session as safe HTML, and `raw` is what the visitor typed.
        message = _l("%(field)s: expected a date as YYYY-MM-DD, got %(value)s", field=_l("Date"), value=raw)
        flash(str(message), "error")
        return clinic_time.today()


def parsed_arg(name: str, parse: Callable[[str], T], *, default: T, refused: T | None = None) -> T | None:
    """The query string's `name` read by `parse`: `default` when absent; `refused`, after showing the
    rule, when `parse` refuses it (a wrong value in a link never breaks the page)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except RuleViolation as error:
        flash(str(error), "error")  # plain text: a lazy string would be stored as markup
        return refused


def choice_of(enum_class: type[E], label) -> Callable[[str], E]:
    """A `parsed_arg` reader of one of `enum_class`'s values; any other is refused, naming the field."""

    def parse(text: str) -> E:
        try:
            return enum_class(text)
        except ValueError:
            raise RuleViolation(gettext("%(field)s: not a valid choice.", field=label)) from None

    return parse


def row_action_button(action: str, row_id: int, label: str, style: str) -> Markup:
    """A details-page button that runs one of the list's actions on this record (a POST with CSRF)."""
    return Markup(
        '<form method="post" action="{action_url}" class="mt-2">'
        '<input type="hidden" name="csrf_token" value="{csrf}">'
        '<input type="hidden" name="action" value="{action}">'
        '<input type="hidden" name="rowid" value="{id}">'
        '<input type="hidden" name="url" value="{back}">'
        '<button type="submit" class="btn {style} btn-sm">{label}</button>'
        "</form>"
    ).format(
        action_url=url_for(".action_view"),
        csrf=generate_csrf(),
        action=action,
        id=row_id,
        back=request.full_path,
        style=style,
        label=label,
    )


class RoleRequired:
    """Anonymous visitors go to the login page; signed-in users without the role get 403."""

    required_role = ADMIN_ROLE

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.active and current_user.has_role(self.required_role)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            # Only the path: a query string may carry search terms (client names).
            return redirect(url_for("security.login", next=request.path))
        abort(403)


class PracticeModelView(SearchInBody, CountsOnDemand, KeysetPages, StreamedExport, RoleRequired, ModelView):
    """A Flask-Admin screen whose saves and deletes go through a service rule.

    `prepare` (session, model) normalises and checks a record before it is saved;
    `ensure_deletable` (session, model) refuses a delete that history depends on. Both raise
    `RuleViolation`, shown to the user as a message; the transaction is rolled back.
    """

    prepare = None
    ensure_deletable = None
    # Loader options for the one record of the details and edit pages: the collections they show
    # (an inline form's rows and what each row names), so a record with many rows costs no query per row.
    record_loads = ()
    # The details page's, where it shows fewer collections than the edit page (None: `record_loads`).
    details_loads = None

    model_form_converter = ModelConverter
    filter_converter = PracticeFilterConverter()
    column_type_formatters = LIST_FORMATTERS
    column_type_formatters_export = EXPORT_FORMATTERS
    column_type_formatters_detail = DETAIL_FORMATTERS
    column_labels = FIELDS
    can_view_details = True
    can_export = True
    export_types = ["csv", "xlsx"]
    page_size = 50
    can_set_page_size = True
    list_template = "admin/practice_list.html"
    create_modal = False
    edit_modal = False

    def __init__(self, model, *, settings: dict, **kwargs) -> None:
        self.form_choices = {**self._choices(model, settings), **(self.form_choices or {})}
        self.inline_models = tuple(self._localised_inline(inline, settings) for inline in self.inline_models or ())
        super().__init__(model, db, **kwargs)

    @classmethod
    def _localised_inline(cls, inline: InlineFormAdmin, settings: dict) -> InlineFormAdmin:
        """A copy of an inline form with the same labels and choices as a full screen."""
        options = {key: value for key, value in vars(inline).items() if not key.startswith("_") and key != "model"}
        options["form_choices"] = {**cls._choices(inline.model, settings), **(options.get("form_choices") or {})}
        options.setdefault("column_labels", FIELDS)
        return InlineFormAdmin(inline.model, **options)

    @staticmethod
    def _choices(model, settings: dict) -> dict:
        choices = {}
        for column in model.__table__.columns:
            enum_class = getattr(column.type, "enum_class", None)
            if isinstance(column.type, SAEnum) and enum_class in CHOICES:
                choices[column.key] = choices_for(enum_class)
            elif column.key in CURRENCY_FIELDS:
                choices[column.key] = [(code, code) for code in settings["CURRENCIES"]]
            elif column.key in LANGUAGE_FIELDS:
                choices[column.key] = list(LANGUAGES.items())
        return choices

    def _run_rule(self, rule, model, form=None) -> None:
        """Run a service rule; its refusal is flashed, and shown under the field it names too, so
        the form comes back with what was typed and the reason beside it."""
        if rule is None:
            return
        try:
            rule(db.session, model)
        except RuleViolation as error:
            if form is not None and error.field and error.field in form:
                form[error.field].errors.append(str(error))
            raise ValidationError(str(error)) from None

    def on_model_change(self, form, model, is_created) -> None:
        # The bounds of every typed value first (the inline rows too), then the screen's own rule.
        self._run_rule(lambda session, _model: bounds.check_changed_records(session), model, form)
        self._run_rule(type(self).prepare, model, form)

    def on_model_delete(self, model) -> None:
        self._run_rule(type(self).ensure_deletable, model)

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, RuleViolation):
            flash(str(exc), "error")
            return True
        if isinstance(exc, DBAPIError) and (refusal := races.refusal(exc)) is not None:
            # A race met at commit (the overlap guard, a unique key): never show SQL, it can
            # carry client data; the service rules catch the known cases before.
            flash(str(refusal), "error")
            return True
        return super().handle_view_exception(exc)

    def get_one(self, id):
        """Fetch through `get_query`, so a row filter also covers details, edit and delete; an id
        no column can hold (text, a 20-digit number) is simply not found."""
        pk = self.model.__mapper__.primary_key[0]
        key = bounds.record_id(id)
        if key is None:
            return None
        loads = self.record_loads
        if self.details_loads is not None and request.endpoint == f"{self.endpoint}.details_view":
            loads = self.details_loads
        return self.get_query().options(*loads).filter(pk == key).one_or_none()

    @action(*ModelView.action_delete._action)
    def action_delete(self, ids):
        """Flask-Admin passes the selected ids as text, which PostgreSQL will not compare with an
        integer key (flask-admin#2951): hand it numbers (those an id can be)."""
        return super().action_delete([key for key in map(bounds.record_id, ids) if key is not None])

    def scaffold_filters(self, name):
        """A filter on a related record's column ("payer", "client.full_name") is named "Payer / Name"
        in the reader's language: Flask-Admin joins the two labels once, in English, when the app starts."""
        filters = super().scaffold_filters(name)
        relation = name.partition(".")[0] if isinstance(name, str) else None
        if relation in self.model.__mapper__.relationships:
            for flt in filters or ():
                column = getattr(flt, "column", None)
                if column is not None and " / " in str(flt.name):  # not one named in column_labels
                    flt.name = LazyString(
                        lambda key=column.key: f"{self.get_column_name(relation)} / {self.get_column_name(key)}"
                    )
        return filters

    def get_filters(self):
        """Every list filter refuses (with Flask-Admin's "invalid filter value" message) a value
        the database cannot compare: a number beyond its column, a date beyond the calendar."""
        return [bounded_filter(flt) for flt in super().get_filters() or ()] or None

    def _get_list_extra_args(self):
        """A page beyond any list is not found (its offset would overflow the query); an odd
        search loses what no database column can hold."""
        view_args = super()._get_list_extra_args()
        if view_args.page is not None and not 0 <= view_args.page <= bounds.MAX_RECORD_ID:
            abort(404)
        if view_args.search:
            view_args.search = view_args.search.replace("\x00", "")
        return view_args

    def get_list_row_actions(self):
        return once_per_page(super().get_list_row_actions(), self._primary_key)

    def row_class(self, record) -> str:
        """CSS classes of a record's row (`admin/status_list.html`): a colour for its state."""
        return ""

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """The page's records, and what their cells show beyond them (`rows_loaded`)."""
        count, data = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=execute, page_size=page_size
        )
        if execute:
            self.rows_loaded(db.session, data)
        return count, data
