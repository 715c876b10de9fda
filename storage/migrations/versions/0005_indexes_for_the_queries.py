"""keep only the indexes a query uses, so a turn writes fewer database pages

- transitions (flow_id, flow_version, at): no query reads the event log by flow yet. Every transition paid
  for it with a page write; the analytics that need it will add the index their query wants.
- conversations (channel, external_user_id, updated_at) becomes (channel, external_user_id): with
  updated_at in the key, every turn moved the conversation's index entry. Looking up a user's latest
  conversation finds their few rows by the shorter key and sorts them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_transitions_flow_id_flow_version_at", table_name="transitions")
    op.drop_index("ix_conversations_channel_external_user_id_updated_at", table_name="conversations")
    op.create_index("ix_conversations_channel_external_user_id", "conversations", ["channel", "external_user_id"])


def downgrade() -> None:
    op.drop_index("ix_conversations_channel_external_user_id", table_name="conversations")
    op.create_index("ix_conversations_channel_external_user_id_updated_at", "conversations",
                    ["channel", "external_user_id", "updated_at"])
    op.create_index("ix_transitions_flow_id_flow_version_at", "transitions", ["flow_id", "flow_version", "at"])
