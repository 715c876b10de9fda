"""index only pending timers, so cancelling and polling them stays flat as fired and cancelled ones pile up

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _pending() -> sa.ColumnElement[bool]:
    # the same terms as storage.models.pending_timer, which the queries use
    timers = sa.table("timers", sa.column("fired_at", sa.DateTime(timezone=True)), sa.column("cancelled", sa.Boolean))
    return sa.and_(timers.c.fired_at.is_(None), timers.c.cancelled.is_(False))


def upgrade() -> None:
    op.drop_index("ix_timers_conversation_id_key", table_name="timers")
    op.drop_index("ix_timers_due_at", table_name="timers")
    op.create_index("ix_timers_pending_conversation_id_key", "timers", ["conversation_id", "key"],
                    sqlite_where=_pending(), postgresql_where=_pending())
    op.create_index("ix_timers_pending_due_at", "timers", ["due_at"], sqlite_where=_pending(),
                    postgresql_where=_pending())


def downgrade() -> None:
    op.drop_index("ix_timers_pending_due_at", table_name="timers")
    op.drop_index("ix_timers_pending_conversation_id_key", table_name="timers")
    op.create_index("ix_timers_conversation_id_key", "timers", ["conversation_id", "key"])
    op.create_index("ix_timers_due_at", "timers", ["due_at"])
