"""One counter for every factory, so that generated names, emails and ids never collide."""

from __future__ import annotations

import itertools

_numbers = itertools.count(1)


def next_number() -> int:
    return next(_numbers)
