"""The therapist's *My room reservations* in the portal: hers only, read only; when the office ends one,
she is told and the list shows its new last day. Lima."""

from __future__ import annotations

import datetime as dt

from admin_app.extensions import db
from admin_app.services.rooms import reservations
from tests.conftest import sign_in_therapist
from tests.factories import make_admin, make_reservation, make_site, make_therapist
from tests.pages import body, list_rows, text_of


def test_her_reservations_and_the_offices_release_come_back_to_her(client):
    room = make_site("Sede Miraflores", rooms=("Consultorio 1",)).rooms[0]
    rosa, jorge = make_therapist(full_name="Rosa Mendoza"), make_therapist(full_name="Jorge Salas")
    mine = make_reservation(room, rosa, 1, ("09:00", "12:00"), dt.date(2026, 9, 1))
    theirs = make_reservation(room, jorge, 2, ("09:00", "12:00"), dt.date(2026, 9, 1))
    sign_in_therapist(client, rosa)

    rows = list_rows(client.get("/portal/reservations/"))
    assert [(r["room"], r["weekday"], r["hours"], r["valid_until"]) for r in rows] == [
        ("Sede Miraflores · Consultorio 1", "Monday", "09:00–12:00", "")
    ]
    assert client.get(f"/portal/reservations/details/?id={theirs.id}").status_code == 404

    reservations.release(db.session, mine.id, ends_on=dt.date(2026, 12, 28), user=make_admin())
    db.session.commit()

    [row] = list_rows(client.get("/portal/reservations/"))
    assert row["valid_until"] == "Dec 28, 2026"
    notices = text_of(body(client.get("/portal/notifications/")))
    assert f"Your room reservation #{mine.id} was changed by the office: see My room reservations." in notices
