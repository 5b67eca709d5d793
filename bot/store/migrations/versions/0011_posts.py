"""the city's posts from its feeds, with a full-text index over their search terms

SQLite: an FTS5 table over posts.terms (external content, kept in step by triggers). PostgreSQL: a GIN
index over to_tsvector('simple', terms). The terms are Hangul bigrams and whole words (bot/news/terms.py),
so neither engine needs to know Korean. A later batch_alter_table of posts on SQLite recreates the table:
it must create the triggers again.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_SQLITE = (
    "CREATE VIRTUAL TABLE posts_fts USING fts5(terms, content='posts', content_rowid='id')",
    "CREATE TRIGGER posts_ai AFTER INSERT ON posts BEGIN"
    " INSERT INTO posts_fts(rowid, terms) VALUES (new.id, new.terms); END",
    "CREATE TRIGGER posts_ad AFTER DELETE ON posts BEGIN"
    " INSERT INTO posts_fts(posts_fts, rowid, terms) VALUES ('delete', old.id, old.terms); END",
    "CREATE TRIGGER posts_au AFTER UPDATE OF terms ON posts BEGIN"
    " INSERT INTO posts_fts(posts_fts, rowid, terms) VALUES ('delete', old.id, old.terms);"
    " INSERT INTO posts_fts(rowid, terms) VALUES (new.id, new.terms); END",
)


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("guid", sa.String(length=500), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("link", sa.String(length=1000), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("image", sa.String(length=1000), nullable=True),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("source", "guid", name="uq_posts_source_guid"),
    )
    op.create_index("ix_posts_published_at", "posts", ["published_at"])
    op.create_index("ix_posts_category", "posts", ["category"])
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE:
            op.execute(statement)
    else:
        op.execute("CREATE INDEX ix_posts_terms ON posts USING gin (to_tsvector('simple', terms))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE posts_fts")
    op.drop_table("posts")
