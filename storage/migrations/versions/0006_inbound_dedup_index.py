"""index only inbound messages under the dedup key, so a bot reply writes no entry there

The unique (channel, channel_message_id) constraint indexed every message. Bot replies have no channel
message id: their entries were NULLs that nothing looks up, and each reply paid a database page for them.
A partial unique index over the rows that have an id enforces the same rule (NULLs never collided).

SQLite cannot drop a table constraint, so there the table is rebuilt. The old table is renamed first: a
copy made before dropping the old table would hold replies that point (reply_to) at rows of a table about
to be dropped, which the foreign keys refuse.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "uq_messages_channel_channel_message_id"
_COLUMNS = ("id, conversation_id, direction, author, text, payload, cause_kind, cause_id, channel, "
            "channel_message_id, reply_to, created_at")


def _has_id() -> sa.ColumnElement[bool]:
    # the same terms as the index in storage.models, which ON CONFLICT repeats
    return sa.column("channel_message_id", sa.String(255)).is_not(None)


def _create_partial_index() -> None:
    op.create_index(_NAME, "messages", ["channel", "channel_message_id"], unique=True, sqlite_where=_has_id(),
                    postgresql_where=_has_id())


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_messages_on_sqlite(with_constraint=False)
    else:
        op.drop_constraint(_NAME, "messages", type_="unique")
    _create_partial_index()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_messages_on_sqlite(with_constraint=True)  # the partial index goes with the old table
    else:
        op.drop_index(_NAME, table_name="messages")
        op.create_unique_constraint(_NAME, "messages", ["channel", "channel_message_id"])


def _rebuild_messages_on_sqlite(*, with_constraint: bool) -> None:
    # Renaming points the old table's own reply_to at itself; the new table's points at the new table.
    op.execute("ALTER TABLE messages RENAME TO _messages_0006")
    unique = sa.UniqueConstraint("channel", "channel_message_id", name=_NAME)
    constraints: list[Any] = [unique] if with_constraint else []
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("cause_kind", sa.String(32), nullable=True),
        sa.Column("cause_id", sa.String(255), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_message_id", sa.String(255), nullable=True),
        sa.Column("reply_to", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name="fk_messages_conversation_id_conversations"
        ),
        sa.ForeignKeyConstraint(["reply_to"], ["messages.id"], name="fk_messages_reply_to_messages"),
        *constraints,
    )
    op.execute(f"INSERT INTO messages ({_COLUMNS}) SELECT {_COLUMNS} FROM _messages_0006")
    op.drop_table("_messages_0006")  # and its indexes, whose names the new table takes
    op.create_index("ix_messages_conversation_id_id", "messages", ["conversation_id", "id"])
    op.create_index("ix_messages_reply_to", "messages", ["reply_to"])
