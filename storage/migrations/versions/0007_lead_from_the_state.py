"""stop storing the lead summary's JSON: it repeated the row's own state

`conversations.lead` held codec.lead_to_json of the summary a turn's LeadUpdated carried. That summary is
the state the turn ends in (its values, score ledger, status, objections) plus the row's tier, which the
row already holds: every turn wrote about a kilobyte twice, and rows grew about 40% larger than their state.
The store now derives the lead from the row (storage.repository.lead_record) and keeps only
`lead_updated_at`, which still says when a turn last changed the lead (NULL before the first).

The downgrade writes the JSON back from each row's state, for the rows with a lead.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 500


def upgrade() -> None:
    # The service saves a tier with every lead; a row without one (written by hand) takes its lead's.
    conversations = _conversations_table()
    untiered = sa.select(conversations.c.id, conversations.c.lead).where(
        conversations.c.tier.is_(None), conversations.c.lead.is_not(None))
    _rewrite(untiered, conversations.c.tier, lambda row: row.lead.get("tier"))
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of the table would trip the foreign keys.
    op.drop_column("conversations", "lead")


def downgrade() -> None:
    op.add_column("conversations", sa.Column("lead", sa.JSON(), nullable=True))
    conversations = _conversations_table()
    # A lead needs its tier (the store refuses one without since this revision): rows without one get no JSON.
    recorded = sa.select(conversations).where(conversations.c.lead_updated_at.is_not(None),
                                              conversations.c.tier.is_not(None))
    _rewrite(recorded, conversations.c.lead, _lead_json)


def _conversations_table() -> sa.Table:
    return sa.Table(
        "conversations", sa.MetaData(),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("flow_id", sa.String(128)), sa.Column("state", sa.String(128)),
        sa.Column("status", sa.String(32)), sa.Column("outcome", sa.String(32)), sa.Column("score", sa.Integer()),
        sa.Column("tier", sa.String(32)), sa.Column("values", sa.JSON()), sa.Column("state_json", sa.JSON()),
        sa.Column("lead", sa.JSON(none_as_null=True)),
        sa.Column("lead_updated_at", sa.DateTime(timezone=True)),
    )


def _rewrite(rows: sa.Select[Any], column: sa.Column[Any], value_of: Callable[[Any], Any]) -> None:
    """Set `column` to value_of(row) in each row that `rows` selects, _BATCH rows at a time in id order."""
    table = column.table
    update = table.update().where(table.c.id == sa.bindparam("_id")).values({column.name: sa.bindparam("value")})
    connection = op.get_bind()
    last = ""
    while batch := connection.execute(rows.where(table.c.id > last).order_by(table.c.id).limit(_BATCH)).all():
        connection.execute(update, [{"_id": row.id, "value": value_of(row)} for row in batch])
        last = batch[-1].id


def _lead_json(row: Any) -> dict[str, Any]:
    """codec.lead_to_json of the row's lead, from its columns (the ledger and objections are in state_json)."""
    return {
        "flow_id": row.flow_id, "state": row.state, "status": row.status, "outcome": row.outcome,
        "score": row.score, "tier": row.tier, "reasons": row.state_json.get("ledger", []), "values": row.values,
        "objections": row.state_json.get("objections", {}),
    }
