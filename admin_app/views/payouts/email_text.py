"""The practice's default payout email, one form per language (services.payouts.emails): what each
statement's email says unless staff edit it on the statement."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.form import BaseForm
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField

from admin_app.config import SUPPORTED_LOCALES
from admin_app.extensions import db
from admin_app.services.payouts import emails
from admin_app.services.platform.labels import LANGUAGES
from admin_app.views.platform.base import RoleRequired
from admin_app.views.platform.rules import commit_or_flash

PLACEHOLDER_HELP = {
    "therapist": _l("the therapist's name"),
    "month": _l("the statement's month"),
    "totals": _l("what is due to the therapist, per currency"),
    "held_sessions": _l("how many sessions are held over until paid"),
    "practice": _l("the practice's name"),
}


class EmailTextForm(BaseForm):
    subject = StringField(_l("Subject"))
    body = TextAreaField(_l("Message"), render_kw={"rows": 12})


def _form(language: str, data=None) -> EmailTextForm:
    form = EmailTextForm(data, prefix=f"{language}-")
    if data is None:
        text = emails.default_text(db.session, language)
        form.subject.data, form.body.data = text.subject, text.body
    return form


class PayoutEmailView(RoleRequired, BaseView):
    @expose("/", methods=("GET", "POST"))
    def index(self):
        forms = {language: _form(language) for language in SUPPORTED_LOCALES}
        if request.method == "POST":
            language = request.form.get("language", "")
            if language in forms and request.form.get("reset"):
                with commit_or_flash() as outcome:
                    emails.reset_default_text(db.session, language)
                if outcome.refusal is None:
                    flash(
                        gettext(
                            "The payout email in %(language)s is back to the built-in text.",
                            language=LANGUAGES[language],
                        ),
                        "success",
                    )
                    return redirect(url_for(".index"))
            elif language in forms:
                form = forms[language] = _form(language, request.form)
                with commit_or_flash(form) as outcome:
                    emails.save_default_text(db.session, language, form.subject.data, form.body.data)
                if outcome.refusal is None:
                    flash(
                        gettext("The payout email in %(language)s is saved.", language=LANGUAGES[language]), "success"
                    )
                    return redirect(url_for(".index"))
            else:
                flash(gettext("Choose a language."), "error")
        return self.render(
            "admin/payouts/payout_email.html",
            forms=forms,
            languages=LANGUAGES,
            saved=emails.saved_languages(db.session),
            placeholders=[("{" + name + "}", PLACEHOLDER_HELP[name]) for name in emails.PLACEHOLDERS],
        )
