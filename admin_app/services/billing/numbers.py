"""How the numbers of invoices, credit notes and receipts read, and the counter series each takes.

Each kind has its own series on the platform counter (gap-free, services.platform.documents.numbering):
invoices (the practice's, or a payer's own where it has a prefix), credit notes, receipts. A number
reads as its prefix and six digits ("INV-000042"); the prefixes are settings (INVOICE_PREFIX,
CREDIT_NOTE_PREFIX, RECEIPT_PREFIX).
"""

from __future__ import annotations

import dataclasses

from flask import current_app

from admin_app.models import CREDIT_NOTE_SERIES, INVOICE_SERIES, RECEIPT_SERIES


@dataclasses.dataclass(frozen=True)
class Series:
    """A numbering series and how its numbers read ("INV-000042")."""

    key: str
    prefix: str

    def number(self, value: int) -> str:
        return f"{self.prefix}{value:06d}"


def invoice_series(payer_prefix: str | None) -> Series:
    """The practice's invoice series, or the payer's own when it has a prefix."""
    if payer_prefix:
        return Series(f"{INVOICE_SERIES}:{payer_prefix}", payer_prefix)
    return Series(INVOICE_SERIES, current_app.config["INVOICE_PREFIX"])


def credit_note_series() -> Series:
    return Series(CREDIT_NOTE_SERIES, current_app.config["CREDIT_NOTE_PREFIX"])


def receipt_series() -> Series:
    return Series(RECEIPT_SERIES, current_app.config["RECEIPT_PREFIX"])
