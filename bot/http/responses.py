"""JSON responses serialised once, by orjson, from the plain data a route built."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

JsonObject = dict[str, Any]


def json_bytes(data: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON: what pydantic's model_dump_json writes for the same data."""
    return orjson.dumps(data)


def json_text(data: Mapping[str, Any]) -> str:
    return json_bytes(data).decode()


class JsonResponse(Response):
    """Data shaped like the route's `response_model`, as a JSON response.

    A route that returns a model lets FastAPI validate it against `response_model` again, dump it to Python
    objects and `json.dumps` those: three passes over a value the route has just built. The routes build the
    response's data instead (tests check it against the models) and this writes it once; `response_model`
    still documents the shape in OpenAPI.
    """

    media_type = "application/json"

    def __init__(self, data: Mapping[str, Any], status_code: int = 200,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(json_bytes(data), status_code=status_code, headers=headers)
