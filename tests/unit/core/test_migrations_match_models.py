"""Each service's migrations build exactly the tables its models describe (a model change without its
migration, or the reverse, fails here rather than on a user's database)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from stratus.core.db import Database, upgrade

SERVICES = {
    "identity": "stratus.identity.models",
    "image": "stratus.image.models",
    "compute": "stratus.compute.models",
    "network": "stratus.network.models",
}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_migrations_build_the_models(service: str, tmp_path: Path) -> None:
    models = importlib.import_module(SERVICES[service])
    metadata = next(
        obj.metadata
        for obj in vars(models).values()
        if isinstance(obj, type) and hasattr(obj, "metadata") and hasattr(obj, "registry")
    )
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        upgrade(db, f"stratus.{service}:migrations")
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        db.engine.dispose()
    assert diff == [], f"{service}: the migrations and the models differ: {diff}"
