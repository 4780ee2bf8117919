"""Month-end outputs built on `services.stats`: the new clients of a period, and the monthly and
yearly figures as machine-readable JSON and CSV (schemas in the README)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from admin_app.models import Appointment, Attendance, Client, Participant, Therapist
from admin_app.services import stats
from admin_app.services.clinic_time import from_local, to_local
from admin_app.services.errors import RuleViolation
from admin_app.services.spreadsheets import csv_text

NEW_CLIENT_COLUMNS = ("name", "national_id", "email", "phone", "first_session", "first_therapist")


@dataclasses.dataclass(frozen=True)
class NewClient:
    name: str
    national_id: str
    email: str | None
    phone: str | None
    first_session: dt.date  # local
    first_therapist: str


def new_clients(session: Session, first_day: dt.date, last_day: dt.date) -> list[NewClient]:
    """Clients whose first ever attended session falls on a local day from `first_day` to
    `last_day` included, with that session's therapist (one query)."""
    if last_day < first_day:
        raise RuleViolation(_l("%(field)s: the end date is before the start date", field=_l("To")), field="to")
    start = from_local(dt.datetime.combine(first_day, dt.time()))
    end = from_local(dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time()))
    firsts = stats.first_attended().subquery()
    rows = session.execute(
        select(Client, firsts.c.first_at, Therapist.full_name)
        .join(firsts, firsts.c.client_id == Client.id)
        .join(Participant, and_(Participant.client_id == Client.id, Participant.attendance == Attendance.ATTENDED))
        .join(
            Appointment,
            and_(Appointment.id == Participant.appointment_id, Appointment.starts_at == firsts.c.first_at),
        )
        .join(Therapist, Therapist.id == Appointment.therapist_id)
        .where(firsts.c.first_at >= start, firsts.c.first_at < end)
        .order_by(firsts.c.first_at, Client.full_name, Client.id)
    ).all()
    seen: set[int] = set()
    result = []
    for client, first_at, therapist_name in rows:
        if client.id in seen:  # two sessions starting at the very same instant: keep one
            continue
        seen.add(client.id)
        result.append(
            NewClient(
                name=client.full_name,
                national_id=client.national_id,
                email=client.email,
                phone=client.phone,
                first_session=to_local(first_at).date(),
                first_therapist=therapist_name,
            )
        )
    return result


def new_clients_csv(session: Session, first_day: dt.date, last_day: dt.date) -> str:
    rows = new_clients(session, first_day, last_day)
    return csv_text(
        NEW_CLIENT_COLUMNS,
        ((c.name, c.national_id, c.email, c.phone, c.first_session.isoformat(), c.first_therapist) for c in rows),
    )
