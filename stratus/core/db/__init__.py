"""Database plumbing: engines, sessions and per-service Alembic migrations."""

from stratus.core.db.engine import Base, Database, utcnow
from stratus.core.db.migrate import upgrade

__all__ = ["Base", "Database", "upgrade", "utcnow"]
