"""billing: payers, authorizations (and, next, invoices, payments, receipts)."""
