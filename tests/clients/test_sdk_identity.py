"""openstacksdk against the test cloud, configured only by its clouds.yaml."""

from __future__ import annotations

import openstack
import openstack.config
import pytest

from tests.conftest import CloudHandle


def connect(cloud: CloudHandle, name: str) -> openstack.connection.Connection:
    config = openstack.config.OpenStackConfig(config_files=[str(cloud.clouds_yaml)], envvar_prefix="STRATUS_NONE_")
    return openstack.connection.Connection(config=config.get_one(cloud=name))


def test_admin_lists_projects_and_users(cloud: CloudHandle) -> None:
    conn = connect(cloud, "stratus")
    try:
        projects = {p.name for p in conn.identity.projects()}
        users = {u.name for u in conn.identity.users()}
        roles = {r.name for r in conn.identity.roles()}
    finally:
        conn.close()
    assert {"admin", "demo"} <= projects
    assert {"admin", "demo"} <= users
    assert {"admin", "member", "reader"} <= roles


def test_demo_token_is_scoped_to_demo(cloud: CloudHandle) -> None:
    conn = connect(cloud, "stratus-demo")
    try:
        assert conn.current_project.name == "demo"
        with pytest.raises(openstack.exceptions.ForbiddenException):
            list(conn.identity.users())
    finally:
        conn.close()
