"""the staff workspace: a staff member's department, a ticket's deadline, kinds of timeline steps, and
indexes for the tickets page's filters

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("department", sa.String(length=100), nullable=True))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("ticket_events") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="status"))
    op.create_index("ix_tickets_status", "tickets", ["status"])
    op.create_index("ix_tickets_department", "tickets", ["department"])
    op.create_index("ix_tickets_district_category", "tickets", ["district", "category"])
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])


def downgrade() -> None:
    for name in ("ix_tickets_created_at", "ix_tickets_district_category", "ix_tickets_department"):
        op.drop_index(name, table_name="tickets")
    op.drop_index("ix_tickets_status", table_name="tickets")
    with op.batch_alter_table("ticket_events") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("due_at")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("department")
