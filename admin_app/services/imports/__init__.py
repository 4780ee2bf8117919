"""Moving in from spreadsheets: therapists, clients and appointments from CSV or XLSX.

One import is all or nothing. Every row is read and checked first (`plan`), against the file
itself and the database; any error, reported as "row N, column C: reason" with the row number
the spreadsheet shows, means nothing is written. Otherwise `apply` writes the plan in the
caller's transaction (bulk statements for appointments). Natural keys make a re-import
idempotent: therapist by email, client by national ID, appointment by therapist and start.

Modules: `reading` (file -> rows with canonical column names), `values` (cell parsers),
`report` (the plan and its errors), and one module per kind.
"""

from __future__ import annotations

from admin_app.services.imports.report import ImportPlan, RowError

__all__ = ["ImportPlan", "RowError"]
