"""The audit trail of a real download: the staff export the client list, searched for a surname and
filtered to the active clients, from gunicorn; the export's audit row says which screen, which
filters, that a search was made (not its text) and exactly as many rows as the file holds."""

from __future__ import annotations

from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AuditEvent, Client
from tests.e2e.conftest import ADMIN
from tests.e2e.helpers import log_in
from tests.e2e.test_exports import csv_rows, download, listed_count


def test_a_client_export_records_what_the_file_contained(browser, app_db, tmp_path):
    with app_db.app_context():
        surname = db.session.scalar(select(Client.full_name).order_by(Client.id)).split()[-1]
        db.session.remove()

    page = browser.page()
    log_in(page, *ADMIN)
    page.goto(f"/admin/client/?search={surname}&flt0_0=1")  # active: yes
    count = listed_count(page)
    rows = csv_rows(download(page, "a[href*='/export/csv/']", tmp_path, menu=True))[1:]

    assert 0 < len(rows) == count
    with app_db.app_context():
        event = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "export", AuditEvent.actor == ADMIN[0])
            .order_by(AuditEvent.id.desc())
        ).first()
        db.session.remove()
    assert (event.entity, event.detail) == (
        "client",
        {
            "screen": "client",
            "filters": [{"filter": "Active", "operation": "equals", "value": "1"}],
            "search": "yes",
            "rows": count,
        },
    )
    assert surname not in str(event.detail)
