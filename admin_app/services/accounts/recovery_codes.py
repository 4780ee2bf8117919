"""Recovery codes of the second factor (Flask-Security's `mf_recovery_codes_util_cls`)."""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from flask import current_app
from flask_security.recovery_codes import MfRecoveryCodesUtil

if TYPE_CHECKING:
    from admin_app.models import User


class HashedRecoveryCodes(MfRecoveryCodesUtil):
    """Recovery codes kept as keyed hashes (HMAC with SECRET_KEY), like every other secret the database
    holds: they are shown once, when made, and a copy of the database does not sign anyone in.
    (Flask-Security keeps them in clear, or encrypted and shown again on request.)"""

    def _encrypt_codes(self, codes: list[str]) -> list[str]:
        return [_code_hash(code) for code in codes]

    def get_recovery_codes(self, user: User) -> list[str]:
        return []  # only hashes are kept: nothing to show again

    def check_recovery_code(self, user: User, code: str) -> bool:
        return _code_hash(code) in (user.mf_recovery_codes or [])

    def delete_recovery_code(self, user: User, code: str) -> bool:
        """Use up the code: it works once."""
        index = (user.mf_recovery_codes or []).index(_code_hash(code))
        return current_app.extensions["security"].datastore.mf_delete_recovery_code(user, index)


def _code_hash(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, code.strip().lower().encode(), hashlib.sha256).hexdigest()
