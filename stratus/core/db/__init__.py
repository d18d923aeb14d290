"""Database plumbing: engines, sessions and per-service Alembic migrations."""

from stratus.core.db.engine import Base, Database, utcnow
from stratus.core.db.migrate import upgrade
from stratus.core.db.outage import DatabaseUnavailable, retry_on_outage

__all__ = ["Base", "Database", "DatabaseUnavailable", "retry_on_outage", "upgrade", "utcnow"]
