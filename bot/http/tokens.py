"""Web-chat session tokens: `session_id + "." + base64url(HMAC-SHA256(secret, session_id))`, and their secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from bot.errors import ConfigError
from storage.engine import sqlite_file

log = logging.getLogger(__name__)

SECRET_FILE_NAME = "webchat_secret"
MIN_SECRET_CHARS = 32


class SessionTokens:
    """Signs session ids and checks tokens. Stateless: any worker with the same secret accepts the token."""

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ConfigError(f"WEBCHAT_SECRET is too short ({len(secret)} characters); use at least "
                              f"{MIN_SECRET_CHARS} random characters or leave it empty to generate one")
        # The HMAC keyed once: each signature copies it rather than hashing the key again (half the cost).
        self._keyed = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256)

    def __repr__(self) -> str:
        return "SessionTokens(secret=[hidden])"

    def sign(self, session_id: str) -> str:
        """The token that proves the holder started `session_id`."""
        return f"{session_id}.{self._signature(session_id)}"

    def session_of(self, token: str) -> str | None:
        """The session id a genuine token was issued for; None for a forged, tampered or malformed token."""
        session_id, dot, signature = token.rpartition(".")
        if not dot or not session_id or not signature.isascii():
            return None
        if not hmac.compare_digest(signature.encode("ascii"), self._signature(session_id).encode("ascii")):
            return None
        return session_id

    def _signature(self, session_id: str) -> str:
        mac = self._keyed.copy()
        mac.update(session_id.encode("utf-8"))
        digest = mac.digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def secret_file_for(database_url: str) -> Path:
    """Where a generated secret is kept: next to the SQLite file, else ./data/webchat_secret."""
    database = sqlite_file(database_url)
    return (database.parent if database is not None else Path("data")) / SECRET_FILE_NAME


def load_or_create_secret(path: Path) -> str:
    """The secret stored at `path`, or a new random one written there with mode 600 (so tokens survive restarts).

    Raises:
        ConfigError: the file cannot be read or written, or holds too short a secret.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the folder {path.parent} for the generated web-chat secret "
                          f"({exc.strerror}); make it writable or set WEBCHAT_SECRET") from exc
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    except OSError as exc:
        raise ConfigError(f"cannot create {path} to keep the generated web-chat secret ({exc.strerror}); "
                          "make its folder writable or set WEBCHAT_SECRET") from exc
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secret + "\n")
    log.info("generated a web-chat secret", extra={"path": str(path)})
    return secret


def _read_secret(path: Path) -> str:
    try:
        secret = path.read_text(encoding="utf-8").strip()
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the web-chat secret from {path} ({exc}); fix the file's permissions, "
                          "delete it to generate a new one (signs everyone out) or set WEBCHAT_SECRET") from exc
    if len(secret) < MIN_SECRET_CHARS:
        raise ConfigError(f"{path} holds a secret shorter than {MIN_SECRET_CHARS} characters; delete the file to "
                          "generate a new one (signs everyone out) or set WEBCHAT_SECRET")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the web-chat secret file is readable by other users; run: chmod 600 <path>",
                    extra={"path": str(path)})
    return secret
