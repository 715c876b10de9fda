"""JSON responses serialised once, by pydantic-core."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel
from starlette.responses import Response


class ModelResponse(Response):
    """A pydantic model as a JSON response.

    A route that returns a model lets FastAPI validate it against `response_model` again, dump it to Python
    objects and `json.dumps` those: three passes over a value the route has just built. Returning this instead
    serialises it once in pydantic-core; the route's `response_model` still documents the shape in OpenAPI.
    """

    media_type = "application/json"

    def __init__(self, model: BaseModel, status_code: int = 200, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(model.model_dump_json(), status_code=status_code, headers=headers)
