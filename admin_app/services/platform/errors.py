"""Domain errors: messages written for the person at the screen, translatable."""

from __future__ import annotations


class RuleViolation(Exception):
    """A change breaks a rule of the practice; nothing was written.

    `field` names the form field at fault when there is one, so a screen can show the
    message beside it.
    """

    def __init__(self, message, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class NotFound(RuleViolation):
    """The record does not exist, or the current user may not see it (same answer for both)."""


class NoLongerDue(Exception):
    """A queued message's cause is gone (appointment cancelled or moved): withdraw, don't send."""

    def __init__(self, reason) -> None:
        super().__init__(reason)
        self.reason = reason  # a lazy translation: shown in the reader's language
