"""Which rooms an on-site booking offers first (services.rooms.choices.reserved_first), on
reservations made by hand: no database.

Claire books Monday 5 October 2026, 11:30–12:20 (clinic time). A reservation counts when it is in
force that day and its hours overlap the appointment's, even partly (the rule of the "reserved by
someone else" warning).
"""

from __future__ import annotations

import datetime as dt

from admin_app.models import RoomReservation
from admin_app.services.rooms.choices import RoomOption, reserved_first

CLAIRE, JORGE = 1, 2
START, END = dt.datetime(2026, 10, 5, 11, 30), dt.datetime(2026, 10, 5, 12, 20)
ROOMS = {  # by site and room, as the query orders them
    10: "Broadway · Room 1",
    11: "Broadway · Room 2",
    12: "Downtown · Room 1",
    13: "Downtown · Room 2",
    14: "Kitsilano · Room 1",
    15: "Kitsilano · Room 2",
}


def reservation(room_id, therapist_id, weekday, hours, valid_from, valid_until=None) -> RoomReservation:
    return RoomReservation(
        room_id=room_id,
        therapist_id=therapist_id,
        weekday=weekday,
        starts_time=dt.time.fromisoformat(hours[0]),
        ends_time=dt.time.fromisoformat(hours[1]),
        valid_from=valid_from,
        valid_until=valid_until,
    )


RESERVATIONS = [
    (reservation(14, CLAIRE, 1, ("09:00", "13:00"), dt.date(2026, 9, 7)), "Claire Tremblay"),  # weekly, in force
    (reservation(10, CLAIRE, 1, ("09:00", "13:00"), dt.date(2026, 6, 1), dt.date(2026, 9, 28)), "Claire Tremblay"),
    (reservation(11, JORGE, 1, ("09:00", "13:00"), dt.date(2026, 9, 7)), "Jorge Salas"),  # someone else's
    (reservation(12, CLAIRE, 2, ("09:00", "13:00"), dt.date(2026, 9, 1)), "Claire Tremblay"),  # Tuesdays
    (reservation(13, CLAIRE, 1, ("12:00", "15:00"), dt.date(2026, 9, 7)), "Claire Tremblay"),  # 12:00–12:20 only
    (reservation(15, CLAIRE, 1, ("12:20", "14:00"), dt.date(2026, 9, 7)), "Claire Tremblay"),  # back to back
]


def test_the_therapists_rooms_at_that_time_come_first_then_every_other_room_by_site(practice):
    offered = reserved_first(ROOMS, RESERVATIONS, therapist_id=CLAIRE, start=START, end=END)

    assert offered == [
        RoomOption(14, "Kitsilano · Room 1 · reserved by Claire Tremblay, 09:00–13:00", True),
        RoomOption(13, "Downtown · Room 2 · reserved by Claire Tremblay, 12:00–15:00", True),  # partly: counts
        RoomOption(10, "Broadway · Room 1"),  # ended on 28 September
        RoomOption(11, "Broadway · Room 2"),  # Jorge's
        RoomOption(12, "Downtown · Room 1"),  # Tuesdays
        RoomOption(15, "Kitsilano · Room 2"),  # from 12:20, when the appointment ends
    ]


def test_the_other_therapist_sees_their_own_reservation_first(practice):
    offered = reserved_first(ROOMS, RESERVATIONS, therapist_id=JORGE, start=START, end=END)

    assert [option.id for option in offered] == [11, 10, 12, 13, 14, 15]
    assert offered[0].label == "Broadway · Room 2 · reserved by Jorge Salas, 09:00–13:00"


def test_nothing_reserved_or_no_time_yet_lists_the_rooms_by_site_and_name(practice):
    nobody = reserved_first(ROOMS, RESERVATIONS, therapist_id=3, start=START, end=END)
    no_time = reserved_first(ROOMS, RESERVATIONS, therapist_id=CLAIRE, start=None, end=None)

    plain = [RoomOption(id_, label) for id_, label in ROOMS.items()]
    assert nobody == plain
    assert no_time == plain


def test_a_room_no_longer_offered_is_not_put_first(practice):
    in_use = {id_: label for id_, label in ROOMS.items() if id_ != 14}

    offered = reserved_first(in_use, RESERVATIONS, therapist_id=CLAIRE, start=START, end=END)

    assert [option.id for option in offered] == [13, 10, 11, 12, 15]
