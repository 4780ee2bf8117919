"""Files the screens hand out (PDF, ZIP, CSV, XLSX): an attachment no cache may keep, since they hold
client names or the practice's figures."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, current_app, flash, redirect, request, stream_with_context
from flask_babel import gettext
from werkzeug.wsgi import wrap_file

from admin_app.extensions import db
from admin_app.services.platform.documents import Document
from admin_app.services.platform.documents.pdf import PdfError
from admin_app.services.platform.errors import RuleViolation


def attachment(document: Document, *, inline: bool = False) -> Response:
    """A document made by `services.platform.documents`: whole, streamed while it is produced (in
    the request's context, so its rows can still be read), or an open file the server sends as it is
    and closes after. `inline` asks the browser to show it (a PDF opened from a link) rather than save it."""
    content = document.content
    if hasattr(content, "read"):
        response = Response(wrap_file(request.environ, content), mimetype=document.mimetype, direct_passthrough=True)
        response.content_length = document.size
    elif isinstance(content, str | bytes):
        response = Response(content, mimetype=document.mimetype)
    else:
        response = Response(stream_with_context(content), mimetype=document.mimetype)
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{document.filename}"'
    response.cache_control.no_store = True
    return response


def download_or_back(make: Callable[[], Document], back: str, what: str) -> Response:
    """The document `make` gives (its export recorded with it, then committed), or back to the page
    `back` with the rule that refused it or the news that the PDF writer failed (`what` names the
    document in the log)."""
    try:
        document = make()
    except RuleViolation as error:
        flash(str(error), "error")
        return redirect(back)
    except PdfError:
        current_app.logger.exception("%s: the PDF writer failed", what)
        flash(
            gettext("The PDF could not be produced. Try again; if it keeps failing, see the application log."),
            "error",
        )
        return redirect(back)
    db.session.commit()
    return attachment(document)
