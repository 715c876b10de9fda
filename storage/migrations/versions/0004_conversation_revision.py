"""number each conversation's saves, so an update applies only over the revision it read

A worker can then keep the conversations it saved in memory and skip reading them back at the next turn:
a row another process saved meanwhile has moved on to a later revision, and the stale update changes
nothing (the turn runs again from the row). Existing rows start at revision 0.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("revision", sa.Integer(), server_default=sa.text("0"), nullable=False))


def downgrade() -> None:
    op.drop_column("conversations", "revision")
