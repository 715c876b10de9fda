"""Request parsing for routes that run outside FastAPI's request machinery, failing the way FastAPI fails.

FastAPI spends ~150 µs per request on routing through included routers, solving dependencies and
building a Request, which is more than the busiest route's own work besides the database, and an open event
stream keeps all of those layers alive. Those routes are plain Starlette routes (see
WebChatChannel.fast_routes); these helpers give them FastAPI's behaviour: the same RequestValidationError for
a bad body or query parameter, and the same reading of the bearer token.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request

Model = TypeVar("Model", bound=BaseModel)


async def json_body(request: Request, model: type[Model]) -> Model:
    """The body as `model`, parsed as FastAPI parses a `body: model` parameter.

    Raises:
        RequestValidationError: as FastAPI raises it for a `body: model` parameter (locations under
            "body"; the raw bytes as `body` when the Content-Type is not JSON; `json_invalid` for bad JSON).
        HTTPException: 400, for bytes that are not text in any encoding JSON may use (as FastAPI).
    """
    raw = await request.body()
    if not raw:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required",
                                       "input": None}])
    return _validated(model, _json_data(request, raw))


async def optional_json_body(request: Request, model: type[Model]) -> Model | None:
    """The body as `model`, or None for no body or `null`: as FastAPI parses a `body: model | None = None`."""
    raw = await request.body()
    if not raw:
        return None
    data = _json_data(request, raw)
    return None if data is None else _validated(model, data)


def _json_data(request: Request, raw: bytes) -> Any:
    if not _is_json(request.headers.get("content-type", "")):
        raise RequestValidationError([{"type": "model_attributes_type", "loc": ("body",),
                                       "msg": "Input should be a valid dictionary or object to extract fields from",
                                       "input": None}], body=raw)
    try:
        # json.loads, not pydantic's own JSON parser: that one refuses escaped lone surrogates ("\\ud800"),
        # which browsers send for broken emoji and FastAPI accepts (the channel replaces them).
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error",
                                       "input": {}}], body=raw) from exc
    except ValueError as exc:  # bytes in no encoding JSON may use
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc


def query_params(request: Request, model: type[Model]) -> Model:
    """The query parameters `model` declares, as FastAPI reads and validates query parameters: the last value of
    a repeated name, errors located under "query".

    Raises:
        RequestValidationError: as FastAPI raises it for the route's query parameters.
    """
    params = request.query_params
    return _validated(model, {name: params[name] for name in model.model_fields if name in params}, "query")


def _validated(model: type[Model], data: Any, location: str = "body") -> Model:
    try:
        return model.model_validate(data, from_attributes=True)  # FastAPI's mode, hence its error messages
    except ValidationError as exc:
        errors = [{**error, "loc": (location, *error["loc"])} for error in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, as FastAPI's HTTPBearer reads it."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def _is_json(content_type: str) -> bool:
    """application/json or application/<anything>+json, parameters ignored (FastAPI's rule)."""
    media = content_type.partition(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))
