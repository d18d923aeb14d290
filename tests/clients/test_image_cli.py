"""The image acceptance scenario with the real ``openstack`` CLI: upload, share, download, visibility."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stratus.image.testvm.builder import build_testvm
from tests.clients.osc import OscError, osc, run
from tests.conftest import CloudHandle


def user_env(cloud: CloudHandle, user: str, password: str, project: str) -> dict[str, str]:
    """Environment for the CLI as one user in one project (no clouds.yaml entry needed)."""
    env = {k: v for k, v in cloud.env.items() if k != "OS_CLIENT_CONFIG_FILE"}
    env.update(
        OS_AUTH_URL=cloud.auth_url,
        OS_IDENTITY_API_VERSION="3",
        OS_USERNAME=user,
        OS_PASSWORD=password,
        OS_PROJECT_NAME=project,
        OS_USER_DOMAIN_NAME="Default",
        OS_PROJECT_DOMAIN_NAME="Default",
        OS_REGION_NAME="RegionOne",
    )
    return env


@pytest.fixture(scope="module")
def testvm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_testvm(tmp_path_factory.mktemp("testvm") / "testvm.qcow2")


@pytest.fixture(scope="module")
def other(cloud: CloudHandle) -> Iterator[dict[str, str]]:
    """A second project with a member user: the 'other project' of the scenario."""
    suffix = uuid.uuid4().hex[:6]
    project, user, password = f"img-p2-{suffix}", f"img-u2-{suffix}", "u2-secret-pw"
    project_id = osc(cloud, "project", "create", project)["id"]
    osc(cloud, "user", "create", "--password", password, user)
    osc(cloud, "role", "add", "--project", project, "--user", user, "member")
    yield {"project": project, "project_id": project_id, "env": user_env(cloud, user, password, project)}


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def create_image(cloud: CloudHandle, name: str, file: Path, *extra: str, os_cloud: str = "stratus-demo") -> dict:
    args = ["image", "create", "--file", str(file), "--disk-format", "qcow2", "--container-format", "bare", *extra]
    return osc(cloud, *args, name, os_cloud=os_cloud)


def names_visible(cloud: CloudHandle, env: dict[str, str]) -> set[str]:
    return {i["Name"] for i in osc(cloud, "image", "list", os_cloud=None, env=env)}


def test_upload_show_set_save_delete(cloud: CloudHandle, testvm: Path, tmp_path: Path) -> None:
    image = create_image(cloud, "testvm-copy", testvm)
    assert image["status"] == "active"
    assert image["checksum"] == md5_of(testvm)
    assert int(image["size"]) == testvm.stat().st_size
    listed = {i["Name"]: i for i in osc(cloud, "image", "list", os_cloud="stratus-demo")}
    assert listed["testvm-copy"]["Status"] == "active"
    run(cloud, "image", "set", "--property", "os_distro=stratus-testvm", "testvm-copy", os_cloud="stratus-demo")
    shown = osc(cloud, "image", "show", "testvm-copy", os_cloud="stratus-demo")
    assert shown["properties"]["os_distro"] == "stratus-testvm"
    assert shown["disk_format"] == "qcow2" and shown["visibility"] in ("shared", "private")
    out = tmp_path / "out.qcow2"
    run(cloud, "image", "save", "--file", str(out), "testvm-copy", os_cloud="stratus-demo")
    assert out.read_bytes() == testvm.read_bytes()
    assert md5_of(out) == shown["checksum"]
    run(cloud, "image", "delete", "testvm-copy", os_cloud="stratus-demo")
    assert "testvm-copy" not in {i["Name"] for i in osc(cloud, "image", "list", os_cloud="stratus-demo")}


def test_private_image_is_invisible_and_unreachable_for_another_project(
    cloud: CloudHandle, testvm: Path, other: dict
) -> None:
    image = create_image(cloud, f"private-{uuid.uuid4().hex[:6]}", testvm, "--private")
    assert image["name"] not in names_visible(cloud, other["env"])
    with pytest.raises(OscError):
        run(cloud, "image", "show", image["id"], os_cloud=None, env=other["env"])
    with pytest.raises(OscError):
        run(cloud, "image", "save", "--file", os.devnull, image["id"], os_cloud=None, env=other["env"])
    with pytest.raises(OscError):
        run(cloud, "image", "delete", image["id"], os_cloud=None, env=other["env"])
    assert osc(cloud, "image", "show", image["id"], os_cloud="stratus-demo")["status"] == "active"


def test_sharing_with_a_member_project_that_accepts(cloud: CloudHandle, testvm: Path, other: dict) -> None:
    image = create_image(cloud, f"shared-{uuid.uuid4().hex[:6]}", testvm, "--shared")
    run(cloud, "image", "add", "project", image["id"], other["project_id"], os_cloud="stratus-demo")
    assert image["name"] not in names_visible(cloud, other["env"])  # pending until accepted
    run(cloud, "image", "set", "--accept", image["id"], os_cloud=None, env=other["env"])
    assert image["name"] in names_visible(cloud, other["env"])
    shown = osc(cloud, "image", "show", image["id"], os_cloud=None, env=other["env"])
    assert shown["checksum"] == md5_of(testvm)


def test_community_and_public_images_are_visible_to_all(cloud: CloudHandle, testvm: Path, other: dict) -> None:
    community = create_image(cloud, f"community-{uuid.uuid4().hex[:6]}", testvm, "--community")
    public = create_image(cloud, f"public-{uuid.uuid4().hex[:6]}", testvm, "--public", os_cloud="stratus")
    shown = osc(cloud, "image", "show", community["id"], os_cloud=None, env=other["env"])
    assert shown["visibility"] == "community"
    assert public["name"] in names_visible(cloud, other["env"])
    community_list = osc(cloud, "image", "list", "--community", os_cloud=None, env=other["env"])
    assert community["name"] in {i["Name"] for i in community_list}


def test_members_cannot_publicize(cloud: CloudHandle, testvm: Path) -> None:
    with pytest.raises(OscError):
        create_image(cloud, f"public-by-member-{uuid.uuid4().hex[:6]}", testvm, "--public")


def test_up_registered_the_public_testvm_image(cloud: CloudHandle, other: dict) -> None:
    images = {i["Name"]: i for i in osc(cloud, "image", "list", os_cloud=None, env=other["env"])}
    assert images["testvm"]["Status"] == "active"
    shown = osc(cloud, "image", "show", "testvm", os_cloud=None, env=other["env"])
    assert shown["visibility"] == "public" and shown["disk_format"] == "qcow2"
    cached = cloud.state_dir / "testvm" / "testvm.qcow2"
    assert shown["checksum"] == md5_of(cached)
