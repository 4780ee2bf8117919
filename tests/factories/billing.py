"""Payers (insurers, employer programmes)."""

from __future__ import annotations

from admin_app.extensions import db
from admin_app.models import Payer, PayerKind
from tests.factories.sequence import next_number


def make_payer(name: str | None = None, kind: PayerKind = PayerKind.INSURER) -> Payer:
    payer = Payer(name=name or f"Payer {next_number()}", kind=kind)
    db.session.add(payer)
    db.session.flush()
    return payer
