"""The payout screens: a month's statements (run, approve, send, ZIP) and one statement's page
(lines, held lines, adjustments, approve, mark paid, its email, its PDF).

The rules are in services.payouts (run, statements, emails, statement_files); every change here is
one transaction: refused, it is rolled back and the reason is shown beside its field or flashed.
The month screen reads its figures with `statements.month_overview` (three queries whatever the
number of therapists), the statement page with `statements.statement_detail` (lines with their
clients and payers loaded at once). Opening a statement is a view of client names: it is recorded
in the audit trail, as opening an invoice is.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.form import BaseForm
from flask_babel import gettext, ngettext
from flask_security import current_user
from wtforms import DateField, SelectField, StringField, TextAreaField

from admin_app.extensions import db
from admin_app.models import AuditAction, HeldReason, JobKind, PayoutAdjustment, PayoutStatement, PayoutStatus
from admin_app.models.audit import record_event
from admin_app.services.payouts import emails, statement_files, statements
from admin_app.services.payouts.run import RunSummary, ensure_begun
from admin_app.services.platform import bounds, clinic_time
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.labels import CHOICES, field_label
from admin_app.services.platform.months import Month
from admin_app.views.job_runs.start import start_run
from admin_app.views.platform.base import RoleRequired
from admin_app.views.platform.downloads import download_or_back
from admin_app.views.platform.rules import commit_or_flash
from admin_app.views.reports.monthly import neighbour, reader_language, requested_month


class AdjustmentForm(BaseForm):
    amount = StringField(field_label("amount"))
    currency = SelectField(field_label("currency"))
    reason = StringField(field_label("reason"))


class PaidForm(BaseForm):
    paid_on = DateField(field_label("paid_on"))
    paid_reference = StringField(field_label("paid_reference"))


class EmailForm(BaseForm):
    email_subject = StringField(field_label("email_subject"))
    email_body = TextAreaField(field_label("email_body"), render_kw={"rows": 8})


def adjustment_form(formdata=None) -> AdjustmentForm:
    form = AdjustmentForm(formdata)
    form.currency.choices = [(code, code) for code in current_app.config["CURRENCIES"]]
    if formdata is None:
        form.currency.data = current_app.config["DEFAULT_CURRENCY"]
    return form


def run_message(result: dict) -> tuple[str, str]:
    """What a payout run in the background says when done (its `result`, jobs.payouts.payout_run)."""
    counts = {key: result[key] for key in ("statements", "lines", "held", "kept")}
    return run_summary(RunSummary(month=Month.parse(result["month"]), **counts)), "success"


def run_summary(summary: RunSummary) -> str:
    return " ".join(
        [
            ngettext("%(num)d draft statement,", "%(num)d draft statements,", summary.statements),
            ngettext("%(num)d paid line,", "%(num)d paid lines,", summary.lines),
            ngettext("%(num)d held line;", "%(num)d held lines;", summary.held),
            ngettext(
                "%(num)d statement past draft kept as it was.",
                "%(num)d statements past draft kept as they were.",
                summary.kept,
            ),
        ]
    )


def default_month() -> Month:
    """The month a payout run is usually for: the previous one, in clinic time."""
    return Month.containing(clinic_time.today()).previous()


def chosen_month(values) -> Month | None:
    """The `month` of a query string or form, the previous month when absent; None, after a message
    naming the field, when it is wrong."""
    raw = (values.get("month") or "").strip()
    if not raw:
        return default_month()
    try:
        return Month.parse(raw, field=gettext("Month"))
    except RuleViolation as error:
        flash(str(error), "error")  # plain text: a lazy string would be stored as markup
        return None


def currencies_of(*totals: dict) -> list[str]:
    """The currencies any of these per-currency totals has, in order."""
    return sorted({currency for figures in totals for currency in figures})


class PayoutsView(RoleRequired, BaseView):
    """The month's statements and each statement's page (staff only)."""

    # --- the month ---------------------------------------------------------------------------

    @expose("/")
    def index_view(self):
        month = chosen_month(request.args)
        if month is None:
            return redirect(url_for(".index_view"))
        rows = statements.month_overview(db.session, month)
        totals = {
            "earned": statements.add_totals(*(row.earned for row in rows)),
            "held": statements.add_totals(*(row.held for row in rows)),
            "adjustments": statements.add_totals(*(row.adjustments for row in rows)),
            "due": statements.add_totals(*(row.due for row in rows)),
        }
        return self.render(
            "admin/payouts/month.html",
            month=month,
            month_label=month.label(reader_language()),
            previous_month=neighbour(month, -1),
            next_month=neighbour(month, 1),
            rows=rows,
            totals=totals,
            currencies=currencies_of(*totals.values()),
            states=CHOICES[PayoutStatus],
            drafts=sum(1 for row in rows if row.status == PayoutStatus.DRAFT),
            approved=sum(1 for row in rows if row.status == PayoutStatus.APPROVED),
        )

    @expose("/run", methods=("POST",))
    def run_view(self):
        """The month's payout run, in the background: its page shows the progress and the result."""
        month = chosen_month(request.form)
        if month is None:
            return redirect(url_for(".index_view"))
        try:
            ensure_begun(month)
        except RuleViolation as refusal:
            flash(str(refusal), "error")
            return self._month(month)
        return start_run(JobKind.PAYOUT_RUN, f"{JobKind.PAYOUT_RUN}:{month}", {"month": str(month)})

    @expose("/approve", methods=("POST",))
    def approve_view(self):
        """The ticked statements (`statement`), or every draft of the month (`all_drafts`)."""
        month = chosen_month(request.form)
        if month is None:
            return redirect(url_for(".index_view"))
        if request.form.get("all_drafts"):
            approve = partial(statements.approve_drafts, db.session, month, user_id=current_user.id)
        else:
            keys = [key for key in map(bounds.record_id, request.form.getlist("statement")) if key is not None]
            if not keys:
                flash(gettext("Tick the statements to approve."), "error")
                return self._month(month)
            approve = partial(statements.approve, db.session, keys, user_id=current_user.id)
        with commit_or_flash() as outcome:
            approved = approve()
        if outcome.refusal is None:
            flash(ngettext("%(num)d statement approved.", "%(num)d statements approved.", approved), "success")
        return self._month(month)

    @expose("/send", methods=("POST",))
    def send_view(self):
        """Every approved statement of the month, each by email with its PDF."""
        month = chosen_month(request.form)
        if month is None:
            return redirect(url_for(".index_view"))
        with commit_or_flash() as outcome:
            result = emails.send_approved(db.session, month, user_id=current_user.id)
        if outcome.refusal is None:
            flash(ngettext("%(num)d statement sent.", "%(num)d statements sent.", result.sent), "success")
            for refusal in result.refused:
                flash(str(refusal), "error")
        return self._month(month)

    @expose("/zip")
    def month_zip(self):
        """Every statement of the month as PDFs in one ZIP (`?month=YYYY-MM`), in the reader's language:
        made in the background, downloaded from the run's page."""
        month = requested_month()
        if month is None:
            return redirect(url_for(".index_view"))
        params = {"month": str(month), "language": reader_language()}
        return start_run(JobKind.PAYOUT_ZIP, f"{JobKind.PAYOUT_ZIP}:{month}", params)

    def _month(self, month: Month):
        return redirect(url_for(".index_view", month=str(month)))

    # --- one statement -----------------------------------------------------------------------

    @expose("/statement/<int:statement_id>")
    def statement(self, statement_id: int):
        detail = self._detail(statement_id)
        if detail is None:
            return redirect(url_for(".index_view"))
        record_event(db.session, action=AuditAction.VIEW, entity=PayoutStatement.__tablename__, entity_id=statement_id)
        db.session.commit()
        return self._page(detail)

    @expose("/statement/<int:statement_id>/pdf")
    def statement_pdf(self, statement_id: int):
        make = partial(statement_files.statement_pdf, db.session, statement_id, language=reader_language())
        back = url_for(".statement", statement_id=statement_id)
        if db.session.get(PayoutStatement, statement_id) is None:
            back = url_for(".index_view")
        return download_or_back(make, back, f"payout statement {statement_id}")

    @expose("/statement/<int:statement_id>/approve", methods=("POST",))
    def approve_statement(self, statement_id: int):
        statement = self._requested(statement_id)
        with commit_or_flash() as outcome:
            approved = statements.approve(db.session, [statement.id], user_id=current_user.id)
        if outcome.refusal is None:
            if approved:
                flash(gettext("Statement %(number)s approved.", number=statement.number), "success")
            else:
                flash(gettext("Only a draft can be approved."), "error")
        return self._back(statement_id)

    @expose("/statement/<int:statement_id>/adjustment", methods=("POST",))
    def add_adjustment(self, statement_id: int):
        self._requested(statement_id)
        form = adjustment_form(request.form)
        return self._submit(
            statement_id,
            "adjustment",
            form,
            lambda: statements.add_adjustment(
                db.session,
                statement_id,
                amount=form.amount.data,
                currency=form.currency.data,
                reason=form.reason.data,
                user_id=current_user.id,
            ),
            gettext("The adjustment was added."),
        )

    @expose("/statement/<int:statement_id>/remove-adjustment", methods=("POST",))
    def remove_adjustment(self, statement_id: int):
        """`adjustment` (a form field): the adjustment of this statement to take off."""
        self._requested(statement_id)
        adjustment = db.session.get(PayoutAdjustment, bounds.record_id(request.form.get("adjustment")) or 0)
        if adjustment is None or adjustment.statement_id != statement_id:
            abort(404)
        adjustment_id = adjustment.id
        with commit_or_flash() as outcome:
            statements.remove_adjustment(db.session, adjustment_id)
        if outcome.refusal is None:
            flash(gettext("The adjustment was removed."), "success")
        return self._back(statement_id)

    @expose("/statement/<int:statement_id>/paid", methods=("POST",))
    def mark_paid(self, statement_id: int):
        self._requested(statement_id)
        form = PaidForm(request.form)  # a date that does not parse is None: the rule names the field
        return self._submit(
            statement_id,
            "paid",
            form,
            lambda: statements.mark_paid(
                db.session, statement_id, paid_on=form.paid_on.data, reference=form.paid_reference.data
            ),
            gettext("The statement is marked paid."),
        )

    @expose("/statement/<int:statement_id>/email", methods=("POST",))
    def save_email(self, statement_id: int):
        self._requested(statement_id)
        form = EmailForm(request.form)
        return self._submit(
            statement_id,
            "email",
            form,
            lambda: emails.save_statement_email(
                db.session, statement_id, form.email_subject.data or "", form.email_body.data or ""
            ),
            gettext("The email was saved."),
        )

    @expose("/statement/<int:statement_id>/send", methods=("POST",))
    def send_statement(self, statement_id: int):
        self._requested(statement_id)
        with commit_or_flash() as outcome:
            emails.send_statement(db.session, statement_id, user_id=current_user.id)
        if outcome.refusal is None:
            flash(gettext("The statement is on its way to the therapist."), "success")
        return self._back(statement_id)

    def _submit(self, statement_id: int, key: str, form, change: Callable[[], object], done: str):
        """Make `change` with what `form` holds: refused, the page again with the form as typed and
        the reason beside its field; made, back to the page with `done`."""
        with commit_or_flash(form) as outcome:
            change()
        if outcome.refusal is not None:
            return self._page(self._detail(statement_id), forms={key: form})
        flash(done, "success")
        return self._back(statement_id)

    def _requested(self, statement_id: int) -> PayoutStatement:
        statement = db.session.get(PayoutStatement, statement_id)
        if statement is None:
            abort(404)
        return statement

    @staticmethod
    def _detail(statement_id: int) -> statements.StatementDetail | None:
        try:
            return statements.statement_detail(db.session, statement_id)
        except NotFound as error:
            flash(str(error), "error")
            return None

    def _back(self, statement_id: int):
        return redirect(url_for(".statement", statement_id=statement_id))

    def _page(self, detail: statements.StatementDetail, forms: dict | None = None):
        """The statement page; `forms` are the forms just refused, shown with what was typed and why."""
        forms = forms or {}
        statement = detail.statement
        editable = statement.status == PayoutStatus.DRAFT
        email_open = statement.status in (PayoutStatus.DRAFT, PayoutStatus.APPROVED)
        email_form = forms.get("email")
        if email_form is None:
            text = emails.email_of(db.session, detail)
            email_form = EmailForm(data={"email_subject": text.subject, "email_body": text.body})
        totals = {
            "earned": detail.earned,
            "held": detail.held,
            "adjustments": detail.adjusted,
            "due": detail.due,
        }
        return self.render(
            "admin/payouts/statement.html",
            detail=detail,
            statement=statement,
            month_label=detail.month.label(reader_language()),
            totals=totals,
            currencies=currencies_of(*totals.values()),
            states=CHOICES[PayoutStatus],
            held_reasons=CHOICES[HeldReason],
            editable=editable,
            email_open=email_open,
            adjustment_form=forms.get("adjustment") or adjustment_form(),
            paid_form=forms.get("paid") or PaidForm(data={"paid_on": clinic_time.today()}),
            email_form=email_form,
            email_language=emails.language_of(statement.therapist),
        )
