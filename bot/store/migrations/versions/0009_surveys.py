"""satisfaction surveys: one question per resolved ticket or closed chat, its score and comment

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('ticket', 'handoff')", name="ck_surveys_kind"),
        sa.CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name="ck_surveys_score"),
        sa.UniqueConstraint("kind", "ref", name="uq_surveys_kind_ref"),
    )
    op.create_index("ix_surveys_asked_at", "surveys", ["asked_at"])
    op.create_index("ix_surveys_answered_at", "surveys", ["answered_at"])


def downgrade() -> None:
    op.drop_table("surveys")
