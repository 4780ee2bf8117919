"""Who the file's rows are billed to, and which authorization each uses.

The `payer` column names an existing payer (any case): the row's participant is billed to it. An
empty cell bills a new participant to the client; a booked participant keeps who it is billed to
(a re-import never undoes what staff recorded). The `authorization` column names a reference of
that payer for the row's client: the staff's choice (`authorization_chosen`), which the rule then
leaves alone. Otherwise the rule of `billing.linking` picks, the file's rows taken in order of
start through one `Linker`, each link counting for the next; a booked participant that stays with
its payer keeps its link. A payer that refuses bookings beyond what it approved makes a row the
rule takes beyond it, or that no authorization covers, an error naming the authorization and its
counts (as the booking screen refuses it); a staff choice is not refused, as on the screen.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import Attendance, Authorization, BilledTo, Payer
from admin_app.services.billing import linking
from admin_app.services.imports.appointments.booked import chunks
from admin_app.services.imports.appointments.columns import Line
from admin_app.services.imports.report import ImportPlan


def bill_rows(session: Session, lines: list[Line], column: dict, result: ImportPlan) -> None:
    """Set each row's `billing` (the payer column given), or say on the plan why it cannot be."""
    billed = [line for line in lines if line.cells.get("payer") or line.cells.get("authorization")]
    if not billed:
        return
    # Payers are few: all of them, matched by case-folded name here (SQLite's lower() is ASCII only).
    payers = {payer.name.casefold(): payer for payer in session.scalars(select(Payer))}
    chosen = _chosen_authorizations(session, {line.cells.get("authorization") for line in billed} - {"", None})
    ready: list[tuple[Line, Payer, int | None]] = []
    for line in billed:
        payer = _payer(line, payers, column, result)
        if payer is None or line.client_id is None or line.starts_at is None or line.attendance is None:
            continue
        authorization_id = None
        reference = line.cells.get("authorization")
        if reference:
            found = chosen.get((payer.id, reference))
            if found is None or found.client_id != line.client_id:
                result.error(
                    line.row,
                    column["authorization"],
                    _l(
                        "%(reference)s is not an authorization of %(client)s from %(payer)s",
                        reference=reference,
                        client=line.client_name,
                        payer=payer.name,
                    ),
                )
                continue
            authorization_id = found.id
        ready.append((line, payer, authorization_id))
    _link(session, ready, column, result)


def _payer(line: Line, payers: dict[str, Payer], column: dict, result: ImportPlan) -> Payer | None:
    name = line.cells.get("payer", "")
    if not name:
        result.error(line.row, column["authorization"], _l("an authorization needs the payer column"))
        return None
    payer = payers.get(name.casefold())
    if payer is None:
        result.error(line.row, column["payer"], _l("no payer is named %(value)s", value=name))
    return payer


def _chosen_authorizations(session: Session, references: set[str]) -> dict[tuple[int, str], Authorization]:
    found = {}
    for chunk in chunks(references):
        for authorization in session.scalars(select(Authorization).where(Authorization.reference.in_(chunk))):
            found[(authorization.payer_id, authorization.reference)] = authorization
    return found


def _link(session: Session, ready: list[tuple[Line, Payer, int | None]], column: dict, result: ImportPlan) -> None:
    """The rule over the file's rows in order of start. A booked participant that stays with its
    payer and link is counted where it is; one whose link may change is counted again as its row
    says (`excluding`), not twice."""
    kept = {line.row for line, payer, chosen_id in ready if _keeps_link(line, payer, chosen_id)}
    linker = linking.Linker(
        session,
        {(line.client_id, payer.id) for line, payer, _ in ready},
        excluding=[line.seat.id for line, _, _ in ready if line.seat is not None and line.row not in kept],
    )
    for line, payer, authorization_id in sorted(ready, key=lambda item: (item[0].starts_at, item[0].row)):
        chosen = authorization_id is not None
        if line.row in kept:
            authorization_id, chosen = line.seat.authorization_id, chosen or line.seat.authorization_chosen
        elif not chosen:
            candidate = linker.pick(line.client_id, payer.id, linking.service_date(line.starts_at))
            authorization_id = candidate.id if candidate is not None else None
            if payer.refuses_over_approved:
                _refuse_beyond(line, payer, candidate, column, result)
        line.billing = {
            "billed_to": BilledTo.PAYER,
            "payer_id": payer.id,
            "authorization_id": authorization_id,
            "authorization_chosen": chosen,
        }
        candidate = linker.candidate(authorization_id) if authorization_id is not None else None
        if candidate is not None and line.row not in kept:
            linker.take(candidate, line.attendance)


def _keeps_link(line: Line, payer: Payer, chosen_id: int | None) -> bool:
    """A booked participant billed to this payer and linked, which the row's authorization cell
    (empty, or the same one) leaves as it is."""
    seat = line.seat
    if seat is None or seat.payer_id != payer.id or seat.authorization_id is None:
        return False
    return chosen_id is None or chosen_id == seat.authorization_id


def _refuse_beyond(line: Line, payer: Payer, candidate, column: dict, result: ImportPlan) -> None:
    """The row the rule takes beyond what the payer approved, or that nothing covers (the take
    is counted after this check: hence remaining < 1)."""
    if line.attendance == Attendance.CANCELLED:
        return
    if candidate is None:
        reason = linking.uncovered_message(
            payer=payer.name, client=line.client_name, days=[linking.service_date(line.starts_at)]
        )
    elif linking.consumes(line.attendance, counts_missed=candidate.counts_missed) and candidate.remaining < 1:
        reason = linking.beyond_message(
            payer=payer.name,
            reference=candidate.reference,
            client=line.client_name,
            approved=candidate.approved,
            taken=candidate.taken + 1,
        )
    else:
        return
    result.error(
        line.row,
        column["payer"],
        _l("this payer does not accept sessions beyond what it approved. %(reason)s", reason=reason),
    )
