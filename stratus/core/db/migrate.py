"""Alembic migrations, one history per service, run programmatically (no alembic.ini).

Each service keeps ``<service>/migrations/`` with ``versions/`` and a three-line ``env.py`` that
calls :func:`run_env` with its metadata.
"""

from __future__ import annotations

from alembic import command, context
from alembic.config import Config as AlembicConfig
from sqlalchemy import MetaData

from stratus.core.db.engine import Database


def _alembic_config(db: Database, script_location: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", script_location)
    cfg.attributes["database"] = db
    return cfg


def upgrade(db: Database, script_location: str, revision: str = "head") -> None:
    """Bring ``db`` to ``revision`` with the migrations at ``script_location`` (pkg:path)."""
    command.upgrade(_alembic_config(db, script_location), revision)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's ``env.py``."""
    db: Database = context.config.attributes["database"]
    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=db.is_sqlite,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
