"""A turn's statements on the inline SQLite path: compiled by SQLAlchemy once, run on the DBAPI cursor.

Executing a cached Core statement costs about 50-70 µs of Python around the driver call (cache lookup, an
execution context, event dispatch, a result object), while SQLite itself needs 5-25 µs for the statements
of a turn. A web-chat turn runs six of them, so on the inline SQLite path they skip that machinery.
SQLAlchemy still writes the SQL and its own type processors (the dialect's, via `dialect_impl`) still
convert every parameter and column, so rows are stored exactly as a Core execution stores them.
"""

from __future__ import annotations

import operator
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from storage.models import UtcDateTime
from storage.utc import to_utc

_REQUIRED = object()  # a parameter the statement does not bind itself


class _Compiled:
    """One statement compiled for one set of parameter names."""

    def __init__(self, statement: Any, dialect: Dialect, keys: Sequence[str], utc_text: UtcText) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        self.sql: str = compiled.string
        names: Sequence[str] = compiled.positiontup or ()
        # (name, converter, the value the statement binds itself, as in `.values(cancelled=True)`)
        self.binds = tuple(
            (name, _bind_processor(bind.type, dialect, utc_text), _REQUIRED if bind.required else bind.effective_value)
            for name, bind in ((name, compiled.binds[name]) for name in names)
        )
        # The statement's own values, which the caller's parameters override, and the positions that need a
        # converter (most columns need none): the values are taken in one C call, then the few converted.
        self._own = {name: own for name, _, own in self.binds if own is not _REQUIRED}
        self._take = operator.itemgetter(*names) if names else None
        self._single = len(names) == 1  # itemgetter of one name gives the value, not a tuple
        self._convert = tuple((index, process) for index, (_, process, _) in enumerate(self.binds)
                              if process is not None)

    def parameters(self, params: Mapping[str, Any]) -> Sequence[Any]:
        if self._take is None:
            return ()
        try:
            taken = self._take({**self._own, **params} if self._own else params)
        except KeyError:
            missing = next(name for name, _, own in self.binds if own is _REQUIRED and name not in params)
            raise KeyError(f"a value is required for the parameter :{missing} of: {self.sql}") from None
        if not self._convert:
            return (taken,) if self._single else taken
        values = [taken] if self._single else list(taken)
        for index, process in self._convert:
            values[index] = process(values[index])
        return values


def _bind_processor(type_: Any, dialect: Dialect, utc_text: UtcText) -> Callable[[Any], Any] | None:
    """How a parameter of this type is converted for the driver: SQLAlchemy's own processor, except for the
    timestamps on SQLite, converted in one step instead of three calls (a turn binds several of them)."""
    if isinstance(type_, UtcDateTime) and dialect.name == "sqlite":
        return utc_text
    processor: Callable[[Any], Any] | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return processor


def sqlite_utc_text(value: datetime | None) -> str | None:
    """What UtcDateTime binds on SQLite (to UTC, then SQLAlchemy's SQLite DATETIME text), in one function."""
    if value is None:
        return None
    at = value if value.tzinfo is UTC else to_utc(value, "a timestamp column")  # the records' times are UTC already
    return (f"{at.year:04d}-{at.month:02d}-{at.day:02d} "
            f"{at.hour:02d}:{at.minute:02d}:{at.second:02d}.{at.microsecond:06d}")


class UtcText:
    """sqlite_utc_text that remembers its last conversion. A turn binds one `now` to every row it writes (the
    conversation's updated_at, each message's created_at, each transition's at): converted once, not per row.
    Holding the datetime keeps its identity from being reused, so the same object means the same value; the
    pair is replaced in one assignment, so a reader never sees one value with another's text."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: tuple[datetime | None, str | None] = (None, None)

    def __call__(self, value: datetime | None) -> str | None:
        last = self._last
        if value is last[0]:
            return last[1]
        text = sqlite_utc_text(value)
        self._last = (value, text)
        return text


class PreparedStatement:
    """A Core INSERT, UPDATE or SELECT run straight on an sqlite3 connection.

    Rows come back as named tuples with the statement's column names, converted by the column types.
    Driver errors are raised as SQLAlchemy's exceptions (IntegrityError, OperationalError, ...), like Core's.
    """

    def __init__(self, statement: Any, dialect: Dialect, utc_text: UtcText | None = None) -> None:
        self._statement = statement
        self._dialect = dialect
        self._utc_text = utc_text or UtcText()
        self._compiled: dict[tuple[str, ...], _Compiled] = {}
        columns = list(statement.exported_columns)  # a SELECT's columns, or what INSERT/UPDATE RETURNs
        self._row = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc]
        self._results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)

    def execute(self, connection: sqlite3.Connection, params: Mapping[str, Any]) -> sqlite3.Cursor:
        compiled = self._compile(tuple(params))
        values = compiled.parameters(params)
        try:
            return connection.execute(compiled.sql, values)
        except sqlite3.Error as exc:
            raise _wrapped(compiled.sql, values, exc) from exc

    def execute_many(self, connection: sqlite3.Connection, batch: Sequence[Mapping[str, Any]]) -> None:
        if not batch:
            return
        compiled = self._compile(tuple(batch[0]))
        values = [compiled.parameters(params) for params in batch]
        try:
            connection.executemany(compiled.sql, values)
        except sqlite3.Error as exc:
            raise _wrapped(compiled.sql, values, exc) from exc

    def rows(self, cursor: sqlite3.Cursor) -> list[Any]:
        """The converted rows of an executed SELECT or RETURNING."""
        processors = self._results
        return [
            self._row(*(value if process is None or value is None else process(value)
                        for value, process in zip(raw, processors, strict=True)))
            for raw in cursor.fetchall()
        ]

    def _compile(self, keys: tuple[str, ...]) -> _Compiled:
        compiled = self._compiled.get(keys)
        if compiled is None:
            compiled = self._compiled[keys] = _Compiled(self._statement, self._dialect, keys, self._utc_text)
        return compiled


def _wrapped(sql: str, params: Any, exc: sqlite3.Error) -> sa.exc.StatementError:
    """The driver error as the SQLAlchemy exception Core would raise (IntegrityError for a constraint)."""
    return sa.exc.DBAPIError.instance(sql, params, exc, sqlite3.Error)


class PreparedStatements:
    """The PreparedStatement of each statement run through it, for one dialect.

    Keyed by the statement object: give it only statements built once (module constants), never one built
    per call, or every call compiles anew and the cache grows.
    """

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._utc_text = UtcText()  # shared: a turn's statements bind the same `now`
        self._prepared: dict[int, tuple[Any, PreparedStatement]] = {}

    def __getitem__(self, statement: Any) -> PreparedStatement:
        found = self._prepared.get(id(statement))
        if found is None:  # the statement is kept, so its id cannot be reused by another object
            found = self._prepared[id(statement)] = (statement, PreparedStatement(statement, self._dialect,
                                                                                    self._utc_text))
        return found[1]
