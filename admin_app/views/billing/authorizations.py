"""Authorizations for the staff: the list with its counts and status (coloured rows), the form with
the approval letter, and the extension: *Request extension*, *Record extension*, *Close*.

The counts and the status are never typed: every page (and every batch of an export) reads them for
all its rows in one query (`services.billing.authorizations.authorization_rows`). The rules are in
`services.billing.extensions` and `services.billing.letters`; these screens only call them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_admin.form import BaseForm
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import DateField, DecimalField, FileField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, Optional

from admin_app.extensions import db
from admin_app.models import Authorization
from admin_app.services.billing import extensions, letters
from admin_app.services.billing.authorizations import AuthorizationRow, AuthorizationStatus, with_status
from admin_app.services.platform import bounds
from admin_app.services.platform.documents import Document
from admin_app.services.platform.errors import NotFound
from admin_app.services.platform.labels import AUTHORIZATION_STATUSES, FIELDS, field_label
from admin_app.views.billing.colours import COUNT_COLUMNS, row_class, rows_by_id, status_label
from admin_app.views.people.records import client_loader, therapist_loader
from admin_app.views.platform.base import PracticeModelView, row_action_button
from admin_app.views.platform.downloads import attachment
from admin_app.views.platform.filters import LiveOptions
from admin_app.views.platform.rules import commit_or_flash

LIST_COLUMNS = ("client", "payer", "reference", *COUNT_COLUMNS, "valid_from", "valid_until", "status")
SEARCHABLE = ("client.full_name", "client.client_number", "client.national_id", "reference")
MAX_APPROVED = 10_000


def _count_cell(name: str):
    def cell(view, _context, authorization: Authorization, _name):
        return getattr(view.counted(authorization).counts, name)

    return cell


def _status_cell(view, _context, authorization: Authorization, _name) -> str:
    return status_label(view.counted(authorization).status)


def _letter_cell(view, _context, authorization: Authorization, _name) -> Markup | str:
    if not authorization.letter_key:
        return ""
    return Markup('<a href="{}" id="letter-link">{}</a>').format(
        url_for(".letter_view", id=authorization.id), authorization.letter_name or gettext("Approval letter")
    )


COUNTED_FORMATTERS = {
    **{name: _count_cell(name) for name in COUNT_COLUMNS},
    "status": _status_cell,
    "letter": _letter_cell,
}


def _next_steps(view, _context, authorization: Authorization, _name) -> Markup:
    return Markup("").join(view._buttons(authorization))


class StatusFilter(BaseSQLAFilter):
    """Authorizations in one status. The status is no column: the database works it out by the one
    rule (`status_case`) over every authorization's counts, in a subquery of the list's."""

    def __init__(self, name) -> None:
        super().__init__(
            Authorization.id,
            name,
            options=LiveOptions(lambda: [(value, str(label)) for value, label in AUTHORIZATION_STATUSES.items()]),
        )

    def validate(self, value) -> bool:
        return value in AUTHORIZATION_STATUSES

    def apply(self, query, value, alias=None):
        return query.filter(Authorization.id.in_(with_status(value)))

    def operation(self):
        return _l("is")


class CountedAuthorizations:
    """Mixed into a list of authorizations (staff and portal): each page's counts and status read in
    one query, rows coloured by status, the letter download and *Request extension*."""

    list_template = "admin/status_list.html"
    column_list = LIST_COLUMNS
    column_searchable_list = SEARCHABLE
    # The search box names what it searches.
    column_labels = {
        **FIELDS,
        "client.full_name": FIELDS["client"],
        "client.client_number": FIELDS["client_number"],
        "client.national_id": FIELDS["national_id"],
    }
    column_filters = ("payer", StatusFilter(field_label("status")), "valid_until")
    column_default_sort = ("valid_until", True)  # the current ones first, the long expired last
    column_formatters = COUNTED_FORMATTERS
    column_formatters_export = {name: _count_cell(name) for name in COUNT_COLUMNS} | {"status": _status_cell}
    column_formatters_detail = {**COUNTED_FORMATTERS, "next_steps": _next_steps}

    def rows_loaded(self, session, records) -> None:
        g.authorization_rows = rows_by_id(session, [record.id for record in records])

    def counted(self, authorization: Authorization) -> AuthorizationRow:
        """The record's counts and status: from its page, else (a details page) read for it alone."""
        rows = g.setdefault("authorization_rows", {})
        if authorization.id not in rows:
            rows.update(rows_by_id(db.session, [authorization.id]))
        return rows[authorization.id]

    def row_class(self, authorization: Authorization) -> str:
        return row_class(self.counted(authorization).status)

    def _change_each(self, ids, change: Callable, done: Callable[[int], str]) -> None:
        """Apply a service change to the selected authorizations this user may see, all or none."""
        keys = [key for key in map(bounds.record_id, ids) if key is not None]
        found = [a.id for a in self.get_query().filter(Authorization.id.in_(keys))] if keys else []
        with commit_or_flash() as outcome:
            for authorization_id in found:
                change(db.session, authorization_id)
        if outcome.refusal is None:
            flash(done(len(found)), "success")

    @action(
        "request_extension",
        _l("Request extension"),
        _l("The documents for an extension were sent to the payer. Continue?"),
    )
    def action_request_extension(self, ids):
        self._change_each(
            ids,
            extensions.request_extension,
            lambda num: ngettext(
                "Extension requested for %(num)d authorization.", "Extension requested for %(num)d authorizations.", num
            ),
        )

    def _requested(self) -> Authorization | None:
        """The authorization `?id=` names: None when it names none; 404 when this user cannot see it
        (or it does not exist)."""
        if not request.args.get("id"):
            return None
        authorization = self.get_one(request.args["id"])
        if authorization is None:
            abort(404)
        return authorization

    @expose("/letter/")
    def letter_view(self):
        """The approval letter, for whoever may see the authorization (a view of protected data,
        recorded in the audit trail); anyone else gets 404."""
        authorization = self._requested()
        if authorization is None:
            return redirect(self.get_url(".index_view"))
        try:
            letter = letters.read(db.session, authorization)
        except NotFound:
            abort(404)
        db.session.commit()
        return attachment(Document(letter.content, letter.mimetype, letter.filename))

    def _buttons(self, authorization: Authorization) -> list[Markup]:
        status = self.counted(authorization).status
        if status in (AuthorizationStatus.CLOSED, AuthorizationStatus.EXTENSION_REQUESTED):
            return []
        return [row_action_button("request_extension", authorization.id, gettext("Request extension"), "btn-primary")]


class LetterField(FileField):
    """The approval letter's upload: kept by `services.billing.letters`, never copied onto the record."""

    def populate_obj(self, obj, name) -> None:
        pass


class ExtensionForm(BaseForm):
    """What the payer approved in the extension; its client, payer, therapist, currency and start
    come from the authorization it extends."""

    reference = StringField(field_label("reference"), validators=[InputRequired()])
    approved_sessions = IntegerField(
        field_label("approved_sessions"), validators=[InputRequired(), NumberRange(1, MAX_APPROVED)]
    )
    valid_until = DateField(field_label("valid_until"), validators=[InputRequired()])
    rate = DecimalField(
        field_label("rate"), places=2, validators=[Optional()], description=_l("Empty: the rate of the one it extends")
    )
    notes = TextAreaField(field_label("notes"), validators=[Optional()])


class AuthorizationView(CountedAuthorizations, PracticeModelView):
    prepare = staticmethod(extensions.save_authorization)
    column_details_list = (
        *LIST_COLUMNS,
        "rate",
        "currency",
        "therapist",
        "extends",
        "extension_requested_at",
        "closed_at",
        "notes",
        "letter",
        "next_steps",
    )
    form_columns = (
        "client",
        "payer",
        "reference",
        "approved_sessions",
        "valid_from",
        "valid_until",
        "rate",
        "currency",
        "therapist",
        "notes",
        "letter",
    )
    form_extra_fields = {
        "letter": LetterField(field_label("letter"), description=_l("PDF, PNG or JPEG, at most 10 MB"))
    }
    form_ajax_refs = {"client": client_loader("client"), "therapist": therapist_loader("therapist")}
    form_args = {
        "currency": {"validators": [Optional()], "coerce": lambda value: value or None},
        "approved_sessions": {"validators": [InputRequired(), NumberRange(1, MAX_APPROVED)]},
    }
    form_widget_args = {"currency": {"required": False}}
    can_delete = False  # participants link to it: close it instead

    def __init__(self, model, *, settings: dict, **kwargs) -> None:
        # The currency goes with a rate only: empty is a choice.
        self.form_choices = {"currency": [("", "—"), *((code, code) for code in settings["CURRENCIES"])]}
        super().__init__(model, settings=settings, **kwargs)

    def on_model_change(self, form, model, is_created) -> None:
        super().on_model_change(form, model, is_created)
        upload = form.letter.data
        if upload is not None and getattr(upload, "filename", None):
            self._run_rule(partial(self._keep_letter, upload=upload), model, form)

    @staticmethod
    def _keep_letter(_session, authorization: Authorization, *, upload) -> None:
        content = upload.read(letters.MAX_LETTER_BYTES + 1)  # one byte over is enough to refuse it
        g.replaced_letter = letters.keep(authorization, content, upload.filename)
        g.kept_letter = authorization.letter_key

    def after_model_change(self, form, model, is_created) -> None:
        """The replaced letter's file goes once the new one is committed."""
        g.pop("kept_letter", None)
        letters.discard(g.pop("replaced_letter", None))

    def create_model(self, form):
        return self._discard_kept_unless(super().create_model(form))

    def update_model(self, form, model):
        return self._discard_kept_unless(super().update_model(form, model))

    @staticmethod
    def _discard_kept_unless(saved):
        """A save that did not commit keeps the letter it had: the file just kept goes."""
        if not saved:
            letters.discard(g.pop("kept_letter", None))
        return saved

    @action("close", _l("Close"), _l("Closed authorizations take no more sessions. Continue?"))
    def action_close(self, ids):
        self._change_each(
            ids,
            extensions.close,
            lambda num: ngettext("%(num)d authorization closed.", "%(num)d authorizations closed.", num),
        )

    def _buttons(self, authorization: Authorization) -> list[Markup]:
        buttons = super()._buttons(authorization)
        if authorization.closed_at is None:
            buttons.append(
                Markup('<a class="btn btn-secondary btn-sm mt-2" id="record-extension" href="{}">{}</a>').format(
                    url_for(".record_extension_view", id=authorization.id), gettext("Record extension")
                )
            )
            buttons.append(row_action_button("close", authorization.id, gettext("Close"), "btn-outline-danger"))
        return buttons

    @expose("/extend/", methods=("GET", "POST"))
    def record_extension_view(self):
        authorization = self._requested()
        if authorization is None:
            return redirect(self.get_url(".index_view"))
        form = ExtensionForm(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            with commit_or_flash(form) as outcome:
                extension = extensions.record_extension(
                    db.session,
                    authorization.id,
                    reference=form.reference.data,
                    approved_sessions=form.approved_sessions.data,
                    valid_until=form.valid_until.data,
                    rate=form.rate.data,
                    notes=form.notes.data or None,
                )
            if outcome.refusal is None:
                flash(
                    gettext(
                        "Extension %(extension)s recorded, from %(start)s to %(end)s.",
                        extension=str(extension),
                        start=extension.valid_from.isoformat(),
                        end=extension.valid_until.isoformat(),
                    ),
                    "success",
                )
                return redirect(self.get_url(".details_view", id=extension.id))
        return self.render(
            "admin/billing/record_extension.html",
            form=form,
            authorization=authorization,
            starts_on=authorization.valid_until + dt.timedelta(days=1),
        )
