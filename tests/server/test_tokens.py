"""Session tokens and the generated secret that signs them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import stat
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.http.tokens import SessionTokens, load_or_create_secret, secret_file_for

SECRET = "0123456789abcdef0123456789abcdef-tests"


def test_a_token_is_the_session_id_and_its_hmac() -> None:
    tokens = SessionTokens(SECRET)
    for session_id in ("abc123", "abc123", "x" * 32, "abc124"):  # one keyed HMAC serves every signature
        expected = base64.urlsafe_b64encode(hmac.new(SECRET.encode(), session_id.encode(), hashlib.sha256).digest())
        assert tokens.sign(session_id) == f"{session_id}." + expected.rstrip(b"=").decode()


@pytest.mark.parametrize("token", ["", ".", "abc123", "abc123.", ".sig", "abc123.not-the-signature",
                                   "abc124.{good}", "abc123.{good}x", "abc123.{good}=", "abc123..{good}",
                                   "abc123.é"])
def test_only_a_genuine_token_names_its_session(token: str) -> None:
    tokens = SessionTokens(SECRET)
    good = tokens.sign("abc123").split(".", 1)[1]
    assert tokens.session_of(token.replace("{good}", good)) is None
    assert tokens.session_of(tokens.sign("abc123")) == "abc123"


def test_a_token_from_another_secret_is_refused() -> None:
    other = SessionTokens("another-secret-that-is-long-enough-0000").sign("abc123")
    assert SessionTokens(SECRET).session_of(other) is None


def test_short_secrets_are_refused_and_never_shown() -> None:
    with pytest.raises(ConfigError, match=r"WEBCHAT_SECRET is too short \(5 characters\); use at least 32"):
        SessionTokens("short")
    assert SECRET not in repr(SessionTokens(SECRET))


def test_the_secret_file_lives_next_to_the_sqlite_database() -> None:
    assert secret_file_for("sqlite+aiosqlite:///data/salesbot.db") == Path("data/webchat_secret")
    assert secret_file_for("sqlite+aiosqlite:////var/lib/salesbot/bot.db") == Path("/var/lib/salesbot/webchat_secret")
    assert secret_file_for("sqlite+aiosqlite:///:memory:") == Path("data/webchat_secret")
    assert secret_file_for("postgresql+asyncpg://u:p@127.0.0.1/db") == Path("data/webchat_secret")


def test_a_generated_secret_is_private_and_survives_restarts(tmp_path: Path) -> None:
    path = tmp_path / "data" / "webchat_secret"
    first = load_or_create_secret(path)
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == first
    token = SessionTokens(first).sign("s1")
    assert SessionTokens(load_or_create_secret(path)).session_of(token) == "s1"


def test_a_broken_secret_file_says_how_to_fix_it(tmp_path: Path) -> None:
    path = tmp_path / "webchat_secret"
    path.write_text("tiny\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"webchat_secret holds a secret shorter than 32 characters; delete the file"):
        load_or_create_secret(path)


def test_an_unusable_folder_says_how_to_fix_it(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"cannot create the folder .*data for the generated web-chat secret "
                                          r"\(.+\); make it writable or set WEBCHAT_SECRET"):
        load_or_create_secret(blocker / "webchat_secret")
