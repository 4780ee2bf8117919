"""Files the screens hand out (PDF, ZIP, CSV, XLSX): an attachment no cache may keep, since they hold
client names or the practice's figures."""

from __future__ import annotations

from flask import Response, request, stream_with_context
from werkzeug.wsgi import wrap_file

from admin_app.services.platform.documents import Document


def attachment(document: Document) -> Response:
    """A document made by `services.platform.documents`: whole, streamed while it is produced (in
    the request's context, so its rows can still be read), or an open file the server sends as it is
    and closes after."""
    content = document.content
    if hasattr(content, "read"):
        response = Response(wrap_file(request.environ, content), mimetype=document.mimetype, direct_passthrough=True)
        response.content_length = document.size
    elif isinstance(content, str | bytes):
        response = Response(content, mimetype=document.mimetype)
    else:
        response = Response(stream_with_context(content), mimetype=document.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response.cache_control.no_store = True
    return response
