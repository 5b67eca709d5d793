"""the web-chat address a handoff came from, kept only as a keyed hash, to cap the open ones per address

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=32), nullable=True))
        batch.create_index("ix_handoffs_origin", ["origin"])


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_index("ix_handoffs_origin")
        batch.drop_column("origin")
