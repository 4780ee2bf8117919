"""The receipt link a client gets by email: `/receipts/<token>`, no login; the token is the key.

A valid link answers the receipt's PDF (shown in the browser); the first open is noted on the link and
every open is an audit event (`services.billing.receipts.receipt_pdf`), which never holds the token.
An expired link answers 410 and an unknown one 404, both with a page in the visitor's language that
says to ask the practice for a new link, and never any data. Unknown links count against the
visitor's IP as the survey's do: past the limit every receipt link answers 429 from that IP.

The token travels in the path: the answers are not cached or indexed and send no referrer;
gunicorn's access log cuts the token (gunicorn.conf.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded

from admin_app.extensions import db, limiter
from admin_app.services.billing import receipts
from admin_app.services.billing.receipts import LinkState
from admin_app.services.platform.documents import PDF_MIMETYPE
from admin_app.services.platform.documents.pdf import PdfError
from admin_app.views.platform.downloads import attachment
from admin_app.views.platform.public import PRIVATE_HEADERS, guess_limit, too_many_attempts, visitor_language

blueprint = Blueprint("receipt", __name__)
blueprint.register_error_handler(RateLimitExceeded, too_many_attempts)
UNKNOWN_STATUS, EXPIRED_STATUS = 404, 410


@blueprint.after_request
def _private_page(response):
    response.headers.update(PRIVATE_HEADERS)
    return response


def _unknown_link(response) -> bool:
    """Only a link that opened nothing counts towards the guessing limit (an expired one was real)."""
    return response.status_code == UNKNOWN_STATUS


@blueprint.get("/receipts/<token>")
@limiter.limit(guess_limit, deduct_when=_unknown_link)
def open_receipt(token: str):
    checked_only = request.method == "HEAD"  # a mail scanner checking the link: no open, no PDF
    state, payment_id = receipts.open_link(db.session, token, mark_opened=not checked_only)
    if state == LinkState.UNKNOWN:
        return _does_not_work(UNKNOWN_STATUS)
    if state == LinkState.EXPIRED:
        return _does_not_work(EXPIRED_STATUS)
    if checked_only:
        return "", 200, {"Content-Type": PDF_MIMETYPE}
    try:
        document = receipts.receipt_pdf(db.session, payment_id, actor=receipts.LINK_ACTOR)
    except PdfError:
        db.session.rollback()
        current_app.logger.exception("the PDF of the receipt of payment %s failed", payment_id)
        with force_locale(visitor_language()):
            page = render_template(
                "public/notice.html",
                heading=_("The receipt could not be shown"),
                text=_("Please try again in a few minutes."),
            )
        return page, 503
    db.session.commit()
    return attachment(document, inline=True)


def _does_not_work(status: int):
    """An expired or unknown link: no data, only what to do next."""
    with force_locale(visitor_language()):
        page = render_template(
            "public/notice.html",
            heading=_("This receipt link has expired"),
            text=_("Links to receipts work for a limited time. Please ask the practice to send you the receipt again."),
        )
    return page, status
