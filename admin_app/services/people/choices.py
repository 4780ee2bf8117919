"""The therapists a dropdown offers: one rule for every screen.

A form that writes a record offers the active therapists, plus the one it already holds (an
appointment kept by a therapist who has left still shows who kept it, and a form sent back with
an error keeps what was chosen). A filter over history offers every therapist, active or not:
last year's appointments of a therapist who has left must still be found.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from admin_app.models import Therapist
from admin_app.services.platform.bounds import record_id


def therapist_choices(session: Session, *, selected=None, without_login: bool = False) -> list[tuple[int, str]]:
    """(id, name) of the therapists a new or edited record may name, by name. `selected` is the
    form's current value as typed (text or number; anything that is no id is ignored);
    `without_login` keeps only the therapists who have no portal login yet."""
    chosen = record_id(selected)
    query = select(Therapist.id, Therapist.full_name).order_by(Therapist.full_name)
    query = query.where(or_(Therapist.active, Therapist.id == chosen) if chosen else Therapist.active)
    if without_login:
        query = query.where(Therapist.user_id.is_(None))
    return [(row.id, row.full_name) for row in session.execute(query)]


def therapist_filter_choices(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every therapist, by name: what a filter over past records offers."""
    query = select(Therapist.id, Therapist.full_name).order_by(Therapist.full_name)
    return [(row.id, row.full_name) for row in session.execute(query)]
