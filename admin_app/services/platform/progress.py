"""How long work tells how far it is: `progress(done, total)`, called as items are done (a run in
the background writes it where its screen reads it: services.job_runs); `ignore` when nobody watches."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]


def ignore(done: int, total: int) -> None:
    """Progress nobody watches (a command, a request that waits for the result)."""
