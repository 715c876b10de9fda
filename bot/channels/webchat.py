"""The web-chat channel: the JSON API of docs/webchat-api.md on top of the ConversationService."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Header, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.channels.events import EventHub, Subscription
from bot.engine.types import ChoiceMade, Inbound, TextReceived
from bot.errors import StorageError
from bot.http.errors import UNAVAILABLE_MESSAGE, ApiError, ErrorCode, error_responses
from bot.http.parsing import bearer_token, json_body, optional_json_body, query_params
from bot.http.ratelimit import TokenBucketLimiter
from bot.http.responses import JsonObject, JsonResponse, json_text
from bot.http.sse import EventStreamResponse
from bot.http.tokens import SessionTokens
from bot.service import ConversationService, UnknownConversation
from storage.repository import Direction, MessageRecord

log = logging.getLogger(__name__)

CHANNEL = "web"
_SAFE_URL_PREFIXES = ("http://", "https://", "mailto:", "tel:")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # C0 controls and DEL; keeps \t \n \r
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # lone halves of a pair: JSON allows them, UTF-8 cannot store them
_ID = r"^[A-Za-z0-9._:-]+$"


# ---------------------------------------------------------------- the wire format


class OptionOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    label: str


class ButtonOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    url: str = Field(description="http, https, mailto or tel only")


class MessageOut(BaseModel):
    """One message, in or out. The same shape in every response and event."""

    model_config = ConfigDict(frozen=True)

    id: int = Field(description="Stable and increasing; use it for ?after= and Last-Event-ID")
    direction: Literal["in", "out"]
    author: Literal["bot", "prospect", "rep"]
    created_at: str = Field(json_schema_extra={"format": "date-time"}, examples=["2026-11-26T16:50:20.123456+00:00"])
    text: str = Field(description="Plain text; never HTML")
    options: list[OptionOut] = Field(default_factory=list)
    buttons: list[ButtonOut] = Field(default_factory=list)
    multiple: bool = Field(False, description='Options allow several picks (send "a,b" as the choice)')
    state: str | None = Field(None, description="The flow state that produced it (null for prospect messages)")


class SessionCreate(BaseModel):
    """Everything optional: which flow, and where the visitor came from (kept with the conversation)."""

    model_config = ConfigDict(frozen=True)

    flow: str | None = Field(None, max_length=100, pattern=_ID)
    source: str | None = Field(None, max_length=200)
    locale: str | None = Field(None, max_length=35)
    utm_source: str | None = Field(None, max_length=200)
    utm_medium: str | None = Field(None, max_length=200)
    utm_campaign: str | None = Field(None, max_length=200)
    utm_term: str | None = Field(None, max_length=200)
    utm_content: str | None = Field(None, max_length=200)

    def attributes(self) -> dict[str, str]:
        """The non-empty context fields, cleaned, as conversation attributes."""
        fields = self.model_dump(exclude={"flow"}, exclude_none=True)
        cleaned = {key: clean_text(str(value)).strip() for key, value in fields.items()}
        return {key: value for key, value in cleaned.items() if value}


class SessionCreated(BaseModel):
    model_config = ConfigDict(frozen=True)

    session_id: str
    token: str = Field(description="Send as `Authorization: Bearer <token>`; keep it (e.g. in localStorage)")
    flow: str
    messages: list[MessageOut]


class MessageIn(BaseModel):
    """Exactly one of `text` and `choice`, plus the client's id for this message (retries reuse it)."""

    model_config = ConfigDict(frozen=True)

    text: str | None = Field(None, description="What the prospect typed")
    choice: str | None = Field(None, min_length=1, max_length=500, pattern=r"^[A-Za-z0-9_.:,-]+$",
                               description="An option id, or several joined by commas")
    client_message_id: str = Field(min_length=1, max_length=100, pattern=_ID,
                                   description="Unique per message; resending it returns the first replies")

    @model_validator(mode="after")
    def _exactly_one(self) -> MessageIn:
        if (self.text is None) == (self.choice is None):
            raise ValueError("send exactly one of text or choice")
        return self


class TurnOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    inbound: MessageOut
    messages: list[MessageOut] = Field(description="The bot's replies")
    duplicate: bool = Field(description="This client_message_id was seen before; nothing was processed again")


class HistoryOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    messages: list[MessageOut]


class EventsQuery(BaseModel):
    """The query parameters of GET .../events: declared once, for the documented route and its fast route."""

    token: str | None = Field(default=None, description="For EventSource, which cannot set headers")
    after: int | None = Field(default=None, ge=0, description="Resume after this id")


# ---------------------------------------------------------------- translation


def clean_text(text: str) -> str:
    """Drop control characters (NUL breaks PostgreSQL) and replace lone surrogates (UTF-8 cannot hold them)."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))


def to_inbound(body: MessageIn) -> Inbound:
    """The engine event for a posted message."""
    if body.choice is not None:
        return ChoiceMade(option=body.choice)
    return TextReceived(text=clean_text(body.text or ""))


def channel_message_id(session_id: str, client_message_id: str) -> str:
    """The dedup key: unique per channel, so scoped by session (clients only make theirs unique)."""
    return f"{session_id}:{client_message_id}"


def to_message(record: MessageRecord, created_at: str | None = None) -> JsonObject:
    """A stored message as the API shows it: the JSON data of a MessageOut, field for field (tests pin the two
    equal). Plain data, because building the pydantic models cost more than the rest of a route's own work;
    the models remain the documented schema. URL buttons with other schemes (javascript:, data:) are dropped.
    `created_at` is the record's created_at in ISO format, when the caller has it already."""
    if record.id is None:
        raise ValueError(f"message of conversation {record.conversation_id} has no id; store it before sending it")
    # A prospect's message shows no options, buttons or state, whatever its payload holds (e.g. its choice).
    payload = record.payload if record.direction is Direction.OUT else {}
    state = payload.get("state")
    return {
        "id": record.id, "direction": str(record.direction), "author": str(record.author),
        "created_at": created_at or record.created_at.isoformat(), "text": record.text,
        "options": [{"id": str(o["id"]), "label": str(o["label"])} for o in payload.get("options", [])],
        "buttons": [{"label": str(b["label"]), "url": str(b["url"])} for b in payload.get("buttons", [])
                    if str(b.get("url", "")).lower().startswith(_SAFE_URL_PREFIXES)],
        "multiple": bool(payload.get("multiple", False)),
        "state": str(state) if state else None,
    }


def to_messages(records: Iterable[MessageRecord]) -> list[JsonObject]:
    """to_message of each record, each distinct time put in ISO format once: the messages of a turn share one."""
    encoded = []
    last: tuple[datetime | None, str] = (None, "")
    for record in records:
        if record.created_at is not last[0]:
            last = (record.created_at, record.created_at.isoformat())
        encoded.append(to_message(record, last[1]))
    return encoded


def to_message_json(record: MessageRecord) -> str:
    """The message as one line of JSON (for an event's `data:` field)."""
    return json_text(to_message(record))


def to_event(record: MessageRecord) -> bytes:
    """One Server-Sent Event: `id:`, `event: message` and the message JSON as `data:`."""
    return f"id: {record.id}\nevent: message\ndata: {to_message_json(record)}\n\n".encode()


# ---------------------------------------------------------------- the routes

# The Authorization header, declared for the OpenAPI spec; checked by WebChatChannel._authorize (401 if wrong).
_bearer = HTTPBearer(auto_error=False, description="The session token from POST /api/chat/sessions")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class WebChatChannel:
    """Owns the web-chat routes. `service` is a callable because the server opens the database at startup."""

    def __init__(self, *, service: Callable[[], ConversationService], tokens: SessionTokens, hub: EventHub,
                 session_limiter: TokenBucketLimiter, max_message_chars: int, ping_interval: float = 15.0,
                 max_streams_per_session: int = 10) -> None:
        self._service = service
        self._tokens = tokens
        self._hub = hub
        self._session_limiter = session_limiter
        self._max_chars = max_message_chars
        self._ping_interval = ping_interval
        self._max_streams = max_streams_per_session

    def router(self) -> APIRouter:
        """The `/api/chat` routes, documented in the OpenAPI spec with their models and error bodies."""
        router = APIRouter(prefix="/api/chat", tags=["web chat"])

        @router.post("/sessions", status_code=201, response_model=SessionCreated,
                     responses=error_responses(400, 403, 404, 413, 422, 429, 503))
        async def create_session(body: Annotated[SessionCreate | None, Body()] = None) -> JsonResponse:
            """Start a conversation. Returns its token and the bot's first messages."""
            # Served by fast_routes() where the app mounts them, like send_message below.
            return JsonResponse(await self._create_session(body or SessionCreate()), status_code=201)

        @router.post("/sessions/{session_id}/messages", response_model=TurnOut,
                     responses=error_responses(400, 401, 403, 404, 413, 422, 429, 503))
        async def send_message(session_id: str, body: MessageIn, credentials: Credentials) -> JsonResponse:
            """Send the prospect's text or choice; returns the bot's replies. Safe to retry."""
            # Served by fast_routes() when the app mounts them (create_app does); this declaration documents
            # the endpoint in OpenAPI and serves it wherever they are not mounted.
            return await self._post_message(session_id, body, credentials.credentials if credentials else None)

        @router.get("/sessions/{session_id}/messages", response_model=HistoryOut,
                    responses=error_responses(401, 404, 422, 429, 503))
        async def history(session_id: str, credentials: Credentials,
                          after: Annotated[int | None, Query(ge=0, description="Only messages after this id")]
                          = None) -> JsonResponse:
            """The conversation so far, both directions, in order (at most 500 per call: page with ?after=)."""
            self._authorize(session_id, credentials.credentials if credentials else None)
            with _service_errors(session_id):
                if await self._service().get(session_id) is None:
                    raise UnknownConversation(session_id)
                messages = await self._service().history(session_id, after_id=after)
            return JsonResponse({"messages": to_messages(messages)})  # a HistoryOut

        @router.get("/sessions/{session_id}/events", response_class=EventStreamResponse, status_code=200,
                    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                                     "description": "`id: <message id>`, `event: message`, `data: <Message>`"},
                               **error_responses(401, 404, 422, 429, 503)})
        async def events(session_id: str, credentials: Credentials, query: Annotated[EventsQuery, Query()],
                         last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
                         ) -> EventStreamResponse:
            """Server-Sent Events: messages no request waits for (follow-up timers, a sales rep's replies)."""
            # Served by fast_routes() where the app mounts them: an open stream then holds no FastAPI layers.
            return await self._open_stream(session_id, credentials.credentials if credentials else query.token,
                                           query.after, last_event_id)

        return router

    def fast_routes(self) -> list[Route]:
        """The busiest endpoints as plain Starlette routes, to serve ahead of the FastAPI routes (FastPathApp).

        Every prospect message goes through POST .../messages, and every visitor who opens the chat through
        POST /sessions; FastAPI's routing and dependency machinery cost more there than the routes' own work
        besides the database. Every open widget holds a GET .../events stream, whose coroutines, closures and
        exit stacks stay alive as long as it does: at ten thousand streams, FastAPI's layers were a third
        of the objects the garbage collector walks. These routes parse, validate and fail exactly as the documented
        FastAPI routes do (see bot/http/parsing.py).
        """
        async def post_message(request: Request) -> Response:
            body = await json_body(request, MessageIn)
            return await self._post_message(request.path_params["session_id"], body, bearer_token(request))

        async def create_session(request: Request) -> Response:
            body = await optional_json_body(request, SessionCreate)
            return JsonResponse(await self._create_session(body or SessionCreate()), status_code=201)

        async def events(request: Request) -> Response:
            query = query_params(request, EventsQuery)
            return await self._open_stream(request.path_params["session_id"], bearer_token(request) or query.token,
                                           query.after, request.headers.get("last-event-id"))

        stream = Route("/api/chat/sessions/{session_id}/events", events, methods=["GET"])
        stream.methods = {"GET"}  # not HEAD, which Starlette adds and the documented route refuses (405)
        return [Route("/api/chat/sessions/{session_id}/messages", post_message, methods=["POST"]),
                Route("/api/chat/sessions", create_session, methods=["POST"]), stream]

    # ------------------------------------------------------------ behaviour

    async def _post_message(self, session_id: str, body: MessageIn, token: str | None) -> JsonResponse:
        self._authorize(session_id, token)
        return JsonResponse(await self._send_message(session_id, body))

    def _authorize(self, session_id: str, token: str | None) -> None:
        if not token or self._tokens.session_of(token) != session_id:
            raise ApiError(401, ErrorCode.UNAUTHORIZED, "Missing or wrong session token; start a new chat "
                           "session and send its token as Authorization: Bearer <token>.",
                           headers={"www-authenticate": "Bearer"})

    async def _create_session(self, body: SessionCreate) -> JsonObject:
        """A SessionCreated."""
        service = self._service()
        if body.flow is not None and body.flow not in service.flows.ids():
            raise ApiError(404, ErrorCode.NOT_FOUND, f"There is no flow {body.flow!r}; leave 'flow' out to use the "
                           "default one.")
        with _service_errors(None):
            # A web visitor has no identity but the session: a fresh random id keeps sessions apart.
            started = await service.start(channel=CHANNEL, external_user_id=uuid.uuid4().hex, flow_id=body.flow,
                                          attributes=body.attributes())
        session_id = started.conversation.id
        log.info("web chat session started",
                 extra={"session": session_id, "flow": started.conversation.state.flow_id})
        return {"session_id": session_id, "token": self._tokens.sign(session_id),
                "flow": started.conversation.state.flow_id, "messages": to_messages(started.replies)}

    async def _send_message(self, session_id: str, body: MessageIn) -> JsonObject:
        """A TurnOut."""
        wait = self._session_limiter.acquire(session_id)
        if wait:
            raise ApiError(429, ErrorCode.RATE_LIMITED, f"Too many messages; try again in {wait} seconds.",
                           headers={"retry-after": str(wait)})
        inbound = to_inbound(body)
        if isinstance(inbound, TextReceived):
            if not inbound.text.strip():
                raise ApiError(422, ErrorCode.INVALID_REQUEST, "body.text: the message is empty; type something.")
            if len(inbound.text) > self._max_chars:
                raise ApiError(422, ErrorCode.MESSAGE_TOO_LONG, f"The message is longer than {self._max_chars} "
                               "characters; please shorten it.")
        if log.isEnabledFor(logging.DEBUG):  # the fields are built only when they are written
            log.debug("web chat message", extra={"session": session_id, "text": getattr(inbound, "text", None),
                                                 "choice": getattr(inbound, "option", None)})
        with _service_errors(session_id):
            result = await self._service().handle(
                session_id, inbound, channel_message_id=channel_message_id(session_id, body.client_message_id))
        if result.inbound is None:
            raise RuntimeError(f"conversation {session_id}: a text or choice turn stored no inbound message")
        stored, *replies = to_messages((result.inbound, *result.replies))
        return {"inbound": stored, "messages": replies, "duplicate": result.duplicate}

    async def _open_stream(self, session_id: str, token: str | None, after: int | None,
                           last_event_id: str | None) -> EventStreamResponse:
        self._authorize(session_id, token)
        resume = _resume_point(last_event_id, after)
        with _service_errors(session_id):
            if await self._service().get(session_id) is None:
                raise UnknownConversation(session_id)
        if self._hub.count(session_id) >= self._max_streams:
            raise ApiError(429, ErrorCode.RATE_LIMITED, "Too many open event streams for this chat; close one "
                           "and try again in 5 seconds.", headers={"retry-after": "5"})
        # Subscribe before reading the history: a message pushed meanwhile is then in one or both, never in
        # neither; ids already sent from the history are skipped when they arrive live.
        subscription = self._hub.subscribe(session_id)

        def close() -> None:
            subscription.close()
            self._hub.unsubscribe(subscription)

        return EventStreamResponse(self._stream(session_id, resume, subscription), on_close=close,
                                   headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    async def _stream(self, session_id: str, after: int | None, subscription: Subscription
                      ) -> AsyncIterator[bytes]:
        yield b"retry: 3000\n\n"
        try:
            floor = after if after is not None else -1
            if after is not None:
                async for message in self._catch_up(session_id, after):
                    floor = max(floor, message.id or 0)
                    yield to_event(message)
        except StorageError:
            log.exception("event stream stopped: the database failed", extra={"session": session_id})
            return
        async for chunk in self._live(subscription, floor):
            yield chunk

    async def _catch_up(self, session_id: str, after: int) -> AsyncIterator[MessageRecord]:
        last = after
        while True:  # pages of the store's size until nothing is left
            batch = await self._service().history(session_id, after_id=last)
            if not batch:
                return
            for message in batch:
                yield message
            last = batch[-1].id or last

    async def _live(self, subscription: Subscription, floor: int) -> AsyncIterator[bytes]:
        while True:
            batch = await subscription.next(self._ping_interval)
            if batch:
                for message in batch:
                    if message.id is not None and message.id > floor:
                        yield to_event(message)
            elif subscription.closed:
                return
            else:
                yield b": ping\n\n"


def _resume_point(last_event_id: str | None, after: int | None) -> int | None:
    """Last-Event-ID (sent by the browser on reconnect) wins over ?after= (from the original URL)."""
    if last_event_id is None or not last_event_id.strip():
        return after
    value = last_event_id.strip()
    if not (value.isascii() and value.isdigit()):
        raise ApiError(422, ErrorCode.INVALID_REQUEST, "Last-Event-ID must be a message id (a whole number).")
    return int(value)


@contextmanager
def _service_errors(session_id: str | None) -> Iterator[None]:
    """Service failures as API errors: an unknown conversation is a 404, a database failure a 503."""
    try:
        yield
    except UnknownConversation as exc:
        raise ApiError(404, ErrorCode.NOT_FOUND, "There is no such chat session; start a new one.") from exc
    except StorageError as exc:
        log.exception("web chat request failed in the database", extra={"session": session_id})
        raise ApiError(503, ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE, headers={"retry-after": "5"}) from exc
