"""Python's cycle collector held back while a screen builds objects by the hundred thousand.

The collector runs a full pass over every live object each time the objects made since the last one
outgrow a quarter of those that survived it: building the caseloads of a 200-therapist network
(88,000 lines, each a few objects kept until the page is made) set off four full passes, 0.8 of the
1.8 s its Python took. The objects built hold no cycles, so nothing waits to be collected meanwhile;
the collector runs again as soon as they are built.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cycle collection inside the block (reference counting frees objects as usual). It
    resumes after, unless it was off before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
