"""The database every functional suite runs on: SQLite by default, PostgreSQL with
``STRATUS_TEST_DATABASE=postgresql`` (one database per service, named per process so concurrent runs
never drop each other's; tests/conftest.py drops them at the end of the run)."""

from __future__ import annotations

import os

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres() -> bool:
    return os.environ.get("STRATUS_TEST_DATABASE") == "postgresql"


def database_url_template() -> str:
    if postgres():
        return "postgresql+psycopg://postgres@127.0.0.1:5432/stratus_test_{service}_" + str(os.getpid())
    return "sqlite:///{state_dir}/{service}.sqlite"


def reset_postgres(service: str) -> None:
    """Drop this process's database of ``service`` so the next test starts empty."""
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "stratus_test_{service}_{os.getpid()}" WITH (FORCE)')
    finally:
        engine.dispose()
