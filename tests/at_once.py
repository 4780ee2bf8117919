"""Work started at the same moment on several machines: each in an app of its own (its engine, its
connection, its transaction), all released together by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from admin_app.extensions import db
from tests.conftest import make_app


def at_once(works: Sequence[Callable[[], object]]) -> list[object]:
    """Run each of `works` in an app of its own, all at once; what each returned, or the error it
    raised, in the order they ended. The apps are made before the threads start: under load, making
    one takes longer than a barrier should wait, and the race under test is the work's, not the set-up."""
    url = db.engine.url.render_as_string(hide_password=False)
    apps = [make_app(url) for _ in works]
    start = threading.Barrier(len(works), timeout=120)
    outcomes: list[object] = []

    def in_own_app(other, work: Callable[[], object]) -> None:
        with other.app_context():
            try:
                start.wait()
                outcomes.append(work())
            except BaseException as error:  # noqa: BLE001 - handed to the test
                outcomes.append(error)
            finally:
                db.session.remove()
                db.engine.dispose()

    threads = [threading.Thread(target=in_own_app, args=pair) for pair in zip(apps, works, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return outcomes
