"""Scans at once (DESIGN.md: one open Bad Fit entry per client, however many machines scan): a few
processes, each with its own app, engine and transaction, scan the same five no-shows at the same
moment; each client gets one entry, opened by exactly one of them.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Attendance, BadFitEntry
from admin_app.services.tasks import bad_fit
from tests.conftest import REAL_TIME, make_app
from tests.factories import book, make_client, make_therapist

SCANNERS = 4
ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))


@pytest.mark.skipif(not ON_POSTGRES, reason="several machines scan at once on PostgreSQL (TEST_DATABASE_URL)")
@pytest.mark.parametrize("clock", [REAL_TIME], indirect=True)
def test_scans_at_once_open_one_entry_per_client(app, clock):
    therapist = make_therapist()
    yesterday = dt.datetime.combine(clock.today(), dt.time(9)) - dt.timedelta(days=1)
    for number in range(5):
        client = make_client(therapist, full_name=f"Client {number}")
        book(therapist, [client], yesterday - dt.timedelta(hours=number), attendance=Attendance.NO_SHOW)
    db.session.commit()
    url = db.engine.url.render_as_string(hide_password=False)

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with context.Manager() as manager, context.Pool(SCANNERS) as pool:
        start = manager.Barrier(SCANNERS, timeout=60)
        opened = pool.starmap(_scan_at_once, [(url, start)] * SCANNERS, chunksize=1)

    assert sum(opened) == 5
    assert db.session.scalar(select(func.count()).select_from(BadFitEntry)) == 5


def _scan_at_once(url: str, start) -> int:
    """In a process of its own: wait for the others, then scan; how many entries it opened."""
    app = make_app(url)
    with app.app_context():
        start.wait()
        opened = len(bad_fit.scan_bad_fit(db.session))
        db.session.commit()
        db.session.remove()
        return opened
