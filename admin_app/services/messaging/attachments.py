"""A file an email carries, made at delivery from the ids its outbox row holds (services.messaging.rendering)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes
