"""The baseline of bench/webchat.py: salesbot's uvicorn setup serving a bare endpoint that only stores the message.

Same listening socket (`bot.server.listen`), uvicorn config (`bot.server.server_config`: httptools, one worker)
and event loop (uvloop) as `salesbot serve`, and the same storage layer on the same kind of SQLite file; no
FastAPI, validation, middleware, engine or replies. What the full server costs beyond this is salesbot's own.

Run: .venv/bin/python bench/webchat_baseline.py --port 8001 --db /tmp/baseline.db
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
import uvloop
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engine.types import ConversationState
from bot.server import listen, server_config, settle_heap
from storage.migrate import upgrade
from storage.repository import Author, ConversationRecord, Direction, MessageRecord
from storage.sql import SqlAlchemyStore

CHANNEL = "web"


def baseline_app(store: SqlAlchemyStore) -> Starlette:
    """POST /api/chat/sessions stores a conversation row; POST .../messages stores the message; /healthz."""

    async def create_session(_request: Request) -> Response:
        now = datetime.now(UTC)
        session_id = uuid.uuid4().hex
        state = ConversationState(flow_id="baseline", flow_version="0", channel=CHANNEL, state="start",
                                  started_at=now, updated_at=now)
        async with store.transaction() as uow:
            await uow.insert_conversation(ConversationRecord(
                id=session_id, channel=CHANNEL, external_user_id=session_id, state=state, created_at=now,
                updated_at=now))
        return _json({"session_id": session_id, "token": session_id, "flow": "baseline", "messages": []}, 201)

    async def send_message(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        body = json.loads(await request.body())
        async with store.transaction() as uow:  # the same deduplicating insert as a full turn's
            stored = await uow.add_inbound(MessageRecord(
                conversation_id=session_id, direction=Direction.IN, author=Author.PROSPECT, text=body["text"],
                created_at=datetime.now(UTC), channel=CHANNEL,
                channel_message_id=f"{session_id}:{body['client_message_id']}"))
        return _json({"inbound": {"id": stored.id if stored else None}, "messages": [], "duplicate": stored is None},
                     200)

    async def healthz(_request: Request) -> Response:
        return _json({"status": "ok"}, 200)

    return Starlette(routes=[
        Route("/api/chat/sessions", create_session, methods=["POST"]),
        Route("/api/chat/sessions/{session_id}/messages", send_message, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ])


def _json(data: object, status: int) -> Response:
    return Response(json.dumps(data), status_code=status, media_type="application/json")


async def serve(port: int, db: Path) -> None:
    url = f"sqlite:///{db}"
    sock = listen("127.0.0.1", port)
    try:
        await upgrade(url)
        store = await SqlAlchemyStore.connect(url)
        try:
            app = baseline_app(store)
            settle_heap()  # as salesbot serve does before serving
            await uvicorn.Server(server_config(app)).serve(sockets=[sock])  # type: ignore[arg-type]
        finally:
            await store.close()
    finally:
        sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True, help="SQLite file (created and migrated)")
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(args.port, args.db))


if __name__ == "__main__":
    main()
