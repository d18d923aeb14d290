"""First-run content of the all-in-one cloud: the public ``testvm`` image every guide boots.

The image is built once from Debian packages (``stratus image build-testvm``) into the state
directory and uploaded through the image API as the admin, so it is made exactly as a user's
upload would be; a later start finds it active and does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import httpx

from stratus.image.client import ImageClient

LOG = logging.getLogger(__name__)
TESTVM_NAME = "testvm"


def admin_token(identity_url: str, password: str) -> str:
    return project_token(identity_url, "admin", password, "admin")


def project_token(identity_url: str, user: str, password: str, project: str) -> str:
    """A token of ``user`` (Default domain) scoped to ``project``."""
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}},
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }
    resp = httpx.post(f"{identity_url.rstrip('/')}/auth/tokens", json=body, timeout=30)
    resp.raise_for_status()
    return resp.headers["X-Subject-Token"]


# The flavors devstack creates, so guides written for OpenStack work as they are.
DEFAULT_FLAVORS = (
    # name, id, vcpus, ram MiB, disk GiB
    ("m1.tiny", "1", 1, 512, 1),
    ("m1.small", "2", 1, 2048, 20),
    ("m1.medium", "3", 2, 4096, 40),
    ("m1.large", "4", 4, 8192, 80),
    ("m1.xlarge", "5", 8, 16384, 160),
)


def ensure_flavors(compute_url: str, identity_url: str, admin_password: str, report: Callable[[str], None]) -> None:
    """Create the default public flavors that do not exist yet (by id), through the compute API."""
    headers = {"X-Auth-Token": admin_token(identity_url, admin_password)}
    with httpx.Client(base_url=compute_url.rstrip("/"), headers=headers, timeout=30) as http:
        resp = http.get("/flavors", params={"is_public": "None"})
        resp.raise_for_status()
        existing = {f["id"] for f in resp.json()["flavors"]}
        missing = [f for f in DEFAULT_FLAVORS if f[1] not in existing]
        if missing:
            report("creating the default flavors (m1.tiny ... m1.xlarge)")
        for name, flavor_id, vcpus, ram, disk in missing:
            body = {"flavor": {"name": name, "id": flavor_id, "vcpus": vcpus, "ram": ram, "disk": disk}}
            http.post("/flavors", json=body).raise_for_status()


def ensure_testvm(
    image_url: str, identity_url: str, admin_password: str, cache: Path, report: Callable[[str], None]
) -> str:
    """Make sure an active public ``testvm`` image exists; returns its id."""
    with ImageClient(image_url, admin_token(identity_url, admin_password)) as images:
        existing = [i for i in images.list_images(name=TESTVM_NAME) if i.get("visibility") == "public"]
        active = next((i for i in existing if i["status"] == "active"), None)
        if active is not None:
            return str(active["id"])
        for stale in existing:  # an upload interrupted by a crash: start again
            images.delete(stale["id"])
        if not cache.exists():
            from stratus.image.testvm.builder import build_testvm

            report("building the testvm guest image from Debian packages")
            build_testvm(cache)
        report("registering the public image testvm")
        image = images.create_image(
            name=TESTVM_NAME,
            disk_format="qcow2",
            container_format="bare",
            visibility="public",
            os_distro="stratus-testvm",
            hw_rng_model="virtio",
        )
        images.upload(image["id"], cache)
        return str(image["id"])
