"""In-memory stand-ins for ovs-vsctl and ip, for the agent's unit tests."""

from __future__ import annotations

import subprocess

from stratus.network.agent.ovs import Ovs


class FakeOvs(Ovs):
    """Bridges and Interfaces in dicts; records every mutating call."""

    def __init__(self) -> None:
        super().__init__("/nonexistent/db.sock")
        self.ports: dict[str, str] = {}  # port -> bridge
        self.ids: dict[str, dict[str, str]] = {}
        self.calls: list[tuple[str, ...]] = []

    def vsctl(self, *args: str) -> str:
        raise AssertionError(f"unexpected raw vsctl {args}")

    def add_port(self, bridge, name, *, iface_id=None, external_ids=None, no_wait=False):  # type: ignore[no-untyped-def]
        self.calls.append(("add_port", bridge, name))
        self.ports.setdefault(name, bridge)
        self.ids.setdefault(name, {}).update(external_ids or {}, **({"iface-id": iface_id} if iface_id else {}))

    def del_port(self, name, *, no_wait=False):  # type: ignore[no-untyped-def]
        self.calls.append(("del_port", name))
        self.ports.pop(name, None)
        self.ids.pop(name, None)

    def list_ports(self, bridge: str) -> list[str]:
        return sorted(p for p, b in self.ports.items() if b == bridge)

    def interfaces(self) -> dict[str, dict[str, str]]:
        return {name: dict(ids) for name, ids in self.ids.items()}

    def interface_external_ids(self, name: str) -> dict[str, str]:
        return dict(self.ids.get(name, {}))


class FakeIpRunner:
    """Plays ``ip`` for tuntap add / link show / link set / link del; records each command."""

    def __init__(self) -> None:
        self.devices: dict[str, dict[str, object]] = {}
        self.commands: list[list[str]] = []

    def __call__(self, cmd: list[str]) -> subprocess.CompletedProcess[str]:
        self.commands.append(cmd)
        args = cmd[3:] if cmd[:2] == ["ip", "-n"] else cmd[1:]
        rc, err = 0, ""
        if args[:3] == ["link", "show", "dev"]:
            rc = 0 if args[3] in self.devices else 1
        elif args[:2] == ["tuntap", "add"]:
            self.devices[args[3]] = {"kind": "tap", "up": False, "mtu": 1500}
        elif args[:3] == ["link", "set", "dev"]:
            dev = self.devices[args[3]]
            if "mtu" in args:
                dev["mtu"] = int(args[args.index("mtu") + 1])
            dev["up"] = "up" in args
        elif args[:3] == ["link", "del", "dev"]:
            rc, err = (0, "") if self.devices.pop(args[3], None) else (1, "Cannot find device")
        else:
            raise AssertionError(f"unexpected command {cmd}")
        return subprocess.CompletedProcess(cmd, rc, "", err)
