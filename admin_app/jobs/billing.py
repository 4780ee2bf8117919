"""Jobs of billing: the periodic scan that alerts on authorizations running low."""

from __future__ import annotations

from admin_app.extensions import db
from admin_app.jobs.queue import job
from admin_app.services.billing import alerts


@job
def alert_low_authorizations() -> int:
    """Alert once on each authorization that became low (idempotent); the emails go out on commit."""
    became_low = alerts.alert_low_authorizations(db.session)
    db.session.commit()
    return became_low
