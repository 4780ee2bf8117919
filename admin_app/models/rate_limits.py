"""The counters of the request limits (guessing links, sign-in, password resets) when there is no Redis.

One row per limit window and key, as the `limits` library names them; every web process reads and
increments the same row, so a limit holds however many workers serve. Rows past `expires_at` count
for nothing and are deleted by the periodic clean-up.
"""

from __future__ import annotations

from sqlalchemy import Double, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.models.base import Base


class RateLimitCounter(Base):
    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    # Seconds since the epoch, as the `limits` library counts expiry.
    expires_at: Mapped[float] = mapped_column(Double, index=True)
