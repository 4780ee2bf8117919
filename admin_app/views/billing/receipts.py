"""Receipts for the staff: the newest ones, each to print (its PDF, an export in the audit trail) or to
send again (a new link by email; the old links keep working until they expire). Staff only. The list
shown is recorded in the audit trail (the receipts it lists, by payment id).

The rules are in `services.billing.receipts`; these routes only call them. Addresses carry the
payment's id, never the client's name.
"""

from __future__ import annotations

from functools import partial

from flask import flash, redirect, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext

from admin_app.extensions import db
from admin_app.models import AuditAction, Payment
from admin_app.models.audit import record_event
from admin_app.services.billing import receipts
from admin_app.views.platform.base import RoleRequired
from admin_app.views.platform.downloads import download_or_back


class ReceiptsView(RoleRequired, BaseView):
    @expose("/")
    def index(self):
        rows = receipts.latest_receipts(db.session)
        page = self.render("admin/billing/receipts.html", rows=rows)
        record_event(
            db.session,
            action=AuditAction.VIEW,
            entity=Payment.__tablename__,
            detail={"screen": "receipts", "rows": len(rows), "ids": [row.payment_id for row in rows]},
        )
        db.session.commit()
        return page

    @expose("/<int:payment_id>.pdf")
    def pdf(self, payment_id: int):
        make = partial(receipts.receipt_pdf, db.session, payment_id)
        return download_or_back(make, url_for(".index"), f"the receipt of payment {payment_id}")

    @expose("/<int:payment_id>/resend", methods=("POST",))
    def resend(self, payment_id: int):
        payment = db.session.get(Payment, payment_id)
        if payment is None or payment.receipt_number is None:
            flash(gettext("This payment has no receipt."), "error")
            return redirect(url_for(".index"))
        link = receipts.send_receipt(db.session, payment)
        db.session.commit()
        if link is None:
            flash(
                gettext(
                    "Receipt %(number)s was not sent: the client has no email address.", number=payment.receipt_number
                ),
                "error",
            )
        else:
            flash(gettext("Receipt %(number)s is on its way to the client.", number=payment.receipt_number), "success")
        return redirect(url_for(".index"))
