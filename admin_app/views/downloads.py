"""Files the screens hand out (PDF, ZIP, CSV): an attachment no cache may keep, since they hold
client names or the practice's figures."""

from __future__ import annotations

from flask import Response


def attachment(data: bytes | str, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.cache_control.no_store = True
    return response
