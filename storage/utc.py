"""UTC normalisation shared by every store: what goes in must be aware, what comes out is UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.errors import StorageError


def to_utc(value: datetime, what: str) -> datetime:
    """Convert an aware datetime to UTC.

    Raises:
        StorageError: if `value` is naive, because its instant is ambiguous. `what` names the field.
    """
    if value.tzinfo is UTC:  # the service's clock and every stored time: nothing to convert or check
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise StorageError(
            f"{what} is a naive datetime ({value.isoformat()}); storage only accepts timezone-aware "
            "datetimes. Build it with datetime.now(UTC) or attach a tzinfo."
        )
    return value.astimezone(UTC)


def from_db(value: datetime) -> datetime:
    """Read a stored datetime back as UTC-aware. SQLite returns naive values, which we wrote in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
