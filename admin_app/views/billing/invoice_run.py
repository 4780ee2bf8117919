"""The invoice run screen: drafts for the uninvoiced charges up to a date, of one payer, of the
self-paying clients, or all (services.billing.invoice_run, the same run as `flask billing invoice-run`)."""

from __future__ import annotations

from flask import request, url_for
from flask_admin import BaseView, expose
from flask_admin.form import BaseForm
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import DateField, SelectField
from wtforms.validators import InputRequired

from admin_app.extensions import db
from admin_app.models import JobKind, Payer
from admin_app.services.billing.invoice_run import RunOutcome
from admin_app.services.platform import clinic_time
from admin_app.services.platform.months import Month
from admin_app.views.job_runs.start import start_run
from admin_app.views.platform.base import RoleRequired, id_arg

ALL, SELF_PAY = "all", "self"


class InvoiceRunForm(BaseForm):
    through = DateField(_l("Sessions up to"), validators=[InputRequired()])
    payer = SelectField(_l("Bill to"))


def previous_month_end():
    """The default date of a run: the last day of the previous month, in clinic time."""
    return Month.containing(clinic_time.today()).previous().last_day


def run_message(result: dict) -> tuple[str, str]:
    """What a run in the background says when done (its `result`, jobs.billing.run_result), and how."""
    if result["invoice_run_id"] is None:
        return gettext("Nothing to invoice through %(day)s.", day=result["through"]), "info"
    counts = RunOutcome(run=None, **{key: result[key] for key in ("new_drafts", "extended_drafts", "lines")})
    return run_summary(counts), "success"


def run_summary(outcome: RunOutcome) -> str:
    return " ".join(
        [
            ngettext("%(num)d new draft,", "%(num)d new drafts,", outcome.new_drafts),
            ngettext("%(num)d draft extended,", "%(num)d drafts extended,", outcome.extended_drafts),
            ngettext("%(num)d charge invoiced.", "%(num)d charges invoiced.", outcome.lines),
        ]
    )


class InvoiceRunView(RoleRequired, BaseView):
    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = InvoiceRunForm(request.form if request.method == "POST" else None)
        payers = db.session.execute(select(Payer.id, Payer.name).order_by(Payer.name)).all()
        form.payer.choices = [
            (ALL, gettext("Everyone")),
            (SELF_PAY, gettext("Self-paying clients")),
            *((str(payer_id), name) for payer_id, name in payers),
        ]
        if request.method == "GET":
            form.through.data = previous_month_end()
        elif form.validate():
            # A run in the background, whose page shows its progress; one at a time (a run takes
            # every uninvoiced charge of its choice, so two at once would only meet).
            chosen = form.payer.data
            params = {
                "through": form.through.data.isoformat(),
                "payer_id": int(chosen) if chosen not in (ALL, SELF_PAY) else None,
                "self_pay": chosen == SELF_PAY,
            }
            return start_run(JobKind.INVOICE_RUN, str(JobKind.INVOICE_RUN), params)
        run_id = id_arg("run")
        return self.render(
            "admin/billing/invoice_run.html",
            form=form,
            drafts_url=url_for("invoice.run_view", id=run_id) if run_id else None,
        )
