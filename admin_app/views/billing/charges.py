"""The appointment search for billing: the charges of a period, searched and filtered, with totals
per currency, and *Invoice selected* (services.billing.charge_search and the invoice run).

The page is a handful of statements whatever the number of rows: the page of charges, the count
and totals of the filtered set, and the therapists and payers to filter by.
"""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_security import current_user
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import BilledTo, Payer, Therapist
from admin_app.services.billing.charge_search import ChargeSearch, search_charges
from admin_app.services.billing.invoice_run import commit_run
from admin_app.services.billing.ledger import ChargeState
from admin_app.services.platform import bounds, clinic_time
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import CHARGE_STATES, CHOICES, field_label
from admin_app.services.platform.months import Month
from admin_app.views.billing.invoice_run import run_summary
from admin_app.views.platform.base import RoleRequired, choice_of, id_arg, parsed_arg
from admin_app.views.platform.paging import page_url
from admin_app.views.platform.rules import commit_or_flash
from admin_app.views.platform.search import search_term, searched_arguments

PER_PAGE = 50


def _day(label):
    def parse(text: str) -> dt.date:
        try:
            return bounds.calendar_day(text)
        except ValueError:
            raise RuleViolation(
                gettext("%(field)s: expected a date as YYYY-MM-DD, got %(value)s", field=label, value=text)
            ) from None

    return parse


def requested_search() -> ChargeSearch:
    """The search the query string asks for; the previous month when it names no period."""
    month = Month.containing(clinic_time.today()).previous()
    since = parsed_arg("since", _day(gettext("From")), default=month.first_day, refused=month.first_day)
    until = parsed_arg("until", _day(gettext("To")), default=month.last_day, refused=month.last_day)
    return ChargeSearch(
        since=since,
        until=until,
        client=(search_term(request.args.get("client")) or "").replace("\x00", ""),
        therapist_id=id_arg("therapist"),
        payer_id=id_arg("payer"),
        billed_to=parsed_arg("bill_to", choice_of(BilledTo, field_label("billed_to")), default=None),
        state=parsed_arg("state", choice_of(ChargeState, field_label("status")), default=None),
        invoice_number=request.args.get("invoice", "").replace("\x00", "")[:40],
    )


class ChargeSearchView(RoleRequired, BaseView):
    @expose("/")
    def index(self):
        search = requested_search()
        page = request.args.get("page", 0, type=int)
        page = page if 0 <= page <= bounds.MAX_RECORD_ID // PER_PAGE else 0
        found = search_charges(db.session, search, page=page, per_page=PER_PAGE)
        return self.render(
            "admin/billing/charges.html",
            search=search,
            found=found,
            therapists=db.session.execute(
                select(Therapist.id, Therapist.full_name).order_by(Therapist.full_name)
            ).all(),
            payers=db.session.execute(select(Payer.id, Payer.name).order_by(Payer.name)).all(),
            bill_to_choices=CHOICES[BilledTo],
            states=CHARGE_STATES,
            page_url=page_url(),
        )

    @expose("/search/", methods=("POST",))
    def search(self):
        """The search form posts: the client's name it carries goes into the page's links as a key."""
        return redirect(url_for(".index", **searched_arguments(request.form, terms=("client",))))

    @expose("/invoice/", methods=("POST",))
    def invoice_selected(self):
        """*Invoice selected*: the chosen charges onto drafts, through the end of the searched period."""
        chosen = [key for key in map(bounds.record_id, request.form.getlist("participant")) if key is not None]
        back = request.form.get("back") or url_for(".index")
        if not back.startswith(url_for(".index")):
            back = url_for(".index")
        try:
            through = bounds.calendar_day(request.form.get("through", ""))
        except ValueError:
            through = None
        if not chosen or through is None:
            flash(gettext("Select the sessions to invoice."), "error")
            return redirect(back)
        with commit_or_flash() as outcome:
            made = commit_run(db.session, through=through, participant_ids=chosen, user_id=current_user.id)
        if outcome.refusal is not None:
            return redirect(back)
        if made.run is None:
            flash(gettext("None of the selected sessions is left to invoice."), "info")
            return redirect(back)
        flash(run_summary(made), "success")
        return redirect(url_for("invoice.run_view", id=made.run.id))
