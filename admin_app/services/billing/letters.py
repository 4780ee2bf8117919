"""An authorization's approval letter: a PDF or an image, kept outside the web root.

The file lives under `<instance>/letters/<random key>`; the record keeps the key, the name it was
uploaded with and its type. What a file is comes from its first bytes, never from its name (an
.exe renamed .pdf is refused). Reading a letter back records a view of protected data in the audit
trail. A replaced letter's file is removed once the change is committed (`discard`), so a change
that rolls back keeps the letter it had.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin_app.models import Authorization
from admin_app.models.audit import AuditAction, record_event
from admin_app.services.platform.documents import file_name
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.labels import field_label

MAX_LETTER_BYTES = 10 * 1024 * 1024
# The first bytes of each kept type, and the extension a download gets.
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
KEY = re.compile(r"[0-9a-f]{64}")
NAME_LENGTH = 255


@dataclasses.dataclass(frozen=True)
class Letter:
    content: bytes
    mimetype: str
    filename: str


def folder() -> Path:
    return Path(current_app.instance_path) / "letters"


def _path(key: str) -> Path:
    if not KEY.fullmatch(key or ""):
        raise NotFound(_l("This authorization has no approval letter."))
    return folder() / key


def _kind(content: bytes) -> tuple[str, str]:
    for signature, mimetype, extension in SIGNATURES:
        if content.startswith(signature):
            return mimetype, extension
    raise RuleViolation(
        _l("%(field)s: only a PDF, PNG or JPEG file can be kept", field=field_label("letter")), field="letter"
    )


def keep(authorization: Authorization, content: bytes, filename: str) -> str | None:
    """Store `content` as the authorization's letter; returns the key of the letter it replaces
    (to `discard` once the change is committed), or None. Refused: empty, over 10 MB, not a PDF,
    PNG or JPEG."""
    if not content:
        raise RuleViolation(_l("%(field)s: the file is empty", field=field_label("letter")), field="letter")
    if len(content) > MAX_LETTER_BYTES:
        raise RuleViolation(
            _l(
                "%(field)s: the file is larger than %(max)d MB",
                field=field_label("letter"),
                max=MAX_LETTER_BYTES // (1024 * 1024),
            ),
            field="letter",
        )
    mimetype, _extension = _kind(content)
    key = secrets.token_hex(32)
    folder().mkdir(parents=True, exist_ok=True)
    _path(key).write_bytes(content)
    replaced = authorization.letter_key
    authorization.letter_key = key
    authorization.letter_name = (Path(filename or "").name or "letter")[:NAME_LENGTH]
    authorization.letter_type = mimetype
    return replaced


def discard(key: str | None) -> None:
    """Remove a letter's file (replaced, or kept by a change that did not commit)."""
    if key:
        _path(key).unlink(missing_ok=True)


def read(session: Session, authorization: Authorization) -> Letter:
    """The authorization's letter, its reading recorded in the audit trail (in the caller's
    transaction). NotFound when it has none or its file is gone."""
    if not authorization.letter_key:
        raise NotFound(_l("This authorization has no approval letter."))
    path = _path(authorization.letter_key)
    if not path.is_file():
        raise NotFound(_l("This authorization has no approval letter."))
    content = path.read_bytes()
    mimetype, extension = _kind(content)
    record_event(session, action=AuditAction.VIEW, entity=Authorization.__tablename__, entity_id=authorization.id)
    stem = Path(authorization.letter_name or "letter").stem
    return Letter(content, mimetype, file_name(stem, extension=extension, placeholder="letter"))
