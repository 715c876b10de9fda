"""The JSON Schema of the flow format, generated from the pydantic models, for editor autocompletion."""

from __future__ import annotations

from typing import Any

from bot.flow.schema import FlowSpec

SCHEMA_ID = "https://salesbot.dev/schema/flow.json"


def flow_json_schema() -> dict[str, Any]:
    """The schema as a dict (what `salesbot flows schema` prints and `docs/flow.schema.json` ships)."""
    schema = FlowSpec.model_json_schema(by_alias=True, mode="validation")
    # pydantic titles the schema after the model ("FlowSpec"): the file's title is set after it
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            **schema, "title": "salesbot flow"}
