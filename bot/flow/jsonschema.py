"""The JSON Schema of the flow format, generated from the pydantic models, for editor autocompletion."""

from __future__ import annotations

from typing import Any

from bot.flow.schema import FlowSpec

SCHEMA_ID = "https://salesbot.dev/schema/flow.json"
DURATION = {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(s|sec|m|min|h|hr|d|day|days|w|week|weeks)\s*$",
            "description": "a number and a unit: 90s, 30m, 2h, 3d, 1w"}


def _text_or_list(prop: dict[str, Any]) -> dict[str, Any]:
    items = prop.get("items", {"type": "string"})
    return {**{k: v for k, v in prop.items() if k not in ("type", "items")},
            "anyOf": [items, {"type": "array", "items": items}]}


def flow_json_schema() -> dict[str, Any]:
    """The schema as a dict (what `salesbot flows schema` prints and `docs/flow.schema.json` ships).

    pydantic describes what the models hold after validation; the shortcuts the loader accepts (a single
    `say:` text, plain-text options, `handoff: true`, a single `on_silence:` rule, `30m` durations) are added
    here so editors do not underline valid flows.
    """
    schema = FlowSpec.model_json_schema(by_alias=True, mode="validation")
    defs = schema["$defs"]
    state = defs["StateSpec"]["properties"]
    state["say"] = _text_or_list(state["say"])
    state["handoff"] = {**state["handoff"], "anyOf": [*state["handoff"]["anyOf"], {"type": "boolean"}]}
    rule = state["on_silence"]["items"]
    state["on_silence"] = {**{k: v for k, v in state["on_silence"].items() if k not in ("type", "items")},
                           "anyOf": [rule, {"type": "array", "items": rule}]}
    for name in ("ObjectionSpec", "FaqSpec"):
        answer = defs[name]["properties"]["answer"]
        defs[name]["properties"]["answer"] = _text_or_list({k: v for k, v in answer.items() if k != "minItems"})
    options = defs["QuestionSpec"]["properties"]["options"]
    options["items"] = {"anyOf": [{"type": "string"}, options["items"]]}
    defs["OptionSpec"]["required"] = ["id"]
    defs["SilenceRule"]["properties"]["after"] = {**DURATION, "title": "After"}
    # pydantic titles the schema after the model ("FlowSpec"): the file's title is set after it
    return {"$schema": "http://json-schema.org/draft-07/schema#", "$id": SCHEMA_ID, **schema,
            "title": "salesbot flow"}
