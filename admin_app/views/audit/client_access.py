"""Who looked at this client: the client's access history (services.audit.trail), for the staff,
reached from the client's page. Only the staff's client view mixes it in: the portal has no such page."""

from __future__ import annotations

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.babel import gettext as admin_gettext

from admin_app.extensions import db
from admin_app.services.audit import trail
from admin_app.services.platform import bounds
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.platform.labels import changed_fields_label, choice_label, entity_label
from admin_app.views.audit.trail import actor_label
from admin_app.views.platform.formatting import LOCAL_FORMAT


class ClientAccessHistory:
    """Mixed into the staff's client `ModelView`: `/access/?id=<client>&page=<n>`."""

    @expose("/access/")
    def access_view(self):
        client = self.get_one(request.args.get("id"))
        if client is None:  # as Flask-Admin's own record pages answer
            flash(admin_gettext("Record does not exist."), "error")
            return redirect(self.get_url(".index_view"))
        page = request.args.get("page", "0")
        if not page.isdecimal() or int(page) > bounds.MAX_RECORD_ID:  # a page no trail reaches
            abort(404)
        history = trail.client_access_history(db.session, client_id=client.id, page=int(page))
        return self.render(
            "admin/audit/client_access.html",
            client=client,
            history=history,
            when=lambda instant: to_local(instant).strftime(LOCAL_FORMAT),
            action_label=choice_label,
            changed_fields_label=changed_fields_label,
            entity_label=entity_label,
            actor_label=actor_label,
        )
