"""The colours of authorizations wherever they or their clients are listed: low is red, extension
requested is pink (the CSS is in `admin/practice_base.html`), and the status label in the reader's
language. The lists read every row's status in one query for the page (`rows_by_id`,
`client_classes`), never one per row."""

from __future__ import annotations

from collections.abc import Iterable

from flask import g
from markupsafe import Markup
from sqlalchemy.orm import Session

from admin_app.services.billing.authorizations import AuthorizationRow, AuthorizationStatus, authorization_rows
from admin_app.services.platform.labels import AUTHORIZATION_STATUSES, field_label

ROW_CLASSES = {
    AuthorizationStatus.LOW: "authorization-low",
    AuthorizationStatus.EXTENSION_REQUESTED: "authorization-extension-requested",
}
# A client with several authorizations takes the colour that needs the staff first.
CLIENT_PRECEDENCE = (AuthorizationStatus.LOW, AuthorizationStatus.EXTENSION_REQUESTED)
COUNT_COLUMNS = ("approved", "scheduled", "used", "billed", "remaining")


def status_label(status: AuthorizationStatus) -> str:
    return str(AUTHORIZATION_STATUSES[status.value])


def row_class(status: AuthorizationStatus | None) -> str:
    return ROW_CLASSES.get(status, "")


def rows_by_id(session: Session, ids: Iterable[int]) -> dict[int, AuthorizationRow]:
    ids = list(ids)
    return {row.id: row for row in authorization_rows(session, ids=ids)} if ids else {}


def client_classes(session: Session, client_ids: Iterable[int]) -> dict[int, str]:
    """The row class of each client that has a low or extension-requested authorization."""
    client_ids = list(client_ids)
    statuses: dict[int, set[AuthorizationStatus]] = {}
    for row in authorization_rows(session, client_ids=client_ids) if client_ids else ():
        statuses.setdefault(row.client_id, set()).add(row.status)
    return {
        client_id: row_class(next(s for s in CLIENT_PRECEDENCE if s in found))
        for client_id, found in statuses.items()
        if found & set(CLIENT_PRECEDENCE)
    }


def authorizations_table(rows: Iterable[AuthorizationRow]) -> Markup:
    """A client's authorizations as their page shows them: payer, reference, counts, dates, status,
    each row coloured like the lists."""
    headings = ("payer", "reference", *COUNT_COLUMNS, "valid_from", "valid_until", "status")
    head = Markup("").join(Markup("<th>{}</th>").format(field_label(name)) for name in headings)
    body = Markup("").join(
        Markup('<tr class="{}" data-authorization="{}">{}</tr>').format(
            row_class(row.status),
            row.id,
            Markup("").join(
                Markup("<td>{}</td>").format(cell)
                for cell in (
                    row.payer,
                    row.reference,
                    *(getattr(row.counts, name) for name in COUNT_COLUMNS),
                    row.valid_from.isoformat(),
                    row.valid_until.isoformat(),
                    status_label(row.status),
                )
            ),
        )
        for row in rows
    )
    return Markup('<table class="table table-sm" id="client-authorizations"><tr>{}</tr>{}</table>').format(head, body)


class ClientRowColours:
    """Mixed into a list of clients: a client with a low or extension-requested authorization takes
    its colour, read for the whole page in one query."""

    list_template = "admin/status_list.html"

    def rows_loaded(self, session: Session, records) -> None:
        g.client_classes = client_classes(session, [client.id for client in records])

    def row_class(self, client) -> str:
        return g.get("client_classes", {}).get(client.id, "")
