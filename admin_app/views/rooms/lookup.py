"""Looking a room up by typing: part of its name or of its site's ("Broadway" finds every room of
Broadway, "broad 2" finds "Broadway · Room 2")."""

from __future__ import annotations

from sqlalchemy import or_

from admin_app.extensions import db
from admin_app.models import Room, Site
from admin_app.views.people.records import RecordLoader

PAGE_SIZE = 10


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class RoomLoader(RecordLoader):
    """The rooms in use of the sites in use whose room or site name holds every typed word, by
    site and room; the room a record already holds is still shown (`get_one`)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, db, Room, fields=(Room.name, Site.name), page_size=PAGE_SIZE, placeholder="…")

    def get_query(self):
        return db.session.query(Room).join(Site, Room.site_id == Site.id)

    def get_list(self, term: str, offset: int = 0, limit: int = PAGE_SIZE):
        query = self.get_query().filter(Room.active, Site.active)
        for word in term.split():
            pattern = _like(word)
            query = query.filter(or_(Room.name.ilike(pattern, escape="\\"), Site.name.ilike(pattern, escape="\\")))
        return query.order_by(Site.name, Room.name).offset(offset).limit(limit).all()
