"""The error hierarchy: one root, a few precise kinds, each message saying what, where and how to fix."""

from __future__ import annotations

from dataclasses import dataclass


class BotError(Exception):
    """Root of every error salesbot raises on purpose."""


class ConfigError(BotError):
    """A setting is missing or malformed. The message names the key and the fix."""


@dataclass(frozen=True, kw_only=True)
class FlowIssue:
    """One problem found in a flow file, pinned to a position."""

    file: str
    line: int
    col: int
    message: str
    hint: str = ""

    def format(self) -> str:
        """Render as `file:line:col: error: message` plus an indented hint line."""
        text = f"{self.file}:{self.line}:{self.col}: error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class FlowError(BotError):
    """A flow file failed to load or validate. Carries every issue found, not just the first."""

    def __init__(self, issues: list[FlowIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.file, i.line, i.col, i.message))
        super().__init__("\n".join(issue.format() for issue in self.issues))


class ChannelError(BotError):
    """A channel adapter could not translate or deliver a message."""


class HandoffError(BotError):
    """A handoff to a human could not be delivered."""


class StorageError(BotError):
    """The database refused an operation or is not reachable."""


class ConversationChanged(StorageError):
    """A conversation was saved by another transaction after this one read it: run the turn again."""

    def __init__(self, conversation_id: str, read: int, stored: int) -> None:
        super().__init__(f"conversation {conversation_id} was saved by another transaction after this one read it "
                         f"(revision {read}, now {stored}); nothing was saved: run the turn again")
        self.conversation_id = conversation_id
