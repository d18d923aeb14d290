"""The compute acceptance scenario with the real ``openstack`` CLI and openstacksdk (fake hypervisor)."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.clients.osc import OscError, osc, run
from tests.clients.test_sdk_identity import connect
from tests.conftest import CloudHandle


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def server(cloud: CloudHandle) -> dict:
    """One ACTIVE server of the demo project, shared by the lifecycle tests."""
    name = unique("vm")
    created = osc(
        cloud,
        "server",
        "create",
        "--image",
        "testvm",
        "--flavor",
        "m1.tiny",
        "--nic",
        "none",
        "--wait",
        name,
        os_cloud="stratus-demo",
    )
    assert created["status"] == "ACTIVE"
    return created


def flavor_name(shown: dict) -> str:
    """The CLI shows a flavor as a dict from microversion 2.47 on (``original_name``), before as a string."""
    flavor = shown["flavor"]
    return flavor.get("original_name", flavor.get("name", "")) if isinstance(flavor, dict) else flavor


def status(cloud: CloudHandle, server_id: str) -> str:
    return osc(cloud, "server", "show", server_id, os_cloud="stratus-demo")["status"]


def wait_status(cloud: CloudHandle, server_id: str, wanted: str, timeout: float = 60.0) -> str:
    """Poll ``server show`` until the status is ``wanted`` (the CLI's stop/start have no --wait)."""
    deadline = time.monotonic() + timeout
    current = status(cloud, server_id)
    while current != wanted and time.monotonic() < deadline:
        time.sleep(0.5)  # polling a condition against a deadline
        current = status(cloud, server_id)
    return current


def test_flavor_create_list_show_delete(cloud: CloudHandle) -> None:
    name = unique("flavor")
    flavor = osc(cloud, "flavor", "create", "--vcpus", "2", "--ram", "1024", "--disk", "5", name)
    assert flavor["vcpus"] == 2 and flavor["ram"] == 1024 and flavor["disk"] == 5
    assert name in {f["Name"] for f in osc(cloud, "flavor", "list")}
    assert osc(cloud, "flavor", "show", name)["id"] == flavor["id"]
    run(cloud, "flavor", "delete", name)
    assert name not in {f["Name"] for f in osc(cloud, "flavor", "list")}
    with pytest.raises(OscError):
        run(cloud, "flavor", "create", "--vcpus", "1", "--ram", "64", unique("f"), os_cloud="stratus-demo")


def test_default_flavors_exist(cloud: CloudHandle) -> None:
    names = {f["Name"] for f in osc(cloud, "flavor", "list", os_cloud="stratus-demo")}
    assert {"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"} <= names


def test_keypair_import(cloud: CloudHandle, tmp_path) -> None:
    public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGyhsdCH3j4dGdJf8yJb7Kq5A1bQv0m2B8aVh1nKx1xQ test@stratus"
    key_file = tmp_path / "id.pub"
    key_file.write_text(public + "\n")
    name = unique("key")
    key = osc(cloud, "keypair", "create", "--public-key", str(key_file), name, os_cloud="stratus-demo")
    assert key["name"] == name and key["fingerprint"]
    assert name in {k["Name"] for k in osc(cloud, "keypair", "list", os_cloud="stratus-demo")}
    assert name not in {k["Name"] for k in osc(cloud, "keypair", "list")}  # key pairs are per user


def test_server_list_show(cloud: CloudHandle, server: dict) -> None:
    listed = {s["ID"]: s for s in osc(cloud, "server", "list", os_cloud="stratus-demo")}
    assert listed[server["id"]]["Status"] == "ACTIVE"
    shown = osc(cloud, "server", "show", server["id"], os_cloud="stratus-demo")
    assert shown["name"] == server["name"] and flavor_name(shown).startswith("m1.tiny")
    assert server["id"] in {s["ID"] for s in osc(cloud, "server", "list", "--all-projects")}


def test_stop_start_reboot(cloud: CloudHandle, server: dict) -> None:
    run(cloud, "server", "stop", server["id"], os_cloud="stratus-demo")
    assert wait_status(cloud, server["id"], "SHUTOFF") == "SHUTOFF"
    run(cloud, "server", "start", server["id"], os_cloud="stratus-demo")
    assert wait_status(cloud, server["id"], "ACTIVE") == "ACTIVE"
    run(cloud, "server", "reboot", "--wait", server["id"], os_cloud="stratus-demo")
    assert status(cloud, server["id"]) == "ACTIVE"
    run(cloud, "server", "reboot", "--hard", "--wait", server["id"], os_cloud="stratus-demo")
    assert status(cloud, server["id"]) == "ACTIVE"


def test_resize_and_confirm(cloud: CloudHandle, server: dict) -> None:
    run(cloud, "server", "resize", "--flavor", "m1.small", "--wait", server["id"], os_cloud="stratus-demo")
    assert status(cloud, server["id"]) == "VERIFY_RESIZE"
    run(cloud, "server", "resize", "confirm", server["id"], os_cloud="stratus-demo")
    shown = osc(cloud, "server", "show", server["id"], os_cloud="stratus-demo")
    assert shown["status"] == "ACTIVE" and flavor_name(shown).startswith("m1.small")


def test_image_create_and_console_log(cloud: CloudHandle, server: dict) -> None:
    name = unique("snap")
    image = osc(cloud, "server", "image", "create", "--wait", "--name", name, server["id"], os_cloud="stratus-demo")
    assert osc(cloud, "image", "show", image["id"], os_cloud="stratus-demo")["status"] == "active"
    log = run(cloud, "console", "log", "show", server["id"], os_cloud="stratus-demo")
    assert log.strip()


def test_quota_show_and_set(cloud: CloudHandle) -> None:
    project = osc(cloud, "project", "create", unique("quota-p"))
    run(cloud, "quota", "set", "--instances", "3", "--cores", "7", project["id"])
    shown = osc(cloud, "quota", "show", project["id"])
    # newer clients print rows of {"Resource", "Limit"}, older ones one object
    quota = {row["Resource"]: row["Limit"] for row in shown} if isinstance(shown, list) else shown
    assert quota["instances"] == 3 and quota["cores"] == 7


def test_hypervisors_and_services(cloud: CloudHandle) -> None:
    hypervisors = osc(cloud, "hypervisor", "list")
    assert len(hypervisors) == 3
    stats = osc(cloud, "hypervisor", "stats", "show")
    assert stats["count"] == 3 and stats["vcpus"] > 0
    services = osc(cloud, "compute", "service", "list", "--service", "nova-compute")
    host = services[0]["Host"]
    run(cloud, "compute", "service", "set", "--disable", "--disable-reason", "maintenance", host, "nova-compute")
    after = {s["Host"]: s for s in osc(cloud, "compute", "service", "list", "--service", "nova-compute")}
    assert after[host]["Status"] == "disabled"
    run(cloud, "compute", "service", "set", "--enable", host, "nova-compute")


def test_anti_affinity_group_spreads_servers(cloud: CloudHandle) -> None:
    group = osc(cloud, "server", "group", "create", "--policy", "anti-affinity", unique("grp"), os_cloud="stratus-demo")
    hosts = set()
    for i in range(2):
        created = osc(
            cloud,
            "server",
            "create",
            "--image",
            "testvm",
            "--flavor",
            "m1.tiny",
            "--nic",
            "none",
            "--hint",
            f"group={group['id']}",
            "--wait",
            unique(f"aa{i}"),
            os_cloud="stratus-demo",
        )
        hosts.add(osc(cloud, "server", "show", created["id"])["OS-EXT-SRV-ATTR:host"])
    assert len(hosts) == 2


def test_delete_wait(cloud: CloudHandle) -> None:
    name = unique("gone")
    created = osc(
        cloud,
        "server",
        "create",
        "--image",
        "testvm",
        "--flavor",
        "m1.tiny",
        "--nic",
        "none",
        "--wait",
        name,
        os_cloud="stratus-demo",
    )
    run(cloud, "server", "delete", "--wait", created["id"], os_cloud="stratus-demo")
    assert created["id"] not in {s["ID"] for s in osc(cloud, "server", "list", os_cloud="stratus-demo")}


def test_openstacksdk_create_and_wait(cloud: CloudHandle) -> None:
    conn = connect(cloud, "stratus-demo")
    image = conn.image.find_image("testvm")
    flavor = conn.compute.find_flavor("m1.tiny")
    server = conn.compute.create_server(name=unique("sdk"), image_id=image.id, flavor_id=flavor.id, networks="none")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=60)
    assert server.status == "ACTIVE"
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60)


def test_migrate_confirm_then_evacuate_off_a_forced_down_host(cloud: CloudHandle) -> None:
    """``server migrate`` / ``migrate confirm`` / ``migration list``, then ``server evacuate`` once the
    server's host is fenced and forced down (``compute service set --down``), as Nova's runbook does."""
    created = osc(
        cloud,
        "server",
        "create",
        "--image",
        "testvm",
        "--flavor",
        "m1.tiny",
        "--nic",
        "none",
        "--wait",
        unique("mv"),
        os_cloud="stratus-demo",
    )
    sid = created["id"]
    source = osc(cloud, "server", "show", sid)["OS-EXT-SRV-ATTR:host"]
    with pytest.raises(OscError):
        run(cloud, "server", "migrate", sid, os_cloud="stratus-demo")  # admin only
    run(cloud, "server", "migrate", "--wait", sid)
    shown = osc(cloud, "server", "show", sid)
    dest = shown["OS-EXT-SRV-ATTR:host"]
    assert shown["status"] == "VERIFY_RESIZE" and dest != source
    (mig,) = osc(cloud, "--os-compute-api-version", "2.59", "server", "migration", "list", "--server", sid)
    assert (mig["Source Compute"], mig["Dest Compute"], mig["Status"], mig["Type"]) == (
        source,
        dest,
        "finished",
        "migration",
    )
    run(cloud, "server", "migrate", "confirm", sid)
    assert wait_status(cloud, sid, "ACTIVE") == "ACTIVE"
    with pytest.raises(OscError) as refused:
        run(cloud, "server", "evacuate", sid)
    assert f"Compute service of {dest} is still in use." in str(refused.value)
    run(cloud, "--os-compute-api-version", "2.11", "compute", "service", "set", "--down", dest, "nova-compute")
    try:
        # no --wait: OSC 10.5's evacuate --wait compares the lowercased status with "ACTIVE" and never ends
        run(cloud, "server", "evacuate", sid)
        assert wait_status(cloud, sid, "ACTIVE") == "ACTIVE"
        shown = osc(cloud, "server", "show", sid)
        assert shown["status"] == "ACTIVE" and shown["OS-EXT-SRV-ATTR:host"] not in (dest, None)
    finally:
        run(cloud, "--os-compute-api-version", "2.11", "compute", "service", "set", "--up", dest, "nova-compute")
        run(cloud, "server", "delete", "--wait", sid)
