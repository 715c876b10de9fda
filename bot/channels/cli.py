"""The terminal channel: numbered buttons for people, one JSON object per line for scripts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from bot.engine.codec import lead_to_json
from bot.engine.compiled import CompiledFlow
from bot.engine.types import ChoiceMade, ConversationState, Inbound, LeadSummary, TextReceived
from storage.repository import MessageRecord


def to_inbound(line: str, options: Sequence[Mapping[str, Any]]) -> Inbound:
    """A typed line: a button number picks that option; anything else is text for the engine to read."""
    text = line.rstrip("\r\n")
    stripped = text.strip()
    if stripped.isdigit() and options and 1 <= int(stripped) <= len(options):
        return ChoiceMade(option=str(options[int(stripped) - 1]["id"]))
    return TextReceived(text=text)


def to_json(message: MessageRecord) -> dict[str, Any]:
    """The JSON object printed for one bot message in --json mode."""
    payload = message.payload
    return {
        "type": "message",
        "id": message.id,
        "text": message.text,
        "options": list(payload.get("options", [])),
        "buttons": list(payload.get("buttons", [])),
        "state": payload.get("state"),
        "cause": {"kind": message.cause_kind, "id": message.cause_id},
    }


def to_terminal(message: MessageRecord) -> str:
    """A bot message as terminal text, with numbered options and URL buttons."""
    lines = [f"bot> {message.text}"] if message.text else []
    options = message.payload.get("options", [])
    if options:
        hint = " (several: 1,3)" if message.payload.get("multiple") else ""
        lines += [f"     [{n}] {option['label']}" for n, option in enumerate(options, start=1)]
        if hint:
            lines.append(f"     pick{hint}")
    lines += [f"     -> {button['label']}: {button['url']}" for button in message.payload.get("buttons", [])]
    return "\n".join(lines)


def summary(flow: CompiledFlow, state: ConversationState, lead: LeadSummary) -> dict[str, Any]:
    """The final `{"type": "summary"}` object: status, outcome, values, score, tier and why."""
    data = lead_to_json(lead)
    return {
        "type": "summary",
        "flow": flow.id,
        "flow_version": flow.version,
        "state": state.state,
        "status": state.status.value,
        "outcome": state.outcome.value if state.outcome else None,
        "values": data["values"],
        "score": data["score"],
        "tier": data["tier"],
        "reasons": [{"rule": r["rule"], "points": r["points"], "reason": r["reason"]} for r in data["reasons"]],
        "objections": data["objections"],
    }


class TerminalPrinter:
    """Writes bot messages to a stream, as text or JSON lines."""

    def __init__(self, out: TextIO, *, as_json: bool) -> None:
        self.out = out
        self.as_json = as_json
        self.options: list[Mapping[str, Any]] = []

    def show(self, messages: Sequence[MessageRecord]) -> None:
        for message in messages:
            if message.payload.get("options"):
                self.options = list(message.payload["options"])
            text = json.dumps(to_json(message), ensure_ascii=False) if self.as_json else to_terminal(message)
            if text:
                self.out.write(text + "\n")
        self.out.flush()

    def line(self, data: Mapping[str, Any]) -> None:
        self.out.write(json.dumps(data, ensure_ascii=False) + "\n")
        self.out.flush()
