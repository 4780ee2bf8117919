"""Secret tokens of public links (calendar feeds, survey links).

A token is HMAC-SHA256(SECRET_KEY, "<purpose>:<id>:<nonce>"): 256 bits that the app can
compute again from the record (to render an email at delivery, or show a feed URL again), while
the database keeps only the nonce and the token's SHA-256 for the lookup. A database dump alone
opens no link; a new nonce (rotation) kills the old one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app

MAX_TOKEN_LENGTH = 100


def new_nonce() -> str:
    return secrets.token_hex(16)


def derive_token(purpose: str, record_id: int, nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"{purpose}:{record_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def plausible(token: str | None) -> bool:
    """Cheap refusal of what cannot be a token, before any lookup."""
    return bool(token) and len(token) <= MAX_TOKEN_LENGTH
