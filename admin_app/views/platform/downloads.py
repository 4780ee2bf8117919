"""Files the screens hand out (PDF, ZIP, CSV, XLSX): an attachment no cache may keep, since they hold
client names or the practice's figures."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response


def attachment(data: bytes | str | Iterable[bytes] | Iterable[str], mimetype: str, filename: str) -> Response:
    """`data` whole, or an iterable the server sends as it is produced (a streamed export)."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.cache_control.no_store = True
    return response
