"""The one error body of the HTTP API, `{"error": {"code": ..., "message": ...}}`, and the handlers that build it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

log = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    """The `error.code` values; docs/webchat-api.md lists when each is sent."""

    INVALID_JSON = "invalid_json"
    UNAUTHORIZED = "unauthorized"
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    BODY_TOO_LARGE = "body_too_large"
    INVALID_REQUEST = "invalid_request"
    MESSAGE_TOO_LONG = "message_too_long"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    UNAVAILABLE = "unavailable"


class ErrorDetail(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: ErrorCode
    message: str


class ErrorOut(BaseModel):
    """Every non-2xx response of the API has this body."""

    model_config = ConfigDict(frozen=True)

    error: ErrorDetail


class ApiError(Exception):
    """Raise in a route to answer with an error body. `message` is shown to the client: keep it friendly."""

    def __init__(self, status: int, code: ErrorCode, message: str, *, headers: Mapping[str, str] | None = None
                 ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


# Fixed texts for errors whose cause must stay on the server (prospects never see exception text).
INTERNAL_MESSAGE = "Something went wrong on our side. Please try again in a moment."
UNAVAILABLE_MESSAGE = "The chat is temporarily unavailable. Please try again in a moment."


def error_response(status: int, code: ErrorCode, message: str, headers: Mapping[str, str] | None = None
                   ) -> JSONResponse:
    """The JSON error response; also used by the pure-ASGI middleware, which cannot raise ApiError."""
    body = ErrorOut(error=ErrorDetail(code=code, message=message))
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=dict(headers or {}))


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """The `responses=` of a route: documents each status with the error body in the OpenAPI spec."""
    return {status: {"model": ErrorOut, "description": _DESCRIPTIONS[status]} for status in statuses}


_DESCRIPTIONS = {
    400: "`invalid_json`: the body is not JSON",
    401: "`unauthorized`: missing or wrong session token",
    403: "`origin_not_allowed`: the Origin is not in WEBCHAT_ALLOWED_ORIGINS",
    404: "`not_found`: unknown session or flow",
    413: "`body_too_large`: body over WEBCHAT_MAX_BODY_BYTES",
    422: "`invalid_request` (a field is missing or wrong) or `message_too_long`",
    429: "`rate_limited`: over the per-session or per-IP rate; see the Retry-After header",
    503: "`unavailable`: the database is not reachable",
}


def add_error_handlers(app: FastAPI) -> None:
    """Route every error FastAPI and Starlette raise to the one error body."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


async def _api_error(_request: Request, exc: Exception) -> Response:
    if not isinstance(exc, ApiError):  # pragma: no cover - registered for ApiError only
        raise exc
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover - registered for this type only
        raise exc
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        return error_response(400, ErrorCode.INVALID_JSON, "The body is not valid JSON; send a JSON object.")
    if isinstance(exc.body, bytes):  # FastAPI reads a body as JSON only when the Content-Type says so
        return error_response(422, ErrorCode.INVALID_REQUEST, "Send the body as a JSON object with the header "
                              "Content-Type: application/json.")
    return error_response(422, ErrorCode.INVALID_REQUEST, describe_validation_errors(errors))


def describe_validation_errors(errors: list[Mapping[str, object]]) -> str:
    """`body.text: Input should be a valid string` for the first few errors; never echoes the input."""
    parts = []
    for error in errors[:3]:
        where = ".".join(str(part) for part in _as_tuple(error.get("loc")))
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more + "."


def _as_tuple(loc: object) -> tuple[object, ...]:
    return tuple(loc) if isinstance(loc, (list, tuple)) else ()


async def _http_error(_request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover - registered for this type only
        raise exc
    if exc.status_code == 404:
        return error_response(404, ErrorCode.NOT_FOUND, "Nothing here; see /docs for the API.")
    if exc.status_code == 405:
        return error_response(405, ErrorCode.METHOD_NOT_ALLOWED, "This method is not allowed here; see /docs.",
                              exc.headers)
    if exc.status_code == 400:
        return error_response(400, ErrorCode.INVALID_JSON, "The body could not be read; send a JSON object.")
    log.warning("unexpected HTTP error", extra={"status": exc.status_code})
    return error_response(exc.status_code, ErrorCode.INVALID_REQUEST, "The request could not be handled.")
