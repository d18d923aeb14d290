"""``stratus testbed up|down|status``: N compute hosts as network namespaces beside a controller, on one machine.

``up`` saves the plan (``testbed_plan``) first, then makes the underlay, the namespaces, the databases and
the vhost, and starts the RabbitMQ relay, ``stratus serve --role controller`` (root namespace) and one
``ip netns exec <ns> stratus serve --role compute`` per host, each in the foreground of its own session
with its pid kept in the plan. ``down`` runs ``teardown_steps(plan)``: stop by pid, kill what is left in
the namespaces, delete namespaces and links, drop databases and vhost, remove the directory.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from stratus.cli import testbed_sys as sysops
from stratus.cli.testbed_plan import (
    DEFAULT_PORTS,
    EXTERNAL_UPLINK,
    RELAY_PORT,
    UPLINK,
    HostPlan,
    Plan,
    make_plan,
    pick_subnet_index,
    taken_indexes,
    to_toml,
)

LOG = logging.getLogger(__name__)
CONTROLLER_TIMEOUT = 300.0
HOST_TIMEOUT = 180.0
REQUIRED_TOOLS = ("ip", "ethtool", "ovs-vsctl", "ovsdb-server", "ovs-vswitchd", "ovn-controller", "ovn-northd",
                  "libvirtd", "qemu-system-x86_64", "socat", "rabbitmqctl")  # fmt: skip

Report = Callable[[str], None]


@dataclass(frozen=True)
class Step:
    """One teardown action: ``kind`` names what ``run_step`` does with ``target``."""

    kind: str  # stop-host | stop-controller | stop-relay | kill-leftovers | delete-metadata-netns
    # | delete-namespace | delete-link | drop-databases | delete-vhost | remove-directory
    target: str
    pid: int = 0

    def describe(self) -> str:
        return f"{self.kind} {self.target}" + (f" (pid {self.pid})" if self.pid else "")


def teardown_steps(plan: Plan) -> list[Step]:
    """What ``down`` does, in order, from the saved plan alone (each step is idempotent)."""
    steps = [Step("stop-host", h.name, plan.pids.get(h.name, 0)) for h in plan.hosts]
    steps += [Step("stop-controller", "controller", plan.pids.get("controller", 0))]
    steps += [Step("stop-relay", "relay", plan.pids.get("relay", 0))]
    steps += [Step("kill-leftovers", str(plan.directory))]
    steps += [Step("delete-metadata-netns", h.name) for h in plan.hosts]
    steps += [Step("delete-namespace", ns) for ns in plan.namespaces]
    steps += [Step("delete-link", dev) for dev in plan.root_links]
    steps += [Step("drop-databases", ",".join(plan.databases)), Step("delete-vhost", plan.vhost)]
    steps += [Step("remove-directory", str(plan.directory))]
    return steps


def run_step(step: Step) -> bool:
    """Do ``step``; True if it found something to remove."""
    if step.kind in ("stop-host", "stop-controller"):
        return sysops.stop_pid(step.pid, timeout=90) if step.pid else False
    if step.kind == "stop-relay":
        return sysops.stop_pid(step.pid, timeout=10, group=True) if step.pid else False
    if step.kind == "kill-leftovers":
        pids = sysops.pids_naming(Path(step.target))
        sysops.kill_pids(pids)
        return bool(pids)
    if step.kind == "delete-metadata-netns":
        from stratus.network.agent.metadata_netns import own_namespaces

        found = list(own_namespaces(step.target).values())
        for ns in found:
            sysops.delete_namespace(ns)
        return bool(found)
    if step.kind == "delete-namespace":
        return sysops.delete_namespace(step.target)
    if step.kind == "delete-link":
        return sysops.delete_link(step.target)
    if step.kind == "drop-databases":
        return bool(sysops.drop_databases(step.target.split(",")))
    if step.kind == "delete-vhost":
        return sysops.delete_vhost(step.target)
    if step.kind == "remove-directory":
        import shutil

        path = Path(step.target)
        if not path.exists():
            return False
        shutil.rmtree(path)
        return True
    raise ValueError(f"unknown teardown step {step.kind}")


def down(plan: Plan, report: Report) -> list[str]:
    """Remove everything of ``plan``; carries on past a failing step and raises at the end if one failed."""
    failures = []
    for step in teardown_steps(plan):
        try:
            if run_step(step):
                report(f"removed: {step.describe()}")
        except Exception as exc:
            failures.append(f"{step.describe()}: {exc}")
            LOG.error("teardown step %s failed: %s", step.describe(), exc)
    if failures:
        raise sysops.TestbedError("some teardown steps failed:\n  " + "\n  ".join(failures))
    return [s.describe() for s in teardown_steps(plan)]


# --- up


def check_prerequisites() -> None:
    import shutil

    if os.geteuid() != 0:
        raise sysops.TestbedError("the test bed needs root (namespaces, links, OVS, libvirt): run it with sudo")
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise sysops.TestbedError(f"missing tools: {', '.join(missing)} (bash scripts/install-debs.sh)")


def free_ports(wanted: dict[str, int]) -> dict[str, int]:
    """``wanted`` ports, except those a wildcard listener already holds (those get a free ephemeral port)."""
    import socket

    import psutil

    wildcard = {
        c.laddr.port
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.ip in ("0.0.0.0", "::")
    }
    ports = {}
    for name, port in wanted.items():
        if port in wildcard or port in ports.values():
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        ports[name] = port
    return ports


def child_env() -> dict[str, str]:
    """This environment minus STRATUS_* overrides (each daemon reads its own config file only)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("STRATUS_")}


def up(root: Path, hosts: int, report: Report, *, testbed_id: str | None = None) -> Plan:
    """Make and start a test bed of ``hosts`` compute hosts; tears down what it made if a step fails."""
    check_prerequisites()
    root = Path(root).absolute()
    k = pick_subnet_index(sysops.networks_in_use(), taken_indexes(root))
    plan = make_plan(root, hosts, k, free_ports(DEFAULT_PORTS), sys.executable, testbed_id)
    if plan.state_file.exists():
        raise sysops.TestbedError(f"test bed {plan.id} already exists under {root}")
    plan.save()
    report(
        f"test bed {plan.id}: underlay {plan.underlay_cidr}, external {plan.external_gateway}, state {plan.directory}"
    )
    try:
        _make_network(plan, report)
        report(f"creating PostgreSQL databases {', '.join(plan.databases)} and RabbitMQ vhost {plan.vhost}")
        sysops.create_databases(plan.databases)
        sysops.create_vhost(plan.vhost)
        _start_relay(plan)
        _start_controller(plan, report)
        _start_hosts(plan, report)
        write_client_files(plan)
    except BaseException:
        report(f"test bed {plan.id} did not come up: removing what was made (logs were in {plan.directory}/logs)")
        _keep_logs(plan)
        down(plan, report)
        raise
    return plan


def _keep_logs(plan: Plan) -> None:
    """Copy the logs next to the test beds' root before ``down`` removes the directory (for the error report)."""
    import shutil

    logs = plan.directory / "logs"
    if logs.is_dir():
        shutil.copytree(logs, Path(plan.root) / f"{plan.id}-failed-logs", dirs_exist_ok=True)


def _make_network(plan: Plan, report: Report) -> None:
    report(f"underlay bridge {plan.bridge} ({plan.controller_ip}/24)")
    sysops.make_bridge(plan.bridge, f"{plan.controller_ip}/24")
    for host in plan.hosts:
        report(f"host {host.name}: namespace, veth {host.root_link} <-> {UPLINK} ({host.address} on br-phy)")
        sysops.make_namespace(host.namespace)
        sysops.veth_into(host.root_link, host.namespace, UPLINK, master=plan.bridge)
        if host.gateway:
            report(f"external network: {plan.external_link} ({plan.external_gateway}) <-> {EXTERNAL_UPLINK} on br-ex")
            sysops.veth_into(plan.external_link, host.namespace, EXTERNAL_UPLINK, cidr=plan.external_gateway)


def _start_relay(plan: Plan) -> None:
    """RabbitMQ listens on loopback only: hosts reach it through this relay on the underlay address."""
    argv = ["socat", f"TCP-LISTEN:{RELAY_PORT},bind={plan.controller_ip},fork,reuseaddr", "TCP:127.0.0.1:5672"]
    plan.pids["relay"] = sysops.spawn(argv, plan.relay_log, child_env())
    plan.save()


def _serve_argv(plan: Plan, role: str, config_file: Path | str) -> list[str]:
    return [plan.python, "-m", "stratus.cli.main", "serve", "--role", role, "--config", str(config_file)]


def _start_controller(plan: Plan, report: Report) -> None:
    plan.controller_config_file.write_text(to_toml(plan.controller_config()))
    report(f"starting the controller (APIs on {plan.controller_ip}, log {plan.controller_log})")
    plan.pids["controller"] = sysops.spawn(
        _serve_argv(plan, "controller", plan.controller_config_file), plan.controller_log, child_env()
    )
    plan.save()
    runtime = plan.controller_state_dir / "run" / "stratus.json"
    _wait(
        lambda: _runtime_pid(runtime) == plan.pids["controller"],
        CONTROLLER_TIMEOUT,
        "the controller to serve",
        plan.pids["controller"],
        plan.controller_log,
    )


def _start_hosts(plan: Plan, report: Report) -> None:
    for host in plan.hosts:
        Path(host.config_file).write_text(to_toml(plan.host_config(host)))
        _spawn_host(plan, host, report)
    token = admin_token(plan)
    for host in plan.hosts:
        _wait_host_up(plan, host, token)
        report(f"compute host {host.name} is up")


def _spawn_host(plan: Plan, host: HostPlan, report: Report) -> None:
    report(f"starting compute host {host.name} in namespace {host.namespace} (log {host.log_file})")
    argv = ["ip", "netns", "exec", host.namespace, *_serve_argv(plan, "compute", host.config_file)]
    plan.pids[host.name] = sysops.spawn(argv, Path(host.log_file), child_env())
    plan.save()


def _wait_host_up(plan: Plan, host: HostPlan, token: str) -> None:
    runtime = Path(host.state_dir) / "run" / "stratus.json"
    pid = plan.pids[host.name]
    _wait(lambda: _runtime_pid(runtime) == pid, HOST_TIMEOUT, f"{host.name} to start", pid, Path(host.log_file))
    _wait(lambda: compute_states(plan, token).get(host.name) == "up", HOST_TIMEOUT,
          f"compute service {host.name} to be up", pid, Path(host.log_file))  # fmt: skip


def restart_host(plan: Plan, name: str, report: Report) -> HostPlan:
    """Start again the compute host ``name`` whose ``stratus serve`` died (e.g. killed), and wait until it is up.

    The daemons the dead process left (libvirtd, ovs-vswitchd, ...) are stopped as stale by the new one,
    while the guests keep running.
    """
    host = next((h for h in plan.hosts if h.name == name), None)
    if host is None:
        raise sysops.TestbedError(f"test bed {plan.id} has no host {name}")
    if sysops.alive(plan.pids.get(name)):
        raise sysops.TestbedError(f"{name} is still running (pid {plan.pids[name]})")
    _spawn_host(plan, host, report)
    _wait_host_up(plan, host, admin_token(plan))
    report(f"compute host {host.name} is up")
    return host


def _runtime_pid(path: Path) -> int | None:
    try:
        return int(json.loads(path.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None


def _wait(ready: Callable[[], bool], timeout: float, what: str, pid: int, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if not sysops.alive(pid) or time.monotonic() > deadline:
            why = "exited" if not sysops.alive(pid) else f"not ready after {timeout:.0f} s"
            tail = log.read_text(errors="replace").splitlines()[-20:] if log.exists() else []
            raise sysops.TestbedError(f"waiting for {what}: {why}. Last lines of {log}:\n" + "\n".join(tail))
        time.sleep(0.5)  # polling a condition, bounded by the deadline


# --- join: host N+1 through `stratus host admit` and `stratus join`


def add_host(plan: Plan, report: Report) -> HostPlan:
    """Admit host N+1 on the controller, then run ``ip netns exec <ns> stratus join`` in its new namespace.

    The host is saved in the plan before anything is made (so ``down`` removes it); if it does not come up,
    what was made for it is removed again and the plan forgets it.
    """
    check_prerequisites()
    if not sysops.alive(plan.pids.get("controller")):
        raise sysops.TestbedError(f"the controller of test bed {plan.id} is not running")
    try:
        host = plan.next_host()
    except ValueError as exc:
        raise sysops.TestbedError(str(exc)) from None
    plan.hosts.append(host)
    plan.save()
    try:
        report(f"host {host.name}: namespace, veth {host.root_link} <-> {UPLINK} ({host.address} on br-phy)")
        sysops.make_namespace(host.namespace)
        sysops.veth_into(host.root_link, host.namespace, UPLINK, master=plan.bridge)
        # like a real machine's NIC, the uplink has its address before joining (to reach the controller);
        # the network agent moves it onto br-phy when it starts ovs-vswitchd
        sysops.run("ip", "-n", host.namespace, "addr", "add", host.address, "dev", UPLINK)
        join_url = f"http://{plan.controller_ip}:{plan.join_port}"
        _wait(lambda: _answers(join_url), 60, f"the join API at {join_url}", plan.pids["controller"],
              plan.controller_log)  # fmt: skip
        report(f"admitting {host.name} on the controller (stratus host admit)")
        token = _admit(plan, host.name)
        report(f"starting `stratus join {join_url}` in namespace {host.namespace} (log {host.log_file})")
        argv = ["ip", "netns", "exec", host.namespace, plan.python, "-m", "stratus.cli.main", "join", join_url,
                "--hostname", host.name, "--underlay-cidr", host.address, "--underlay-interface", UPLINK,
                "--state-dir", host.state_dir, "--config-file", host.config_file, "--no-install"]  # fmt: skip
        env = {**child_env(), "STRATUS_JOIN_TOKEN": token}  # not on the command line (ps shows it)
        plan.pids[host.name] = sysops.spawn(argv, Path(host.log_file), env)
        plan.save()
        pid = plan.pids[host.name]
        runtime = Path(host.state_dir) / "run" / "stratus.json"
        _wait(lambda: _runtime_pid(runtime) == pid, HOST_TIMEOUT, f"{host.name} to join and start", pid,
              Path(host.log_file))  # fmt: skip
        admin = admin_token(plan)
        _wait(lambda: compute_states(plan, admin).get(host.name) == "up", HOST_TIMEOUT,
              f"compute service {host.name} to be up", pid, Path(host.log_file))  # fmt: skip
    except BaseException:
        report(f"host {host.name} did not join: removing what was made for it")
        _keep_logs(plan)
        _remove_host(plan, host, report)
        raise
    report(f"compute host {host.name} joined and is up")
    return host


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _admit(plan: Plan, hostname: str) -> str:
    argv = [plan.python, "-m", "stratus.cli.main", "host", "admit", "--quiet", "--config",
            str(plan.controller_config_file), hostname]  # fmt: skip
    import subprocess

    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=child_env(), check=False)
    if done.returncode != 0:
        raise sysops.TestbedError(f"stratus host admit {hostname} failed: {done.stderr.strip()}")
    token = done.stdout.strip()
    if not token or len(token.split()) != 1:
        raise sysops.TestbedError(f"stratus host admit printed no token: {done.stdout!r} {done.stderr!r}")
    return token


def _remove_host(plan: Plan, host: HostPlan, report: Report) -> None:
    steps = [Step("stop-host", host.name, plan.pids.get(host.name, 0)), Step("delete-metadata-netns", host.name),
             Step("delete-namespace", host.namespace), Step("delete-link", host.root_link)]  # fmt: skip
    for step in steps:
        try:
            if run_step(step):
                report(f"removed: {step.describe()}")
        except Exception as exc:  # the host stays in the plan: `down` tries again
            LOG.error("removing %s: %s failed: %s", host.name, step.describe(), exc)
            return
    plan.hosts.remove(host)
    plan.pids.pop(host.name, None)
    plan.save()


# --- clients, status


def controller_credentials(plan: Plan) -> Any:
    from stratus.cli import credentials

    return credentials.load_or_create(plan.controller_state_dir / "credentials.toml")


def admin_token(plan: Plan) -> str:
    from stratus.cli.seed import admin_token as token

    return token(plan.url("identity", "/v3"), controller_credentials(plan).admin_password)


def compute_states(plan: Plan, token: str) -> dict[str, str]:
    """host -> up/down of the nova-compute services the compute API knows."""
    try:
        resp = httpx.get(plan.url("compute", "/v2.1/os-services"), headers={"X-Auth-Token": token}, timeout=10)
        resp.raise_for_status()
    except httpx.HTTPError as exc:
        LOG.debug("os-services: %s", exc)
        return {}
    return {s["host"]: s["state"] for s in resp.json()["services"] if s.get("binary") == "nova-compute"}


def write_client_files(plan: Plan) -> tuple[Path, Path, Path]:
    """``clouds.yaml`` (clouds ``stratus`` = admin, ``stratus-demo``), ``admin-openrc`` and ``demo-openrc``."""
    from stratus.cli import clientconfig

    creds = controller_credentials(plan)
    auth = plan.url("identity", "/v3")
    clouds = plan.directory / "clouds.yaml"
    clientconfig.merge_clouds_yaml(clouds, clientconfig.stratus_clouds(auth, creds, "RegionOne"))
    admin = plan.directory / "admin-openrc"
    clientconfig.write_openrc(admin, auth, creds, "RegionOne")
    demo = plan.directory / "demo-openrc"
    text = clientconfig.openrc_text(auth, creds, "RegionOne")
    text = text.replace("admin credentials", "demo credentials").replace("OS_USERNAME=admin", "OS_USERNAME=demo")
    text = text.replace("OS_PROJECT_NAME=admin", "OS_PROJECT_NAME=demo")
    text = text.replace(f"OS_PASSWORD={_quoted(creds.admin_password)}", f"OS_PASSWORD={_quoted(creds.demo_password)}")
    demo.write_text(text)
    demo.chmod(0o600)
    return clouds, admin, demo


def _quoted(value: str) -> str:
    import shlex

    return shlex.quote(value)


@dataclass(frozen=True)
class HostStatus:
    name: str
    namespace: bool
    process: bool
    compute: str  # up / down / unknown


def status(plan: Plan) -> tuple[bool, bool, list[HostStatus]]:
    """(relay alive, controller alive, each host's namespace/process/compute service state)."""
    try:
        states = compute_states(plan, admin_token(plan))
    except (httpx.HTTPError, OSError, KeyError):
        states = {}
    hosts = [
        HostStatus(
            h.name,
            sysops.namespace_exists(h.namespace),
            sysops.alive(plan.pids.get(h.name)),
            states.get(h.name, "unknown"),
        )  # fmt: skip
        for h in plan.hosts
    ]
    return sysops.alive(plan.pids.get("relay")), sysops.alive(plan.pids.get("controller")), hosts
