"""Settings, read once by a composition root (the CLI or the server) from `.env` and the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/salesbot.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Every setting salesbot reads. `.env.example` documents each key."""

    database_url: str = DEFAULT_DATABASE_URL
    flows_dir: Path = Path("flows")
    default_flow: str = "default"
    log_level: str = "INFO"
    timer_interval: float = 5.0
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # how browsers reach the server; default http://HOST:PORT
    webchat_secret: str = field(default="", repr=False)  # signs session tokens; never logged
    webchat_allowed_origins: tuple[str, ...] = ()
    webchat_max_body_bytes: int = 16_384
    webchat_max_message_chars: int = 2000
    webchat_session_rate: int = 30  # messages per minute per session
    webchat_ip_rate: int = 300  # requests per minute per client address
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def base_url(self) -> str:
        """The URL browsers use to reach this server."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str], dotenv: Path | None = Path(".env")) -> Settings:
        """Build settings from a `.env` file (if present) overlaid by the environment.

        Raises:
            ConfigError: one line naming the key, the bad value and the fix.
        """
        values = {**read_dotenv(dotenv), **environ} if dotenv is not None else dict(environ)
        return cls(
            database_url=_url(values.get("DATABASE_URL", DEFAULT_DATABASE_URL)),
            flows_dir=Path(values.get("FLOWS_DIR", "flows")),
            default_flow=_nonempty(values, "DEFAULT_FLOW", "default", "the id of a flow in FLOWS_DIR"),
            log_level=_choice(values, "LOG_LEVEL", "INFO", LOG_LEVELS),
            timer_interval=_number(values, "TIMER_INTERVAL_SECONDS", 5.0, 0.05, 3600.0),
            host=_nonempty(values, "HOST", "127.0.0.1", "an address to listen on, like 127.0.0.1 or 0.0.0.0"),
            port=int(_number(values, "PORT", 8000, 1, 65535, integer=True)),
            public_url=_public_url(values.get("PUBLIC_URL", "")),
            webchat_secret=_secret(values.get("WEBCHAT_SECRET", "")),
            webchat_allowed_origins=_origins(values.get("WEBCHAT_ALLOWED_ORIGINS", "")),
            webchat_max_body_bytes=int(_number(values, "WEBCHAT_MAX_BODY_BYTES", 16_384, 256, 10_000_000,
                                               integer=True)),
            webchat_max_message_chars=int(_number(values, "WEBCHAT_MAX_MESSAGE_CHARS", 2000, 10, 100_000,
                                                  integer=True)),
            webchat_session_rate=int(_number(values, "WEBCHAT_SESSION_RATE_PER_MINUTE", 30, 1, 100_000,
                                             integer=True)),
            webchat_ip_rate=int(_number(values, "WEBCHAT_IP_RATE_PER_MINUTE", 300, 1, 1_000_000, integer=True)),
            extra={k: v for k, v in values.items() if k.isupper()},
        )


def read_dotenv(path: Path | None) -> dict[str, str]:
    """Parse KEY=VALUE lines; `#` comments, blank lines, `export` prefixes and quotes are handled."""
    if path is None or not path.is_file():
        return {}
    found: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigError(f"{path}:{number}: expected KEY=VALUE, got {raw.strip()!r}; fix or delete that line")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        found[key.strip()] = value
    return found


def _url(raw: str) -> str:
    """Check the kind of database; storage picks the driver (storage.engine.parse_url)."""
    url = raw.strip()
    if not url.startswith(("sqlite:///", "sqlite+aiosqlite:///", "postgres://", "postgresql://",
                           "postgresql+asyncpg://")):
        raise ConfigError(f"DATABASE_URL={raw!r} is not supported; use sqlite:///path/to/file.db or "
                          "postgresql://user:password@host:5432/dbname")
    return url


def _public_url(raw: str) -> str:
    url = raw.strip().rstrip("/")
    if url and not url.startswith(("http://", "https://")):
        raise ConfigError(f"PUBLIC_URL={raw!r} is not a URL; set it to how browsers reach the bot, "
                          "like https://chat.example.com")
    return url


def _secret(raw: str) -> str:
    secret = raw.strip()
    if secret and len(secret) < 32:
        raise ConfigError("WEBCHAT_SECRET is too short; use at least 32 random characters, e.g. the output of "
                          "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")
    return secret


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ConfigError(f"WEBCHAT_ALLOWED_ORIGINS has {origin!r}; list origins like https://www.example.com, "
                              "separated by commas, or * for any")
    return origins


def _nonempty(values: Mapping[str, str], key: str, default: str, what: str) -> str:
    value = values.get(key, default).strip()
    if not value:
        raise ConfigError(f"{key} is empty; set it to {what} (default {default!r}) or remove the line")
    return value


def _choice(values: Mapping[str, str], key: str, default: str, allowed: tuple[str, ...]) -> str:
    value = values.get(key, default).strip().upper()
    if value not in allowed:
        raise ConfigError(f"{key}={values[key]!r} is not valid; set it to one of {', '.join(allowed)}")
    return value


def _number(values: Mapping[str, str], key: str, default: float, low: float, high: float, *,
            integer: bool = False) -> float:
    raw = values.get(key)
    if raw is None:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{key}={raw!r} is not valid; set it to {kind} from {low:g} to {high:g}")
    return value
