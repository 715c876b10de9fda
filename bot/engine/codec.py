"""Lossless JSON encoding of ConversationState and LeadSummary, for storage and replay."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.engine.types import ConversationState, LeadSummary, Outcome, ScoreEntry, Status, Tier

JSON = dict[str, Any]


def _entry_to_json(entry: ScoreEntry) -> JSON:
    return {"rule": entry.rule, "points": entry.points, "reason": entry.reason, "turn": entry.turn}


def _entry_from_json(data: JSON) -> ScoreEntry:
    return ScoreEntry(rule=data["rule"], points=int(data["points"]), reason=data["reason"], turn=int(data["turn"]))


def state_to_json(state: ConversationState, *, omit: frozenset[str] = frozenset()) -> JSON:
    """Encode a state as plain JSON types.

    `omit` may name "values", "started_at" and "updated_at": those are then left out, for a store that keeps
    them elsewhere and puts them back before state_from_json (which needs all three, except the values).
    """
    data: JSON = {
        "flow_id": state.flow_id,
        "flow_version": state.flow_version,
        "channel": state.channel,
        "state": state.state,
        "status": str(state.status),
        "outcome": str(state.outcome) if state.outcome else None,
        "ledger": [_entry_to_json(e) for e in state.ledger],
        "pending": state.pending,
        "attempts": dict(state.attempts),
        "objections": dict(state.objections),
        "handoff_requested": state.handoff_requested,
        "hot_fired": state.hot_fired,
        "attributes": dict(state.attributes),
        "turn": state.turn,
    }
    if "values" not in omit:
        data["values"] = dict(state.values)
    if "started_at" not in omit:
        data["started_at"] = state.started_at.isoformat()
    if "updated_at" not in omit:
        data["updated_at"] = state.updated_at.isoformat()
    return data


def state_from_json(data: JSON) -> ConversationState:
    """Decode what state_to_json produced."""
    return ConversationState(
        flow_id=data["flow_id"],
        flow_version=data["flow_version"],
        channel=data["channel"],
        state=data["state"],
        status=Status(data["status"]),
        outcome=Outcome(data["outcome"]) if data.get("outcome") else None,
        values=dict(data.get("values", {})),
        ledger=tuple(_entry_from_json(e) for e in data.get("ledger", [])),
        pending=data.get("pending"),
        attempts=dict(data.get("attempts", {})),
        objections=dict(data.get("objections", {})),
        handoff_requested=bool(data.get("handoff_requested", False)),
        hot_fired=bool(data.get("hot_fired", False)),
        attributes=dict(data.get("attributes", {})),
        turn=int(data.get("turn", 0)),
        started_at=datetime.fromisoformat(data["started_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
    )


def lead_to_json(lead: LeadSummary) -> JSON:
    """Encode a lead summary (what Slack and the admin console show)."""
    return {
        "flow_id": lead.flow_id,
        "state": lead.state,
        "status": str(lead.status),
        "outcome": str(lead.outcome) if lead.outcome else None,
        "score": lead.score,
        "tier": str(lead.tier),
        "reasons": [_entry_to_json(e) for e in lead.reasons],
        "values": dict(lead.values),
        "objections": dict(lead.objections),
    }


def lead_from_json(data: JSON) -> LeadSummary:
    """Decode what lead_to_json produced."""
    return LeadSummary(
        flow_id=data["flow_id"],
        state=data["state"],
        status=Status(data["status"]),
        outcome=Outcome(data["outcome"]) if data.get("outcome") else None,
        score=int(data["score"]),
        tier=Tier(data["tier"]),
        reasons=tuple(_entry_from_json(e) for e in data.get("reasons", [])),
        values=dict(data.get("values", {})),
        objections=dict(data.get("objections", {})),
    )
