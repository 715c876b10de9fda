"""keep each conversation's lead summary in its own row, instead of a leads table that repeated the row

A turn used to write the conversation row and then upsert its copy in `leads`: two rows, two indexes and
four more database pages per turn for one fact. The summary now lives in `conversations.lead` (the JSON of
codec.lead_to_json) with `lead_updated_at`; both are NULL until a turn records a lead.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The lead's JSON keys, which were the leads table's columns (besides conversation_id and updated_at).
_FIELDS = ("flow_id", "state", "status", "outcome", "score", "tier", "reasons", "values", "objections")
_BATCH = 500


def _timestamp(name: str, *, nullable: bool) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _leads_table() -> sa.Table:
    return sa.Table(
        "leads", sa.MetaData(),
        sa.Column("conversation_id", sa.String(32), primary_key=True),
        sa.Column("flow_id", sa.String(128)), sa.Column("state", sa.String(128)), sa.Column("score", sa.Integer()),
        sa.Column("tier", sa.String(32)), sa.Column("status", sa.String(32)), sa.Column("outcome", sa.String(32)),
        sa.Column("values", sa.JSON()), sa.Column("reasons", sa.JSON()), sa.Column("objections", sa.JSON()),
        _timestamp("updated_at", nullable=False),
    )


def _conversations_table() -> sa.Table:
    return sa.Table(
        "conversations", sa.MetaData(),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("lead", sa.JSON(none_as_null=True)),
        _timestamp("lead_updated_at", nullable=True),
    )


def upgrade() -> None:
    op.add_column("conversations", sa.Column("lead", sa.JSON(), nullable=True))
    op.add_column("conversations", _timestamp("lead_updated_at", nullable=True))
    leads, conversations = _leads_table(), _conversations_table()
    connection = op.get_bind()
    update = conversations.update().where(conversations.c.id == sa.bindparam("_id")).values(
        lead=sa.bindparam("lead"), lead_updated_at=sa.bindparam("lead_updated_at"))
    batch: list[dict[str, Any]] = []
    for row in connection.execute(sa.select(leads)).mappings():
        lead = {field: row[field] for field in _FIELDS}
        batch.append({"_id": row["conversation_id"], "lead": lead, "lead_updated_at": row["updated_at"]})
        if len(batch) == _BATCH:
            connection.execute(update, batch)
            batch = []
    if batch:
        connection.execute(update, batch)
    op.drop_table("leads")


def downgrade() -> None:
    op.create_table(
        "leads",
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.Column("flow_id", sa.String(128), nullable=False),
        sa.Column("state", sa.String(128), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("objections", sa.JSON(), nullable=False),
        _timestamp("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_leads"),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name="fk_leads_conversation_id_conversations"
        ),
    )
    leads, conversations = _leads_table(), _conversations_table()
    connection = op.get_bind()
    recorded = sa.select(conversations).where(conversations.c.lead.is_not(None))
    batch: list[dict[str, Any]] = []
    for row in connection.execute(recorded).mappings():
        batch.append({"conversation_id": row["id"], "updated_at": row["lead_updated_at"],
                      **{field: row["lead"][field] for field in _FIELDS}})
        if len(batch) == _BATCH:
            connection.execute(leads.insert(), batch)
            batch = []
    if batch:
        connection.execute(leads.insert(), batch)
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of the table would trip the foreign keys.
    op.drop_column("conversations", "lead_updated_at")
    op.drop_column("conversations", "lead")
