"""Clinical notes: what a therapist writes about a client, read only by the client's therapists.

A note is append-only: once saved it is kept as written (a clinical record is never rewritten);
a correction is a new note. The mapper refuses any update or delete, whatever the path (a screen,
the CLI, a script), and the audit trail records that a note was written, never its text.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.audit import Audited
from admin_app.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from admin_app.models.people import Client, Therapist


class ClinicalNoteIsFinal(Exception):
    """Something tried to change or delete a saved clinical note."""


class ClinicalNote(Audited, Base):
    __tablename__ = "clinical_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="RESTRICT"), index=True)
    written_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    text: Mapped[str] = mapped_column(Text)

    client: Mapped[Client] = relationship()
    therapist: Mapped[Therapist] = relationship()

    def __str__(self) -> str:
        # Never the text: a note may end up in a log line, a lookup or an error message.
        return f"clinical note {self.id}"


@event.listens_for(ClinicalNote, "before_update")
def _refuse_update(_mapper, _connection, note: ClinicalNote) -> None:
    raise ClinicalNoteIsFinal(f"clinical note {note.id} is final: write a new note instead")


@event.listens_for(ClinicalNote, "before_delete")
def _refuse_delete(_mapper, _connection, note: ClinicalNote) -> None:
    raise ClinicalNoteIsFinal(f"clinical note {note.id} is final: it is kept as written")
