"""Domain errors: messages written for the person at the screen, translatable."""

from __future__ import annotations


class RuleViolation(Exception):
    """A change breaks a rule of the practice; nothing was written.

    `field` names the form field at fault when there is one, so a screen can show the
    message beside it. `discreet` is the wording for a reader who may not see the other record the
    message names (a therapist in the portal told that a room is taken, not by whom).
    """

    def __init__(self, message, *, field: str | None = None, discreet=None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.discreet = discreet

    def __str__(self) -> str:
        return str(self.message)

    def discreetly(self) -> RuleViolation:
        """The same refusal in its discreet wording (itself when it names nothing of others)."""
        if self.discreet is None:
            return self
        return type(self)(self.discreet, field=self.field)


class NotFound(RuleViolation):
    """The record does not exist, or the current user may not see it (same answer for both)."""


class NoLongerDue(Exception):
    """A queued message's cause is gone (appointment cancelled or moved): withdraw, don't send."""

    def __init__(self, reason) -> None:
        super().__init__(reason)
        self.reason = reason  # a lazy translation: shown in the reader's language
