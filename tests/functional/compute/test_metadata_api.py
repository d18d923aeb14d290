"""The compute metadata API through HTTP on a real (SQLite) compute database.

Instances are written with compute's own models, as the API and conductor write them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stratus.compute import models
from stratus.compute.metadata import create_metadata_app, sign
from stratus.core.db import Database, upgrade

SECRET = "s3cret-for-tests"
PROJECT = "p" * 32
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb3test stratus@test"
NETWORK_INFO = [
    {
        "id": "0b6c1c7e-5a3e-4f43-9d1e-0a8b7c2d1e01",
        "network_id": "9e0a3c2e-0000-4000-8000-000000000001",
        "network_name": "private",
        "mac_address": "fa:16:3e:11:22:33",
        "mtu": 1442,
        "ips": [
            {"address": "10.0.0.5", "type": "fixed", "cidr": "10.0.0.0/24", "gateway": "10.0.0.1", "enable_dhcp": True},
            {"address": "172.24.4.50", "type": "floating"},
        ],
    }
]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/compute.db")
    upgrade(database, "stratus.compute:migrations")
    yield database
    database.dispose()


def add_instance(db: Database, **fields: Any) -> models.Instance:
    meta = fields.pop("meta", {})
    values: dict[str, Any] = {
        "display_name": "Web Server 1",
        "hostname": "web-server-1",
        "project_id": PROJECT,
        "user_id": "u1",
        "image_ref": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "flavor": {"name": "m1.tiny", "vcpus": 1, "memory_mb": 128},
        "availability_zone": "zone-a",
        "reservation_id": "r-1a2b3c4d",
        "launch_index": 0,
        "security_groups": [{"name": "default"}, {"name": "web"}],
        "network_info": NETWORK_INFO,
        "requested_networks": "auto",
    }
    values.update(fields)
    with db.session() as session:
        inst = models.Instance(**values)
        session.add(inst)
        session.flush()
        for key, value in meta.items():
            session.add(models.InstanceMetadata(instance_uuid=inst.uuid, key=key, value=value))
        if inst.key_name:
            session.add(models.KeyPair(name=inst.key_name, user_id=inst.user_id, fingerprint="f", public_key=KEY))
    return inst


def signed(inst_id: str, project: str = PROJECT, secret: str = SECRET) -> dict[str, str]:
    return {
        "X-Instance-ID": inst_id,
        "X-Tenant-ID": project,
        "X-Instance-ID-Signature": sign(secret, inst_id),
        "X-Forwarded-For": "10.0.0.5",
    }


class Guest:
    def __init__(self, client: TestClient, inst_id: str):
        self.client = client
        self.inst_id = inst_id

    def get(self, path: str, status: int = 200) -> Any:
        resp = self.client.get(path, headers=signed(self.inst_id))
        assert resp.status_code == status, (path, resp.status_code, resp.text)
        return resp

    def text(self, path: str) -> str:
        return self.get(path).text

    def json(self, path: str) -> Any:
        resp = self.get(path)
        assert resp.headers["content-type"].startswith("application/json")
        return resp.json()


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with TestClient(create_metadata_app(db, SECRET), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def guest(db: Database, client: TestClient) -> Guest:
    user_data = base64.b64encode(b"#!/bin/sh\necho hello\n").decode()
    inst = add_instance(db, key_name="mykey", key_data=KEY, user_data=user_data, meta={"role": "web"})
    return Guest(client, inst.uuid)


def test_ec2_version_listings(guest: Guest) -> None:
    versions = guest.text("/").split("\n")
    assert versions[0] == "1.0" and versions[-2:] == ["2009-04-04", "latest"]
    assert guest.text("/latest") == "meta-data/\nuser-data"
    assert guest.text("/ec2/2009-04-04/") == "meta-data/\nuser-data"


def test_ec2_meta_data_listing(guest: Guest) -> None:
    listing = guest.text("/latest/meta-data/").split("\n")
    assert listing == sorted(listing)
    for name in (
        "ami-id",
        "ami-launch-index",
        "hostname",
        "instance-id",
        "instance-type",
        "local-hostname",
        "local-ipv4",
        "placement/",
        "public-hostname",
        "public-ipv4",
        "public-keys/",
        "reservation-id",
        "security-groups",
        "block-device-mapping/",
        "instance-action",
    ):
        assert name in listing, name


def test_ec2_values(guest: Guest) -> None:
    inst_id = guest.inst_id
    assert guest.text("/latest/meta-data/instance-id") == "i-" + inst_id.replace("-", "")[:8]
    assert guest.text("/latest/meta-data/hostname") == "web-server-1"
    assert guest.text("/latest/meta-data/local-hostname") == "web-server-1"
    assert guest.text("/latest/meta-data/public-hostname") == "web-server-1"
    assert guest.text("/latest/meta-data/local-ipv4") == "10.0.0.5"
    assert guest.text("/latest/meta-data/public-ipv4") == "172.24.4.50"
    assert guest.text("/latest/meta-data/ami-launch-index") == "0"
    assert guest.text("/latest/meta-data/ami-id") == "ami-7c9e6679"
    assert guest.text("/latest/meta-data/instance-type") == "m1.tiny"
    assert guest.text("/latest/meta-data/placement/") == "availability-zone"
    assert guest.text("/latest/meta-data/placement/availability-zone") == "zone-a"
    assert guest.text("/latest/meta-data/reservation-id") == "r-1a2b3c4d"
    assert guest.text("/latest/meta-data/security-groups") == "default\nweb"
    assert guest.text("/2009-04-04/meta-data/hostname") == "web-server-1"


def test_ec2_public_keys(guest: Guest) -> None:
    assert guest.text("/latest/meta-data/public-keys/") == "0=mykey"
    assert guest.text("/latest/meta-data/public-keys/0") == "openssh-key"
    assert guest.text("/latest/meta-data/public-keys/0/openssh-key") == KEY
    guest.get("/latest/meta-data/public-keys/1", status=404)


def test_ec2_user_data(guest: Guest) -> None:
    resp = guest.get("/latest/user-data")
    assert resp.content == b"#!/bin/sh\necho hello\n"


def test_old_ec2_version_lacks_newer_fields(guest: Guest) -> None:
    listing = guest.text("/1.0/meta-data/").split("\n")
    assert "hostname" in listing and "placement/" not in listing and "public-ipv4" not in listing
    guest.get("/1.0/meta-data/placement/availability-zone", status=404)
    guest.get("/2001-01-01/meta-data/", status=404)


def test_unknown_paths_are_404(guest: Guest) -> None:
    guest.get("/latest/meta-data/nothing-here", status=404)
    guest.get("/latest/meta-data/hostname/deeper", status=404)
    guest.get("/openstack/latest/nothing.json", status=404)
    guest.get("/openstack/1999-01-01/meta_data.json", status=404)


def test_openstack_versions(guest: Guest) -> None:
    versions = guest.text("/openstack").split("\n")
    assert versions[0] == "2012-08-10" and versions[-2:] == ["2018-08-27", "latest"]
    assert guest.text("/openstack/latest").split("\n") == [
        "meta_data.json",
        "user_data",
        "password",
        "vendor_data.json",
        "network_data.json",
        "vendor_data2.json",
    ]
    assert guest.text("/openstack/2012-08-10/").split("\n") == ["meta_data.json", "user_data"]


def test_openstack_meta_data(guest: Guest) -> None:
    doc = guest.json("/openstack/latest/meta_data.json")
    assert doc["uuid"] == guest.inst_id
    assert doc["name"] == "Web Server 1"
    assert doc["hostname"] == "web-server-1"
    assert doc["launch_index"] == 0
    assert doc["availability_zone"] == "zone-a"
    assert doc["project_id"] == PROJECT
    assert doc["public_keys"] == {"mykey": KEY}
    assert doc["keys"] == [{"name": "mykey", "type": "ssh", "data": KEY}]
    assert doc["meta"] == {"role": "web"}
    assert doc["devices"] == []
    assert len(base64.b64decode(doc["random_seed"])) == 512
    old = guest.json("/openstack/2012-08-10/meta_data.json")
    assert "project_id" not in old and "random_seed" not in old and "devices" not in old


def test_openstack_user_vendor_and_network_data(guest: Guest) -> None:
    assert guest.get("/openstack/latest/user_data").content == b"#!/bin/sh\necho hello\n"
    assert guest.json("/openstack/latest/vendor_data.json") == {}
    assert guest.json("/openstack/latest/vendor_data2.json") == {}
    assert guest.get("/openstack/latest/password").content == b""
    net = guest.json("/openstack/latest/network_data.json")
    port = NETWORK_INFO[0]
    assert net["links"] == [
        {
            "id": "tap" + port["id"][:11],
            "vif_id": port["id"],
            "type": "ovs",
            "mtu": 1442,
            "ethernet_mac_address": "fa:16:3e:11:22:33",
        }
    ]
    assert net["networks"] == [
        {"id": "network0", "link": "tap" + port["id"][:11], "network_id": port["network_id"], "type": "ipv4_dhcp"}
    ]
    assert net["services"] == []
    guest.get("/openstack/2013-04-04/network_data.json", status=404)


def test_static_network_data(db: Database, client: TestClient) -> None:
    info = [
        {
            "port_id": "p1",
            "network_id": "n1",
            "mac_address": "fa:16:3e:00:00:01",
            "ips": [
                {
                    "address": "192.168.5.7",
                    "cidr": "192.168.5.0/24",
                    "gateway": "192.168.5.1",
                    "enable_dhcp": False,
                    "dns_nameservers": ["192.168.5.2"],
                }
            ],
        }
    ]
    inst = add_instance(db, network_info=info)
    doc = json.loads(Guest(client, inst.uuid).get("/openstack/latest/network_data.json").content)
    assert doc["networks"] == [
        {
            "id": "network0",
            "link": "tapp1",
            "network_id": "n1",
            "type": "ipv4",
            "ip_address": "192.168.5.7",
            "netmask": "255.255.255.0",
            "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.168.5.1"}],
            "services": [{"type": "dns", "address": "192.168.5.2"}],
        }
    ]
    assert doc["services"] == [{"type": "dns", "address": "192.168.5.2"}]


def test_instance_without_user_data_keys_or_network(db: Database, client: TestClient) -> None:
    inst = add_instance(db, network_info=[], availability_zone=None)
    guest = Guest(client, inst.uuid)
    guest.get("/latest/user-data", status=404)
    guest.get("/openstack/latest/user_data", status=404)
    assert guest.text("/latest") == "meta-data/"
    assert "user_data" not in guest.text("/openstack/latest").split("\n")
    listing = guest.text("/latest/meta-data/").split("\n")
    assert "public-keys/" not in listing
    guest.get("/latest/meta-data/public-keys/0/openssh-key", status=404)
    assert guest.text("/latest/meta-data/public-ipv4") == ""
    assert guest.text("/latest/meta-data/local-ipv4") == "10.0.0.5"  # from X-Forwarded-For, as Nova
    assert guest.text("/latest/meta-data/placement/availability-zone") == "nova"
    doc = guest.json("/openstack/latest/meta_data.json")
    assert "public_keys" not in doc and "keys" not in doc and "meta" not in doc
    assert guest.json("/openstack/latest/network_data.json") == {"links": [], "networks": [], "services": []}


def test_dhcp_domain_is_appended_when_configured(db: Database) -> None:
    inst = add_instance(db)
    with TestClient(create_metadata_app(db, SECRET, dhcp_domain="novalocal")) as c:
        guest = Guest(c, inst.uuid)
        assert guest.text("/latest/meta-data/hostname") == "web-server-1.novalocal"
        assert guest.json("/openstack/latest/meta_data.json")["hostname"] == "web-server-1.novalocal"


@pytest.mark.parametrize("missing", ["X-Instance-ID", "X-Tenant-ID", "X-Instance-ID-Signature"])
def test_missing_header_is_400(guest: Guest, missing: str) -> None:
    headers = signed(guest.inst_id)
    del headers[missing]
    resp = guest.client.get("/latest/meta-data/hostname", headers=headers)
    assert resp.status_code == 400
    assert missing in resp.json()["badRequest"]["message"]


def test_duplicate_header_is_400(guest: Guest) -> None:
    headers = list(signed(guest.inst_id).items()) + [("X-Instance-ID", guest.inst_id)]
    resp = guest.client.get("/latest/meta-data/hostname", headers=headers)
    assert resp.status_code == 400


def test_bad_signature_is_403(guest: Guest) -> None:
    for signature in (sign("other-secret", guest.inst_id), sign(SECRET, "another-id"), "", "zz", b"\xe9"):
        headers: dict[str, Any] = {**signed(guest.inst_id), "X-Instance-ID-Signature": signature}
        resp = guest.client.get("/latest/meta-data/hostname", headers=headers)
        assert resp.status_code == 403, signature
        assert resp.json()["forbidden"]["message"] == "Invalid proxy request signature."


def test_unknown_instance_or_wrong_tenant_is_404(db: Database, guest: Guest) -> None:
    other = "00000000-0000-4000-8000-000000000000"
    assert guest.client.get("/latest/meta-data/", headers=signed(other)).status_code == 404
    resp = guest.client.get("/latest/meta-data/", headers=signed(guest.inst_id, project="q" * 32))
    assert resp.status_code == 404


def test_deleted_instance_is_404(db: Database, client: TestClient) -> None:
    inst = add_instance(db, deleted=True)
    assert client.get("/latest/meta-data/hostname", headers=signed(inst.uuid)).status_code == 404


def test_empty_secret_refuses_everything(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    inst = add_instance(db)
    with TestClient(create_metadata_app(db, "")) as c:
        for headers in (signed(inst.uuid, secret=""), signed(inst.uuid), {}):
            resp = c.get("/latest/meta-data/hostname", headers=headers)
            assert resp.status_code == 403
    assert "metadata_secret" in caplog.text


def test_secret_and_signature_never_logged(guest: Guest, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    guest.get("/latest/meta-data/hostname")
    bad = {**signed(guest.inst_id), "X-Instance-ID-Signature": sign("wrong", guest.inst_id)}
    guest.client.get("/latest/meta-data/hostname", headers=bad)
    assert SECRET not in caplog.text
    assert sign(SECRET, guest.inst_id) not in caplog.text
    assert sign("wrong", guest.inst_id) not in caplog.text


def test_path_normalisation(guest: Guest) -> None:
    assert guest.text("/latest//meta-data/./hostname/") == "web-server-1"
    assert guest.text("/latest/meta-data/../meta-data/hostname") == "web-server-1"
