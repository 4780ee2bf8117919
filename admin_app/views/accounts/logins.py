"""Logins: the staff invite staff and therapists, and manage who may sign in, with which role
and language.

Nobody types a password for someone else: *Create* invites (services.invitations.invite_login), and
the invitee chooses their password from the emailed link. Passwords are never shown or set here.
"""

from __future__ import annotations

from flask import current_app, flash
from flask_admin.actions import action
from flask_admin.form import BaseForm
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField
from wtforms.validators import Optional

from admin_app.extensions import db
from admin_app.models import ADMIN_ROLE, THERAPIST_ROLE, User
from admin_app.services.accounts import invitations, second_factor
from admin_app.services.people.choices import therapist_choices
from admin_app.services.platform.labels import LANGUAGES
from admin_app.views.platform.base import PracticeModelView
from admin_app.views.platform.rules import commit_or_flash

ROLE_CHOICES = [(ADMIN_ROLE, _l("Practice staff")), (THERAPIST_ROLE, _l("Therapist"))]


class InviteForm(BaseForm):
    email = EmailField(
        _l("Email"),
        validators=[Optional()],
        description=_l("For a therapist: their record's email, or leave empty and choose the therapist."),
    )
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=ADMIN_ROLE)
    therapist = SelectField(
        _l("Therapist"),
        coerce=lambda value: int(value) if value else None,
        validators=[Optional()],
        description=_l("Only for a therapist login: the therapists without a login."),
    )
    locale = SelectField(_l("Language"), choices=list(LANGUAGES.items()))


def _login_state(_view, _context, user: User, _name) -> str:
    if user.password is None:
        return gettext("Invited, no password yet")
    if second_factor.has_second_factor(user):
        return gettext("Password and second factor")
    return gettext("Password set")


class UserView(PracticeModelView):
    can_create = True
    can_delete = False
    can_export = False
    column_list = ("email", "active", "roles", "locale", "therapist", "password", "last_login_at")
    column_labels = {**PracticeModelView.column_labels, "password": _l("Sign-in")}
    column_formatters = {"password": _login_state}
    column_sortable_list = ("email", "active", "locale", "last_login_at")
    column_searchable_list = ("email",)
    column_filters = ("active", "roles")
    column_details_list = column_list
    column_formatters_detail = column_formatters
    form_columns = ("active", "roles", "locale")

    def get_create_form(self):
        return InviteForm

    def create_form(self, obj=None):
        form = super().create_form(obj)
        therapists = therapist_choices(db.session, selected=form.therapist.data, without_login=True)
        form.therapist.choices = [("", "—"), *((str(id_), name) for id_, name in therapists)]
        if not form.locale.data:
            form.locale.data = current_app.config["DEFAULT_LOCALE"]
        return form

    def create_model(self, form):
        with commit_or_flash(form) as outcome:  # the email is dispatched once this commits
            invitation = invitations.invite_login(
                db.session,
                role=form.role.data,
                email=form.email.data,
                therapist_id=form.therapist.data,
                locale=form.locale.data,
            )
        if outcome.refusal:
            return False
        _flash_invited([invitation.user.email])
        return invitation.user

    @action(
        "send_invitation_again",
        _l("Send a new invitation"),
        _l("The links already sent to the selected logins will stop working. Continue?"),
    )
    def action_send_invitation_again(self, ids):
        outcome = invitations.reinvite_logins(db.session, [int(i) for i in ids if str(i).isdigit()])
        db.session.commit()  # the emails are dispatched once this commits
        flash_bulk_invitation(outcome)

    @action(
        "reset_second_factor",
        _l("Reset the second factor"),
        _l(
            "The selected logins' authenticator and recovery codes will stop working; they sign in with their "
            "password and set up a new one if they must have it. Each is told by email. Continue?"
        ),
    )
    def action_reset_second_factor(self, ids):
        outcome = second_factor.reset_second_factors(db.session, [int(i) for i in ids if str(i).isdigit()])
        db.session.commit()  # the emails are dispatched once this commits
        if outcome.reset:
            flash(gettext("Second factor reset for %(who)s.", who=", ".join(outcome.reset)), "success")
        if outcome.skipped:
            flash(gettext("No second factor to reset: %(who)s.", who=", ".join(outcome.skipped)), "warning")


def flash_bulk_invitation(outcome: invitations.BulkInvitation) -> None:
    """Who was invited, and each one skipped with the reason."""
    if outcome.invited:
        _flash_invited(outcome.invited)
    if outcome.skipped:
        flash(
            gettext("Not invited: %(reasons)s", reasons=" ".join(reason for _who, reason in outcome.skipped)),
            "warning",
        )


def _flash_invited(who: list[str]) -> None:
    flash(
        ngettext(
            "Invitation sent to %(who)s: the link to choose a password works for %(days)s days.",
            "%(num)d invitations sent (%(who)s): the links to choose a password work for %(days)s days.",
            len(who),
            who=", ".join(who),
            days=current_app.config["INVITATION_VALID_DAYS"],
        ),
        "success",
    )
