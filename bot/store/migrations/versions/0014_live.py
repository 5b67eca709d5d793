"""소통라이브: sessions, citizens' questions (masked, grouped when alike), 공감 votes and who asked to be told

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_sessions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("airs_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stream_url", sa.String(length=1000), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_live_sessions_airs_at", "live_sessions", ["airs_at"])
    op.create_table(
        "live_questions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("live_sessions.id"), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("district", sa.String(length=32), nullable=True),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.Integer(), sa.ForeignKey("live_questions.id"), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("hidden_reason", sa.String(length=200), nullable=True),
        sa.Column("moderated_by", sa.String(length=100), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answer_url", sa.String(length=1000), nullable=True),
        sa.Column("answered_by", sa.String(length=100), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'withdrawn', 'hidden')", name="ck_live_questions_status"),
    )
    op.create_index("ix_live_questions_session_id", "live_questions", ["session_id"])
    op.create_index("ix_live_questions_group_id", "live_questions", ["group_id"])
    op.create_table(
        "live_votes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("question_id", sa.Integer(), sa.ForeignKey("live_questions.id"), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("question_id", "channel", "sender", name="uq_live_votes_who"),
    )
    op.create_index("ix_live_votes_question_id", "live_votes", ["question_id"])
    op.create_table(
        "live_followers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("live_sessions.id"), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("session_id", "channel", "sender", name="uq_live_followers_who"),
    )
    op.create_index("ix_live_followers_session_id", "live_followers", ["session_id"])


def downgrade() -> None:
    op.drop_table("live_followers")
    op.drop_table("live_votes")
    op.drop_table("live_questions")
    op.drop_table("live_sessions")
