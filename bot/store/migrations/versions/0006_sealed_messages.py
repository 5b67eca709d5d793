"""citizens' messages stored masked, the raw text sealed; indexes for the retention job

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.privacy import mask_personal_data, seal

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH = 500


def upgrade() -> None:
    op.add_column("messages", sa.Column("sealed", sa.Text(), nullable=True))
    op.create_index("ix_messages_created_at", "messages", ["created_at"])
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"])
    # Messages stored before: masked now, the raw text sealed (bot/store/conversations.record_message).
    messages = sa.table(
        "messages",
        sa.column("id", sa.Integer),
        sa.column("direction", sa.String),
        sa.column("text", sa.Text),
        sa.column("sealed", sa.Text),
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(messages.c.id, messages.c.text)
            .where(messages.c.id > last, messages.c.direction == "in")
            .order_by(messages.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        for message_id, text in rows:
            masked = mask_personal_data(text or "", plates=True)[0]
            if masked != text:
                connection.execute(
                    messages.update()
                    .where(messages.c.id == message_id)
                    .values(text=masked, sealed=seal(text))
                )
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index("ix_outbox_created_at", table_name="outbox")
    op.drop_index("ix_messages_created_at", table_name="messages")
    op.drop_column("messages", "sealed")
