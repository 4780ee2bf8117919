"""STAND-IN for h-badfit's Bad Fit scan, so the task scan can call it; dropped at merge."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from admin_app.models import BadFitEntry


def scan_bad_fit(session: Session, *, now: dt.datetime | None = None) -> list[BadFitEntry]:
    return []
