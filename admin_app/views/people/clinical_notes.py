"""Clinical notes on the client's page: the portal's (read and write, for the client's therapists
in care now) and the staff's (read only where `STAFF_READ_CLINICAL_NOTES` allows it; otherwise a
line saying why they are not there).

Both are mixins for the client views, placed before the ModelView in the bases: each replaces the
details page so the notes are read, and their reading audited, in the same request. The rules are
in `services.people.clinical_notes`; nothing here decides who may read.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request
from flask_admin import expose
from flask_admin.babel import gettext as admin_gettext
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext
from flask_security import current_user

from admin_app.extensions import db
from admin_app.services.people import clinical_notes
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.views.platform.base import id_arg
from admin_app.views.platform.formatting import local_datetime
from admin_app.views.platform.portal import current_therapist_id

FIELD = "clinical_note"  # the textarea's name, and the field a refusal names


def _written_at(instant) -> str:
    return local_datetime(None, instant)


def _details_page(view, client, **context):
    """Flask-Admin's details page of `client`, with what the notes section needs."""
    return view.render(
        view.details_template,
        model=client,
        details_columns=view._details_columns,
        get_value=view.get_detail_value,
        return_url=get_redirect_target() or view.get_url(".index_view"),
        written_at=_written_at,
        **context,
    )


class ClinicalNotesInPortal:
    """For the portal's client view: the client's notes under their details, and a form to add one.

    A client outside the therapist's care answers 404 on both URLs, and nothing is written."""

    details_template = "portal/client_details.html"

    def _page_with_notes(self, client, *, typed: str = ""):
        try:
            notes = clinical_notes.notes_for_therapist(db.session, current_therapist_id(), client.id)
        except NotFound:
            abort(404)
        page = _details_page(
            self,
            client,
            clinical_notes=notes,
            note_form_url=self.get_url(".write_clinical_note_view", id=client.id),
            note_field=FIELD,
            note_max_length=clinical_notes.MAX_LENGTH,
            typed_note=typed,
            staff_read=clinical_notes.staff_may_read(current_app.config),
        )
        db.session.commit()  # the read's audit event
        return page

    @expose("/details/")
    def details_view(self):
        return self._page_with_notes(self.get_one(request.args.get("id")))

    @expose("/clinical-notes/", methods=("POST",))
    def write_clinical_note_view(self):
        client_id = self.get_one(id_arg("id")).id  # another therapist's client: 404 before anything is read
        typed = request.form.get(FIELD, "")
        try:
            clinical_notes.write(db.session, therapist=current_user.therapist, client_id=client_id, text=typed)
        except NotFound:
            db.session.rollback()
            abort(404)
        except RuleViolation as refusal:
            db.session.rollback()
            flash(str(refusal), "error")
            # The page again, with what was typed: a long note refused for its length is not lost.
            return self._page_with_notes(self.get_one(client_id), typed=typed)
        db.session.commit()
        flash(gettext("Clinical note saved."), "success")
        return redirect(self.get_url(".details_view", id=client_id))


class ClinicalNotesForStaff:
    """For the staff's client view: the notes when the practice's setting allows staff to read them
    (each read audited), else the line that says they are kept by the client's therapists."""

    @expose("/details/")
    def details_view(self):
        client = self.get_one(request.args.get("id"))
        if client is None:
            flash(admin_gettext("Record does not exist."), "error")
            return redirect(get_redirect_target() or self.get_url(".index_view"))
        if not clinical_notes.staff_may_read(current_app.config):
            return _details_page(self, client, clinical_notes=None, notes_withheld=clinical_notes.NOT_FOR_STAFF)
        notes = clinical_notes.notes_for_staff(db.session, client.id, current_app.config)
        page = _details_page(self, client, clinical_notes=notes)
        db.session.commit()  # the read's audit event
        return page
