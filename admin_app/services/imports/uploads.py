"""An uploaded file waiting for its confirmation, and where it waits: `instance/imports/<random
token>.<csv|xlsx>`, with its checked preview beside it as `<token>.preview.json`.

The import screen keeps the `Pending` in the Flask session; a run in the background (checking or
importing a large file) keeps it in its row's params, since a job's arguments are ids only. Either
way only the token, the kind and the file names travel, never the file.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from admin_app.models.base import utcnow
from admin_app.services.imports import KINDS

EXTENSIONS = ("csv", "xlsx")
STALE_SECONDS = 24 * 3600
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24)

FILE_GONE = _l("The uploaded file is no longer on the server: upload it again.")
CHANGED_MEANWHILE = _l("Someone changed the same records meanwhile; nothing was imported. Check the file again.")
NOT_PASSING = _l(
    "The file does not pass the checks (the practice's records may have changed since the "
    "preview): nothing was imported. The errors are listed below."
)


@dataclasses.dataclass(frozen=True)
class Pending:
    """An uploaded file waiting for its confirmation."""

    token: str
    kind: str
    filename: str
    extension: str

    @classmethod
    def of(cls, saved: object) -> Pending | None:
        """The upload a session or a run's params hold; None when they hold none, or anything odd."""
        if not isinstance(saved, Mapping):
            return None
        try:
            pending = cls(**{field.name: str(saved[field.name]) for field in dataclasses.fields(cls)})
        except (KeyError, TypeError):
            return None
        if not TOKEN.fullmatch(pending.token) or pending.extension not in EXTENSIONS or pending.kind not in KINDS:
            return None
        return pending

    @property
    def path(self) -> Path:
        return upload_folder() / f"{self.token}.{self.extension}"

    @property
    def preview_path(self) -> Path:
        return upload_folder() / f"{self.token}.preview.json"

    @property
    def run_key(self) -> str:
        """The key of its runs (checking, importing): one at a time per upload."""
        return f"import:{self.token}"

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        self.preview_path.unlink(missing_ok=True)


def upload_folder() -> Path:
    return Path(current_app.instance_path) / "imports"


def sweep_stale_uploads(folder: Path) -> None:
    cutoff = utcnow().timestamp() - STALE_SECONDS
    for path in folder.glob("*.*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            continue  # another process swept it first
