"""Structured logs: one JSON object per line on stderr, tagged with the current request id."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

# A ContextVar is per-task state, not a shared global: each request's task sees only its own id.
request_id: ContextVar[str | None] = ContextVar("salesbot_request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged as a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName", "color_message"}  # uvicorn's color_message repeats msg with ANSI codes
_SECRET_WORDS = ("token", "secret", "authorization", "password")


class JsonFormatter(logging.Formatter):
    """`{"ts": ..., "level": ..., "logger": ..., "msg": ..., "request_id": ..., **extra}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            data["request_id"] = current
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_") or key in data:
                continue
            # A field whose name says it is a credential is never written, whatever its value.
            data[key] = "[redacted]" if any(word in key.lower() for word in _SECRET_WORDS) else value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


def configure_json_logging(level: str, stream: TextIO | None = None) -> None:
    """Send every logger's records, uvicorn's included, to `stream` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # `transitions` logs every callback of every turn at INFO: only its warnings are news.
    logging.getLogger("transitions").setLevel(max(logging.WARNING, root.level))
