"""Server-side web sessions: the browser's cookie carries only a random id; what a session holds
(who signed in, the CSRF token, flashed messages that may name a client) stays in this table.

A row is found by the SHA-256 of the id, so a copy of the database gives no cookie that works. A
signed-in row also says whose it is, when it started, when it was last used (written at most once
a minute), and from which browser and address: the "My sessions" page lists them, and deleting a
row ends that session at once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.models.base import Base, UTCDateTime


class WebSession(Base):
    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # After this instant the row opens no session (idle timeout or absolute lifetime, whichever is first).
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    signed_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(45))
