"""Client, link, therapist and care-assignment screens for the practice staff."""

from __future__ import annotations

import re

from flask import current_app, flash, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.form import InlineModelConverter
from flask_admin.contrib.sqla.validators import Unique
from flask_admin.model.form import InlineFormAdmin
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import String, cast, or_
from sqlalchemy.orm import selectinload
from wtforms import DateField
from wtforms.validators import Optional

from admin_app.extensions import db
from admin_app.models import CareAssignment, Client, ClientLink, ReminderPreference, Therapist
from admin_app.services.accounts import invitations
from admin_app.services.people import compensation, summary
from admin_app.services.people import records as people
from admin_app.services.platform import bounds, clinic_time
from admin_app.services.platform.labels import choice_label, choices_for, field_label
from admin_app.services.platform.money import format_money
from admin_app.services.scheduling import calendar
from admin_app.views.accounts.logins import flash_bulk_invitation
from admin_app.views.audit.client_access import ClientAccessHistory
from admin_app.views.audit.reads import AuditedReads
from admin_app.views.billing.colours import ClientRowColours, authorizations_table
from admin_app.views.messaging.outbox import template_label
from admin_app.views.people.clinical_notes import ClinicalNotesForStaff
from admin_app.views.platform.base import PracticeModelView, row_action_button
from admin_app.views.platform.filters import ParticipantClientFilter
from admin_app.views.platform.formatting import money_column, percent

CLIENT_LOOKUP = {"fields": ("full_name", "client_number", "national_id"), "page_size": 10, "placeholder": "…"}
PHONE_TYPED = re.compile(r"^\+?[\d\s().-]+$")
MIN_PHONE_DIGITS = 4
THERAPIST_LOOKUP = {"fields": ("full_name", "email"), "page_size": 10, "placeholder": "…"}


class RecordLoader(QueryAjaxModelLoader):
    """A related-record lookup whose chosen id is read as a record id: text, or a number no id
    column holds, finds nothing (PostgreSQL would refuse to compare it with an integer key)."""

    def get_one(self, pk):
        key = bounds.record_id(pk)
        if key is None:
            return None
        return self.get_query().filter(self.model.id == key).one_or_none()


class ClientLoader(RecordLoader):
    """Clients found by name, number or national ID as typed, or by phone: a number typed with
    spaces, dashes or brackets ("987 654 321") is looked up by its digits in the stored E.164 form
    ("+51987654321"). Ordered by name, so a page of matches is the same page each time."""

    def get_list(self, term: str, offset: int = 0, limit: int = 10) -> list[Client]:
        matches = [cast(field, String).ilike(f"%{term}%") for field in self._cached_fields]
        digits = re.sub(r"\D", "", term)
        if PHONE_TYPED.match(term) and len(digits) >= MIN_PHONE_DIGITS:
            matches.append(Client.phone.contains(digits))
        query = self.get_query().filter(or_(*matches)).order_by(Client.full_name, Client.id)
        return query.offset(offset).limit(limit).all()


def client_loader(name: str) -> QueryAjaxModelLoader:
    return ClientLoader(name, db, Client, **CLIENT_LOOKUP)


def therapist_loader(name: str) -> QueryAjaxModelLoader:
    return RecordLoader(name, db, Therapist, **THERAPIST_LOOKUP)


def _client_therapists(_view, _context, client: Client, _name) -> Markup:
    return Markup(
        "<br>".join(
            f"{escape(a.therapist)} ({escape(choice_label(a.kind))}"
            + ("" if a.active else ", " + escape(gettext("deactivated")))
            + ")"
            for a in client.care_assignments
        )
    )


def _therapist_clients(_view, _context, therapist: Therapist, _name) -> Markup:
    return Markup("<br>".join(escape(client) for client in people.clients_in_care(db.session, therapist.id)))


class RelationInlineConverter(InlineModelConverter):
    """Inline forms for one named relationship each.

    Flask-Admin gives an inline model one form per relationship that reaches it, all with the
    same columns: `ClientLink` appears under both `links` and `linked_from`, and the second one
    asked for the wrong client. An inline that names its `relation` (and the `reverse` key on
    the inline model) gets that relationship only, with its own columns.
    """

    def _calculate_mapping_key_pair(self, model, info):
        relation = getattr(info, "relation", None)
        if relation is None:
            return super()._calculate_mapping_key_pair(model, info)
        return {relation: info.reverse}


class ClientView(AuditedReads, ClientAccessHistory, ClinicalNotesForStaff, ClientRowColours, PracticeModelView):
    details_template = "admin/client_details.html"
    prepare = staticmethod(people.prepare_client)
    ensure_deletable = staticmethod(people.ensure_client_deletable)

    column_list = (
        "client_number",
        "full_name",
        "national_id",
        "email",
        "phone",
        "preferred_language",
        "active",
        "registered_at",
    )
    column_searchable_list = ("full_name", "client_number", "national_id", "email", "phone")
    column_filters = (
        "active",
        "preferred_language",
        "reminder_preference",
        "survey_opt_out",
        "registered_at",
    )
    column_default_sort = ("full_name", False)
    column_details_list = (
        "client_number",
        "full_name",
        "national_id",
        "email",
        "phone",
        "birth_date",
        "preferred_language",
        "reminder_preference",
        "survey_opt_out",
        "active",
        "registered_at",
        "care_assignments",
        "notes",
    )
    column_formatters_detail = {"care_assignments": _client_therapists}
    form_columns = (
        "full_name",
        "client_number",
        "national_id",
        "email",
        "phone",
        "birth_date",
        "preferred_language",
        "reminder_preference",
        "survey_opt_out",
        "active",
        "notes",
    )
    # The column is NOT NULL, so Flask-Admin would require a choice; empty means the default rule.
    form_choices = {"reminder_preference": [("", "—"), *choices_for(ReminderPreference)]}
    form_args = {
        "reminder_preference": {
            "description": _l("Empty: email if there is an address, else SMS"),
            "validators": [Optional()],
            "coerce": lambda value: value or None,
        },
        "preferred_language": {"default": lambda: current_app.config["DEFAULT_LOCALE"]},
        "client_number": {"description": _l("Empty: the practice's next number")},
        "national_id": {"description": _l("Optional")},
    }
    form_widget_args = {"reminder_preference": {"required": False}}
    # A link is edited from either client: "Links" (this client is guardian of ...) and "Linked
    # from" (... is guardian of this client); people.check_client_links holds both to the rules.
    inline_model_form_converter = RelationInlineConverter
    inline_models = (
        InlineFormAdmin(
            ClientLink,
            relation="links",
            reverse="client",
            form_columns=("id", "kind", "related_client"),
            form_ajax_refs={"related_client": client_loader("links-related_client")},
        ),
        InlineFormAdmin(
            ClientLink,
            relation="linked_from",
            reverse="related_client",
            form_columns=("id", "client", "kind"),
            form_ajax_refs={"client": client_loader("linked_from-client")},
            form_args={"kind": {"description": _l("What the client above is to this client")}},
        ),
        InlineFormAdmin(
            CareAssignment,
            form_columns=("id", "therapist", "kind", "active", "started_on", "deactivated_on"),
            form_ajax_refs={"therapist": therapist_loader("care_assignments-therapist")},
        ),
    )

    record_loads = (
        selectinload(Client.links).joinedload(ClientLink.related_client),
        selectinload(Client.linked_from).joinedload(ClientLink.client),
        selectinload(Client.care_assignments).joinedload(CareAssignment.therapist),
    )
    details_loads = record_loads[2:]  # the client's page reads its links with the summary

    def render(self, template, **kwargs):
        """The details page shows the client at a glance (`services.people.summary`) around the
        record's fields: read here, so that every way to the page (the notes mixin's) shows it."""
        client = kwargs.get("model")
        if template == self.details_template and client is not None:
            found = summary.client_summary(db.session, client.id)
            kwargs.update(
                summary=found,
                authorizations=authorizations_table(found.authorizations),
                appointments_url=self._appointments_of(client),
                message_label=template_label,
                to_local=clinic_time.to_local,
            )
        return super().render(template, **kwargs)

    def _appointments_of(self, client: Client) -> str:
        """The appointment list narrowed to the client, by number (the list's ParticipantClientFilter,
        whose argument Flask-Admin numbers)."""
        [appointments] = [view for view in self.admin._views if view.endpoint == "appointment"]
        [arg] = [arg for arg, (_, flt) in appointments._filter_args.items() if isinstance(flt, ParticipantClientFilter)]
        return url_for("appointment.index_view", **{f"flt0_{arg}": client.client_number})

    def scaffold_form(self):
        """The form without Flask-Admin's "Already exists." under the national ID: the rule
        (`people.prepare_client`) refuses a taken one too, and names the client who has it."""
        form_class = super().scaffold_form()
        validators = form_class.national_id.kwargs["validators"]
        form_class.national_id.kwargs["validators"] = [v for v in validators if not isinstance(v, Unique)]
        return form_class


class ClientLinkView(PracticeModelView):
    prepare = staticmethod(people.prepare_link)
    column_list = ("client", "kind", "related_client")
    column_filters = ("kind",)
    column_searchable_list = ("client.full_name", "client.client_number", "client.national_id")
    form_columns = ("client", "kind", "related_client")
    form_ajax_refs = {
        "client": client_loader("client"),
        "related_client": client_loader("related_client"),
    }


def _calendar_feed(_view, _context, therapist: Therapist, _name) -> Markup:
    """The therapist's secret feed URL (or its absence) and a button that creates or rotates it."""
    url = calendar.calendar_feed_url(therapist)
    shown = (
        Markup('<input type="text" class="form-control" readonly id="calendar-feed-url" value="{}">').format(url)
        if url
        else escape(gettext("No calendar link yet"))
    )
    return shown + row_action_button(
        "rotate_calendar_feed", therapist.id, gettext("Create or rotate calendar link"), "btn-secondary"
    )


def _portal_login(_view, _context, therapist: Therapist, _name) -> Markup:
    """The therapist's login (or its absence) and, until they have set a password, a button that
    invites them (again) to the portal."""
    user = therapist.user
    if user is not None and user.password is not None:
        return escape(user.email)
    shown = escape(gettext("Invited, no password yet") if user else gettext("No login yet"))
    return shown + row_action_button("invite_to_portal", therapist.id, gettext("Invite to the portal"), "btn-primary")


def _compensation_history(_view, _context, therapist: Therapist, _name) -> Markup:
    """The therapist's terms, newest first: from when, which model, its value, when it was entered."""
    headings = ("effective_from", "compensation_model", "commission_percent", "service_fee", "recorded_at")
    rows = [
        (
            terms.effective_from.isoformat(),
            choice_label(terms.compensation_model),
            "" if terms.commission_percent is None else percent(terms.commission_percent / 100, "0.##"),
            "" if terms.service_fee is None else format_money(terms.service_fee, therapist.default_currency),
            clinic_time.to_local(terms.recorded_at).strftime("%Y-%m-%d %H:%M"),
        )
        for terms in compensation.history(db.session, therapist.id)
    ]
    head = Markup("").join(Markup("<th>{}</th>").format(field_label(name)) for name in headings)
    body = Markup("").join(
        Markup("<tr>{}</tr>").format(Markup("").join(Markup("<td>{}</td>").format(cell) for cell in row))
        for row in rows
    )
    return Markup('<table class="table table-sm" id="compensation-history"><tr>{}</tr>{}</table>').format(head, body)


class EffectiveDateField(DateField):
    """The day new compensation terms start (default: today, clinic time); a malformed date is
    refused with the field's name, like the other dates typed on the screens."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, default=clinic_time.today, **kwargs)

    def process_formdata(self, valuelist) -> None:
        label = field_label("effective_from")
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(
                gettext(
                    "%(field)s: expected a date as YYYY-MM-DD, got %(value)s", field=label, value=" ".join(valuelist)
                )
            ) from None
        if (reason := bounds.date_problem(self.data)) is not None:
            self.data = None
            raise ValueError(gettext("%(field)s: %(reason)s", field=label, reason=reason))


class TherapistView(PracticeModelView):
    prepare = staticmethod(people.prepare_therapist)
    ensure_deletable = staticmethod(people.ensure_therapist_deletable)

    column_list = (
        "full_name",
        "designation",
        "registration_number",
        "email",
        "compensation_model",
        "commission_percent",
        "service_fee",
        "default_fee",
        "default_currency",
        "site",
        "active",
    )
    column_searchable_list = ("full_name", "email", "phone", "registration_number")
    column_filters = ("active", "compensation_model", "default_currency", "site")
    column_default_sort = ("full_name", False)
    column_details_list = (
        *column_list,
        "registration_body",
        "provisional",
        "supervisor",
        "compensation_terms",
        "phone",
        "user",
        "care_assignments",
        "calendar_feed",
    )
    # A service fee is kept from fees in the therapist's currency; exports keep plain numbers.
    column_formatters = {name: money_column("default_currency") for name in ("service_fee", "default_fee")}
    column_formatters_export = {}
    column_formatters_detail = {
        **column_formatters,
        "compensation_terms": _compensation_history,
        "care_assignments": _therapist_clients,
        "calendar_feed": _calendar_feed,
        "user": _portal_login,
    }
    column_labels = {
        **PracticeModelView.column_labels,
        "care_assignments": PracticeModelView.column_labels["clients"],
    }
    form_columns = (
        "full_name",
        "email",
        "phone",
        "designation",
        "registration_number",
        "registration_body",
        "provisional",
        "supervisor",
        "compensation_model",
        "commission_percent",
        "service_fee",
        "effective_from",
        "default_fee",
        "default_currency",
        "site",
        "active",
    )
    form_ajax_refs = {"supervisor": therapist_loader("supervisor")}
    form_extra_fields = {
        "effective_from": EffectiveDateField(
            _l("Effective from"),
            validators=[Optional()],
            description=_l("A changed commission or service fee applies to sessions from this day (clinic time)"),
        )
    }

    def create_form(self, obj=None):
        """A new therapist's terms start with them: only a change asks from when."""
        form = super().create_form(obj)
        del form.effective_from
        return form

    def on_model_change(self, form, model, is_created) -> None:
        super().on_model_change(form, model, is_created)
        effective_from = None if is_created else form.effective_from.data
        self._run_rule(
            lambda session, therapist: compensation.keep_terms(session, therapist, effective_from=effective_from),
            model,
            form,
        )

    @action(
        "rotate_calendar_feed",
        _l("Create or rotate calendar link"),
        _l("Calendar links the selected therapists already have will stop working. Continue?"),
    )
    def action_rotate_calendar_feed(self, ids):
        keys = [int(i) for i in ids if str(i).isdigit()]
        therapists = self.get_query().filter(Therapist.id.in_(keys)).all() if keys else []
        for therapist in therapists:
            calendar.rotate_calendar_feed(db.session, therapist)
        db.session.commit()
        flash(
            ngettext(
                "%(num)d calendar link created or rotated.",
                "%(num)d calendar links created or rotated.",
                len(therapists),
            ),
            "success",
        )

    @action(
        "invite_to_portal",
        _l("Invite to the portal"),
        _l("Each selected therapist without a login gets an email to choose a password. Continue?"),
    )
    def action_invite_to_portal(self, ids):
        outcome = invitations.invite_therapists(db.session, [int(i) for i in ids if str(i).isdigit()])
        db.session.commit()  # the emails are dispatched once this commits
        flash_bulk_invitation(outcome)


class CareAssignmentView(PracticeModelView):
    column_list = ("client", "therapist", "kind", "active", "started_on", "deactivated_on")
    column_filters = ("active", "kind", "therapist")
    column_searchable_list = ("client.full_name", "client.client_number", "client.national_id")
    form_columns = ("client", "therapist", "kind", "active", "started_on", "deactivated_on")
    form_ajax_refs = {"client": client_loader("client"), "therapist": therapist_loader("therapist")}
