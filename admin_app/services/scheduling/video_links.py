"""An appointment's video link: the one rule of what it may be, for every write path, and what a
reminder may send of a link stored before the rule.

Only an `https://` address with a host is accepted: a `javascript:` or `data:` link would run in the
client's mail reader or browser from the reminder, and a plain `http://` call would travel in clear.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import field_label


def checked_video_link(text: str | None) -> str | None:
    """The link as it will be stored (trimmed; None when empty); raises RuleViolation (field
    "video_link") for anything but an https address."""
    value = (text or "").strip()
    if not value:
        return None
    if https_address(value) is None:
        raise RuleViolation(
            _l(
                "%(field)s: only a secure web address (https://) is accepted, such as https://meet.example.com/room",
                field=field_label("video_link"),
            ),
            field="video_link",
        )
    return value


def https_address(text: str | None) -> str | None:
    """`text` trimmed when it is an https address with a host and no space or control character;
    else None (what a reminder leaves out of a link stored before the rule)."""
    value = (text or "").strip()
    if any(char.isspace() or unicodedata.category(char)[0] == "C" for char in value):
        return None
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # an unbalanced [ in the host
        return None
    return value if parts.scheme.lower() == "https" and host else None
