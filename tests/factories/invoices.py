"""Issued invoices of October 2026, made as the staff make them: sessions booked, the invoice run, issuing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from admin_app.extensions import db
from admin_app.models import Client, Invoice, InvoiceGrouping, Payer, Therapist
from admin_app.services.billing import issuing
from admin_app.services.billing.invoice_run import commit_run
from tests.factories.billing import make_authorization, make_payer
from tests.factories.people import make_client, make_therapist
from tests.factories.scheduling import book

OCTOBER_END = dt.date(2026, 10, 31)


@dataclasses.dataclass
class October:
    """ICBC (5 % tax, one invoice per client): Ana, claim CLM-88812345, 6 and 13 Oct at 120.00 PEN with
    Lucía (R.Psych.) → 2 lines of 120.00 + 6.00 tax, total 252.00. Acme EAP (one invoice per period):
    Dan (EAP-1001) 14 Oct 110.00 with Marco (a provisional RCC supervised by Lucía) and Eva (EAP-1002)
    15 Oct 95.50 with Lucía → total 205.50. Carla pays herself, in French: 9 Oct 90.00 PEN."""

    lucia: Therapist
    marco: Therapist
    icbc: Payer
    acme: Payer
    ana: Client
    dan: Client
    eva: Client
    carla: Client
    run_id: int
    ana_invoice: Invoice
    acme_invoice: Invoice
    carla_invoice: Invoice


def issued_october() -> October:
    """The October invoices above, run through 31 Oct and issued (committed)."""
    lucia = make_therapist(
        full_name="Lucía Torres",
        designation="R.Psych.",
        registration_number="01234",
        registration_body="CHCPBC",
    )
    marco = make_therapist(
        full_name="Marco Ruiz", designation="RCC", registration_number="55501", provisional=True, supervisor=lucia
    )
    icbc = make_payer(
        "ICBC",
        invoice_prefix="ICBC-",
        provider_number="V-778812",
        billing_email="claims@icbc.example.com",
        billing_address="PO Box 2100, Vancouver BC",
        tax_rate=Decimal("5"),
    )
    acme = make_payer("Acme EAP", invoice_grouping=InvoiceGrouping.PER_PERIOD, billing_email="eap@acme.example.com")
    ana = make_client(lucia, full_name="Ana Díaz", birth_date=dt.date(1990, 4, 12))
    dan = make_client(marco, full_name="Dan Ross", birth_date=dt.date(1985, 1, 2))
    eva = make_client(lucia, full_name="Eva Lind", birth_date=dt.date(1979, 11, 30))
    carla = make_client(lucia, full_name="Carla Núñez", email="carla@example.com", preferred_language="fr")
    window = (dt.date(2026, 9, 1), dt.date(2026, 12, 31))
    make_authorization(ana, icbc, 10, *window, reference="CLM-88812345")
    make_authorization(dan, acme, 10, *window, reference="EAP-1001")
    make_authorization(eva, acme, 10, *window, reference="EAP-1002")
    book(lucia, [ana], dt.datetime(2026, 10, 6, 10), fee="120.00", currency="PEN", payer=icbc)
    book(lucia, [ana], dt.datetime(2026, 10, 13, 10), fee="120.00", currency="PEN", payer=icbc)
    book(marco, [dan], dt.datetime(2026, 10, 14, 10), fee="110.00", currency="PEN", payer=acme)
    book(lucia, [eva], dt.datetime(2026, 10, 15, 10), fee="95.50", currency="PEN", payer=acme)
    book(lucia, [carla], dt.datetime(2026, 10, 9, 10), fee="90.00", currency="PEN")
    db.session.commit()
    outcome = commit_run(db.session, through=OCTOBER_END)
    issued = issuing.issue(db.session, issuing.all_drafts(db.session))
    db.session.commit()
    records = (db.session.get(Invoice, each.id) for each in issued)
    by_bill_to = {(invoice.payer_id, invoice.client_id): invoice for invoice in records}
    return October(
        lucia=lucia,
        marco=marco,
        icbc=icbc,
        acme=acme,
        ana=ana,
        dan=dan,
        eva=eva,
        carla=carla,
        run_id=outcome.run.id,
        ana_invoice=by_bill_to[(icbc.id, ana.id)],
        acme_invoice=by_bill_to[(acme.id, None)],
        carla_invoice=by_bill_to[(None, carla.id)],
    )
