"""The test bed's plan: names, addresses, ports and every host's configuration, decided before anything is made.

A test bed ``stb<4 hex>`` on one machine (see docs/testbed.md):

- underlay ``10.250.<k>.0/24``: Linux bridge ``<id>-ul`` in the root namespace holding the controller's
  ``.1``; host ``i`` is namespace ``<id>-h<i>`` with veth ``<id>-h<i>u`` (root, on the bridge) <-> ``ul0``
  (inside, the uplink of the host's br-phy, which takes ``10.250.<k>.<10+i>``);
- external ``172.24.<k>.0/24``: veth ``<id>-ex`` (root, ``.1``) <-> ``ex0`` on br-ex of host 1, the gateway chassis;
- PostgreSQL databases ``<id>_<service>``, RabbitMQ vhost ``<id>``; hosts reach RabbitMQ (which listens on
  loopback only) through a relay on the controller's underlay address.

The plan is saved as JSON in ``<root>/<id>/testbed.json`` before the first thing is created, so ``down``
removes exactly what ``up`` made (also after a crash) from that file alone.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_ROOT = Path("/var/lib/stratus-testbed")
ID_PREFIX = "stb"
SERVICES = ("identity", "image", "compute", "network")
DEFAULT_PORTS = {"identity": 5000, "image": 9292, "compute": 8774, "metadata": 8775, "network": 9696, "dashboard": 8000,
                 "join": 8779}  # fmt: skip
RELAY_PORT = 5672
SUBNET_INDEXES = range(100, 250)
"""k in 10.250.<k>.0/24 and 172.24.<k>.0/24 (clear of the lab's 10.250.0-3 and ``make up``'s 172.24.4)."""
MAX_HOSTS = 200
UPLINK = "ul0"
EXTERNAL_UPLINK = "ex0"
STATE_FILE = "testbed.json"


def new_id() -> str:
    return f"{ID_PREFIX}{secrets.token_hex(2)}"


def check_id(testbed_id: str) -> str:
    """``stb`` + 4 lowercase hex digits; ValueError otherwise (names derived from it must fit 15-byte ifnames)."""
    rest = testbed_id[len(ID_PREFIX) :]
    if not testbed_id.startswith(ID_PREFIX) or len(rest) != 4 or any(c not in "0123456789abcdef" for c in rest):
        raise ValueError(f"invalid test bed id {testbed_id!r} (expected {ID_PREFIX} and 4 hex digits, e.g. stb1a2b)")
    return testbed_id


def pick_subnet_index(in_use: list[str], taken: set[int] = frozenset()) -> int:  # type: ignore[assignment]
    """The first k whose 10.250.<k>.0/24 and 172.24.<k>.0/24 overlap no network in ``in_use`` (CIDRs of the
    machine's addresses and routes) and no other test bed's (``taken``)."""
    used = []
    for cidr in in_use:
        try:
            used.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            continue
    for k in SUBNET_INDEXES:
        if k in taken:
            continue
        mine = (ipaddress.ip_network(f"10.250.{k}.0/24"), ipaddress.ip_network(f"172.24.{k}.0/24"))
        if not any(m.overlaps(u) for m in mine for u in used if u.version == 4 and u.prefixlen > 0):
            return k
    raise RuntimeError("no free 10.250.<k>.0/24 + 172.24.<k>.0/24 pair for a test bed on this machine")


# Each host reports the machine's cores; 16 guests per core lets a burst of tiny test guests fit on 2 cores.
TESTBED_CPU_ALLOCATION_RATIO = 16.0


@dataclass
class HostPlan:
    index: int
    name: str  # [core] host, the chassis system-id and compute host name; also the namespace
    namespace: str
    root_link: str  # veth end in the root namespace, on the underlay bridge
    address: str  # underlay address with prefix, on br-phy inside the namespace
    state_dir: str
    config_file: str
    log_file: str
    gateway: bool
    joined: bool = False  # added by ``testbed join`` (its config came from the controller's join API)


@dataclass
class Plan:
    """Everything a test bed is made of; ``to_json``/``from_json`` round-trip it through the state file."""

    id: str
    root: str
    subnet_index: int
    hosts: list[HostPlan]
    ports: dict[str, int]
    metadata_secret: str
    python: str
    pids: dict[str, int] = field(default_factory=dict)

    # --- names and addresses

    @property
    def directory(self) -> Path:
        return Path(self.root) / self.id

    @property
    def state_file(self) -> Path:
        return self.directory / STATE_FILE

    @property
    def bridge(self) -> str:
        return f"{self.id}-ul"

    @property
    def external_link(self) -> str:
        return f"{self.id}-ex"

    @property
    def controller_ip(self) -> str:
        return f"10.250.{self.subnet_index}.1"

    @property
    def underlay_cidr(self) -> str:
        return f"10.250.{self.subnet_index}.0/24"

    @property
    def external_gateway(self) -> str:
        """The root namespace's address on the external network, with prefix (public's gateway)."""
        return f"172.24.{self.subnet_index}.1/24"

    @property
    def databases(self) -> list[str]:
        return [f"{self.id}_{s}" for s in SERVICES]

    @property
    def vhost(self) -> str:
        return self.id

    @property
    def controller_state_dir(self) -> Path:
        return self.directory / "controller"

    @property
    def controller_config_file(self) -> Path:
        return self.directory / "controller.toml"

    @property
    def controller_log(self) -> Path:
        return self.directory / "logs" / "controller.log"

    @property
    def relay_log(self) -> Path:
        return self.directory / "logs" / "relay.log"

    @property
    def root_links(self) -> list[str]:
        return [h.root_link for h in self.hosts] + [self.external_link, self.bridge]

    @property
    def namespaces(self) -> list[str]:
        return [h.namespace for h in self.hosts]

    def url(self, service: str, path: str = "") -> str:
        return f"http://{self.controller_ip}:{self.ports[service]}{path}"

    @property
    def bus_url_controller(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}"

    @property
    def bus_url_hosts(self) -> str:
        return f"amqp://guest:guest@{self.controller_ip}:{RELAY_PORT}/{self.vhost}"

    # --- configuration files

    def controller_config(self) -> dict[str, Any]:
        return {
            "core": {
                "state_dir": str(self.controller_state_dir),
                "host": f"{self.id}-controller",
                "bind_host": self.controller_ip,
                "public_host": self.controller_ip,
                "database_url": f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.id}_{{service}}",
                "bus_url": self.bus_url_controller,
                "identity_url": self.url("identity"),
                "metadata_secret": self.metadata_secret,
            },
            "identity": {"port": self.ports["identity"]},
            "image": {"port": self.ports["image"]},
            "compute": {"port": self.ports["compute"], "metadata_port": self.ports["metadata"]},
            "compute_agent": {"fake_hosts": 0},
            # every "host" shares this machine's few cores: overcommit as a lab of tiny guests can
            "compute_scheduler": {"cpu_allocation_ratio": TESTBED_CPU_ALLOCATION_RATIO},
            "network": {
                "port": self.ports["network"],
                "ovn_central_listen": self.controller_ip,
                "gateway_chassis": [h.name for h in self.hosts if h.gateway],
                "public_cidr": self.external_gateway,
                "ovs_datapath_type": "netdev",
            },
            "network_agent": {"enabled": False},
            "dashboard": {"port": self.ports["dashboard"]},
            "join": {"port": self.join_port, "bus_url": self.bus_url_hosts},
        }

    @property
    def join_port(self) -> int:
        return self.ports.get("join", DEFAULT_PORTS["join"])  # plans saved before the join API lack it

    def next_host(self) -> HostPlan:
        """Host N+1 (``testbed join``): like ``make_plan``'s hosts, never a gateway chassis."""
        i = max((h.index for h in self.hosts), default=0) + 1
        if i > MAX_HOSTS:
            raise ValueError(f"a test bed has at most {MAX_HOSTS} hosts")
        return _host(self.id, self.directory, self.subnet_index, i, gateway=False, joined=True)

    def host_config(self, host: HostPlan) -> dict[str, Any]:
        agent: dict[str, Any] = {
            "ovn_sb_connection": f"tcp:{self.controller_ip}:6642",
            "datapath_type": "netdev",
            "encap_ip": host.address.split("/")[0],
            "underlay_interface": UPLINK,
            "underlay_cidr": host.address,
            "metadata_url": self.url("metadata"),
            "external_cidr": "",
            "gateway_chassis": host.gateway,
            "bridge_mappings": {"public": "br-ex"} if host.gateway else {},
            "bridge_ports": {"br-ex": EXTERNAL_UPLINK} if host.gateway else {},
        }
        return {
            "core": {
                "state_dir": host.state_dir,
                "host": host.name,
                "bus_url": self.bus_url_hosts,
                "identity_url": self.url("identity"),
                "metadata_secret": self.metadata_secret,
            },
            "compute": {"image_url": self.url("image")},
            "compute_agent": {
                "driver": "libvirt",
                "libvirt_daemon": "private",
                "fake_hosts": 1,
                # live migration: the host's libvirtd and QEMU listen on its underlay address only
                "libvirt_listen_address": host.address.split("/")[0],
            },
            "network_agent": agent,
        }

    # --- state file

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        data["hosts"] = [HostPlan(**h) for h in data["hosts"]]
        return cls(**data)

    def save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds the metadata secret
        with os.fdopen(fd, "w") as f:
            f.write(self.to_json())
        os.replace(tmp, self.state_file)


def make_plan(
    root: Path, hosts: int, subnet_index: int, ports: dict[str, int], python: str, testbed_id: str | None = None
) -> Plan:
    if not 1 <= hosts <= MAX_HOSTS:
        raise ValueError(f"--hosts must be between 1 and {MAX_HOSTS}")
    tid = check_id(testbed_id or new_id())
    directory = Path(root).absolute() / tid
    plan_hosts = [_host(tid, directory, subnet_index, i, gateway=i == 1) for i in range(1, hosts + 1)]
    return Plan(
        id=tid,
        root=str(Path(root).absolute()),
        subnet_index=subnet_index,
        hosts=plan_hosts,
        ports=dict(ports),
        metadata_secret=secrets.token_hex(16),
        python=python,
    )


def _host(tid: str, directory: Path, subnet_index: int, i: int, *, gateway: bool, joined: bool = False) -> HostPlan:
    return HostPlan(
        index=i,
        name=f"{tid}-h{i}",
        namespace=f"{tid}-h{i}",
        root_link=f"{tid}-h{i}u",
        address=f"10.250.{subnet_index}.{10 + i}/24",
        state_dir=str(directory / f"h{i}"),
        config_file=str(directory / f"h{i}.toml"),
        log_file=str(directory / "logs" / f"h{i}.log"),
        gateway=gateway,
        joined=joined,
    )


def load_plan(root: Path, testbed_id: str | None) -> Plan:
    """The saved plan of ``testbed_id``, or of the only test bed under ``root``; LookupError if none/ambiguous."""
    root = Path(root)
    if testbed_id is None:
        found = sorted(p.parent.name for p in root.glob(f"{ID_PREFIX}*/{STATE_FILE}"))
        if not found:
            raise LookupError(f"no test bed under {root}")
        if len(found) > 1:
            raise LookupError(f"several test beds under {root} ({', '.join(found)}): name one with --id")
        testbed_id = found[0]
    path = root / check_id(testbed_id) / STATE_FILE
    try:
        return Plan.from_json(path.read_text())
    except FileNotFoundError:
        raise LookupError(f"no test bed {testbed_id} under {root} ({path} is missing)") from None


def taken_indexes(root: Path) -> set[int]:
    """Subnet indexes of the other test beds saved under ``root``."""
    taken = set()
    for path in Path(root).glob(f"{ID_PREFIX}*/{STATE_FILE}"):
        try:
            taken.add(int(json.loads(path.read_text())["subnet_index"]))
        except (OSError, ValueError, KeyError):
            continue
    return taken


def to_toml(data: dict[str, dict[str, Any]]) -> str:
    """Sections of scalars, string lists and string tables (all a Stratus config needs) as TOML."""
    lines: list[str] = []
    for section, options in data.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in options.items()]
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
