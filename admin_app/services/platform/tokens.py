"""Secret tokens of public links (calendar feeds, survey links, login invitations).

A token is HMAC-SHA256(SECRET_KEY, "<purpose>:<id>:<nonce>"): 256 bits that the app can
compute again from the record (to render an email at delivery, or show a feed URL again), while
the database keeps only the nonce and the token's SHA-256 for the lookup. A database dump alone
opens no link; a new nonce (rotation) kills the old one.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

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


@dataclasses.dataclass(frozen=True)
class PublicLink:
    """One kind of emailed link whose record keeps a `token_nonce` and its token's `token_hash`
    (a survey invitation, a login invitation)."""

    purpose: str
    path: str  # with a {token} placeholder

    def token(self, record) -> str:
        return derive_token(self.purpose, record.id, record.token_nonce)

    def url(self, record) -> str:
        return current_app.config["PUBLIC_BASE_URL"] + self.path.format(token=self.token(record))

    def issue(self, session: Session, record):
        """Add a new link record with a fresh nonce; the hash of its token is stored once the
        record has its id (the token is derived from it)."""
        record.token_nonce = new_nonce()
        record.token_hash = ""
        session.add(record)
        session.flush()
        record.token_hash = token_hash(self.token(record))
        return record

    def find(self, session: Session, model, token: str | None):
        """The record this token opens, whatever its state; None for what cannot be a token."""
        if not plausible(token):
            return None
        return session.scalar(select(model).where(model.token_hash == token_hash(token)))
