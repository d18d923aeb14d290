"""Server-side render times of the dashboard's pages with 200 instances in the project.

    .venv/bin/python benchmarks/dashboard.py                  # 200 instances on "private", 10 rounds
    .venv/bin/python benchmarks/dashboard.py --instances 50 --rounds 20

Starts a throwaway ``stratus serve`` with the dashboard (fake hypervisor, in-memory network back end,
as the browser tests do), raises the demo project's quotas, boots ``--instances`` servers on the
``private`` network through the compute API and waits until all are ACTIVE. It then logs in to the
dashboard as demo (and admin) and fetches each page ``--rounds`` times after one uncounted warm-up,
printing per page the median and worst ``Server-Timing: app;dur=`` the dashboard reports (request
handling, all API calls and template rendering, measured inside the dashboard) and the client's
wall time. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser.cloud import dashboard_cloud, project_token  # noqa: E402
from tests.conftest import CloudHandle  # noqa: E402

PROJECT_PAGES = (
    "/project/",
    "/project/instances/",
    "/project/instances/rows",
    "/project/instances/launch",
    "/project/images/",
    "/project/networks/",
    "/project/topology/",
    "/project/routers/",
    "/project/floating-ips/",
    "/project/security-groups/",
    "/project/key-pairs/",
)
ADMIN_PAGES = ("/admin/hypervisors/", "/admin/instances/", "/admin/projects/", "/admin/users/", "/admin/flavors/")
HOSTS = {"STRATUS_COMPUTE_AGENT__FAKE_HOSTS": "6"}  # room for 200 m1.tiny (3 fake hosts hold ~190)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TIMING = re.compile(r"app;dur=([\d.]+)")


def populate(cloud: CloudHandle, count: int) -> None:
    admin = {"X-Auth-Token": project_token(cloud, "admin", "admin")}
    demo = {"X-Auth-Token": project_token(cloud, "demo", "demo")}
    compute, network = cloud.urls["compute"], cloud.urls["network"]
    project = httpx.get(f"{cloud.auth_url}/auth/tokens", headers={**demo, "X-Subject-Token": demo["X-Auth-Token"]})
    project_id = project.json()["token"]["project"]["id"]
    quota = {"instances": count + 10, "cores": count + 10, "ram": (count + 10) * 512}
    httpx.put(f"{compute}/os-quota-sets/{project_id}", json={"quota_set": quota}, headers=admin).raise_for_status()
    body = {"quota": {"port": count + 50}}
    httpx.put(f"{network}/v2.0/quotas/{project_id}", json=body, headers=admin).raise_for_status()
    image = httpx.get(f"{cloud.urls['image']}/v2/images?name=testvm", headers=demo).json()["images"][0]["id"]
    net = httpx.get(f"{network}/v2.0/networks?name=private", headers=demo).json()["networks"][0]["id"]

    def boot(i: int) -> None:
        server = {"name": f"bench-{i:03d}", "imageRef": image, "flavorRef": "1", "networks": [{"uuid": net}]}
        httpx.post(f"{compute}/servers", json={"server": server}, headers=demo, timeout=60).raise_for_status()

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(boot, range(count)))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        servers = httpx.get(f"{compute}/servers/detail?limit=1000", headers=demo, timeout=60).json()["servers"]
        states = [s["status"] for s in servers]
        if "BUILD" not in states:
            break
        time.sleep(1)  # polling a condition against a deadline
    print(f"{states.count('ACTIVE')} of {count} instances ACTIVE after {time.monotonic() - started:.0f} s")
    faults = {s.get("fault", {}).get("message", "?") for s in servers if s["status"] == "ERROR"}
    if faults:
        print(f"  {states.count('ERROR')} in ERROR: {'; '.join(sorted(faults))[:500]}")


def login(cloud: CloudHandle, user: str) -> httpx.Client:
    password = cloud.admin_password if user == "admin" else cloud.demo_password
    client = httpx.Client(base_url=cloud.urls["dashboard"], timeout=60)
    csrf = CSRF.search(client.get("/auth/login").text).group(1)  # type: ignore[union-attr]
    resp = client.post("/auth/login", data={"username": user, "password": password, "csrf_token": csrf})
    if resp.status_code != 303:
        raise RuntimeError(f"login as {user} failed: HTTP {resp.status_code}")
    return client


def measure(client: httpx.Client, pages: tuple[str, ...], rounds: int) -> None:
    for page in pages:
        client.get(page)  # warm-up, not counted: the APIs' token caches and connection pools fill here
        server, wall = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            resp = client.get(page)
            wall.append((time.perf_counter() - started) * 1000)
            if resp.status_code != 200:
                print(f"{page:32s} HTTP {resp.status_code}")
                break
            server.append(float(TIMING.search(resp.headers["server-timing"]).group(1)))  # type: ignore[union-attr]
        else:
            print(
                f"{page:32s} server median {statistics.median(server):6.1f} ms  max {max(server):6.1f} ms"
                f"   wall median {statistics.median(wall):6.1f} ms  ({len(resp.content) // 1024} KiB)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="stratus-dash-bench-") as tmp,
        dashboard_cloud(Path(tmp), overrides=HOSTS) as cloud,
    ):
        populate(cloud, args.instances)
        for user, pages in (("demo", PROJECT_PAGES), ("admin", ADMIN_PAGES)):
            client = login(cloud, user)
            try:
                print(f"\n{user}'s pages ({args.instances} instances in demo, {args.rounds} rounds)")
                measure(client, pages, args.rounds)
            finally:
                client.close()


if __name__ == "__main__":
    main()
