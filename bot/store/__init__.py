"""The database layer: models, repositories and migrations (Alembic), shared by actions and gateway."""
