"""This host as an OVN chassis: ovsdb-server, ovs-vswitchd and ovn-controller, supervised, under one directory.

Configuration written to the local OVS database (``Open_vSwitch`` external_ids, bridges) is applied each
time its ovsdb-server starts, so a deleted ``conf.db`` heals itself. ovs-vswitchd *is* the datapath on
the userspace (``netdev``) datapath: the supervisor restarts it at once, and each start re-applies the
host address on the first mapped bridge (``[network_agent] external_cidr``), which vanishes with the
bridge's internal port when ovs-vswitchd exits.

With ``[network_agent] underlay_interface`` and ``underlay_cidr`` the tunnel endpoint lives on an OVS netdev
bridge (``underlay_bridge``, br-phy) whose uplink is that interface: each start of ovs-vswitchd moves the
address onto br-phy, so the userspace datapath learns the route and ARP of the underlay from the kernel
(notes/ovn-userspace-datapath.md, "put the tunnel endpoint IP on an OVS netdev bridge").
``[network_agent] bridge_ports`` plugs uplinks into other bridges (br-ex of a gateway chassis).

``netns`` runs the daemons (and the host address) inside that network namespace; tests use it so that
their bridges never meet a running cloud's ``br-int``.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
from pathlib import Path

from stratus.core.config import Config
from stratus.core.process import POLL, ManagedProcess, ProcessError, ProcessSpec, Supervisor
from stratus.network import conf
from stratus.network.agent.daemons import (
    answers,
    check_socket_dir,
    daemon_args,
    netns_prefix,
    ovs_env,
    ovsdb_server,
)
from stratus.network.agent.iplink import IpLink
from stratus.network.agent.ovs import INSTALL_HINT, Ovs

LOG = logging.getLogger(__name__)
VSWITCH_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
KERNEL_MODULE = Path("/sys/module/openvswitch")
BRIDGE_TIMEOUT = 30.0
DATAPATH_TYPES = ("system", "netdev")


def datapath_type(setting: str, *, kernel_module: Path = KERNEL_MODULE) -> str:
    """``auto``: ``system`` where the openvswitch kernel module is loaded, else the userspace ``netdev``."""
    if setting == "auto":
        return "system" if kernel_module.exists() else "netdev"
    if setting not in DATAPATH_TYPES:
        raise ValueError(f"[network_agent] datapath_type must be auto, system or netdev, not {setting!r}")
    return setting


def agent_sb_connection(config: Config, agent: conf.NetworkAgentConfig) -> str:
    return agent.ovn_sb_connection or f"unix:{conf.ovn_dir(config)}/sb.sock"


def open_vswitch_ids(config: Config, agent: conf.NetworkAgentConfig, dp_type: str) -> dict[str, str]:
    """The ``Open_vSwitch`` external_ids that make ovn-controller register this host as a chassis."""
    ids = {
        "system-id": config.core.host,
        "hostname": config.core.host,
        "ovn-remote": agent_sb_connection(config, agent),
        "ovn-encap-type": agent.encap_type,
        "ovn-encap-ip": conf.encap_address(agent),
        "ovn-bridge": agent.integration_bridge,
        "ovn-bridge-datapath-type": dp_type,
        "ovn-bridge-mappings": ",".join(f"{net}:{br}" for net, br in agent.bridge_mappings.items()),
        # a busy 2-core machine misses the default 5 s probes; these are local sockets
        "ovn-remote-probe-interval": "30000",
        "ovn-openflow-probe-interval": "30",
    }
    if agent.gateway_chassis:
        ids["ovn-cms-options"] = "enable-chassis-as-gw"
    return ids


def setup_commands(config: Config, agent: conf.NetworkAgentConfig, dp_type: str) -> list[list[str]]:
    """The ovs-vsctl calls (``--no-wait``: ovs-vswitchd may not run yet) that configure the local database."""
    ids = open_vswitch_ids(config, agent, dp_type)
    cmds = [
        ["--no-wait", "init"],
        ["--no-wait", "set", "Open_vSwitch", ".", *(f"external_ids:{k}={json.dumps(v)}" for k, v in ids.items())],
        [
            "--no-wait",
            "--may-exist",
            "add-br",
            agent.integration_bridge,
            "--",
            "set",
            "Bridge",
            agent.integration_bridge,
            f"datapath_type={dp_type}",
            "fail-mode=secure",
            "other-config:disable-in-band=true",
        ],  # fmt: skip
    ]
    if not agent.gateway_chassis:
        cmds.append(["--no-wait", "remove", "Open_vSwitch", ".", "external_ids", "ovn-cms-options"])
    for bridge in dict.fromkeys(agent.bridge_mappings.values()):
        cmds.append(["--no-wait", "--may-exist", "add-br", bridge, "--", "set", "Bridge", bridge,
                     f"datapath_type={dp_type}"])  # fmt: skip
    for bridge, uplink in uplinks(agent).items():
        if bridge not in agent.bridge_mappings.values():
            cmds.append(["--no-wait", "--may-exist", "add-br", bridge, "--", "set", "Bridge", bridge,
                         f"datapath_type={dp_type}"])  # fmt: skip
        cmds.append(["--no-wait", "--may-exist", "add-port", bridge, uplink])
    return cmds


def uplinks(agent: conf.NetworkAgentConfig) -> dict[str, str]:
    """OVS bridge -> host interface plugged into it: ``bridge_ports`` plus br-phy's ``underlay_interface``."""
    ports = dict(agent.bridge_ports)
    if agent.underlay_interface:
        if not agent.underlay_cidr:
            raise ValueError("[network_agent] underlay_interface needs underlay_cidr (the address br-phy takes)")
        ports[agent.underlay_bridge] = agent.underlay_interface
    return ports


def exit_cleanly(ctl: Path) -> None:
    """``ovs-appctl exit --cleanup``: ovs-vswitchd removes its datapath and the bridges' own ports on the way
    out (a plain SIGTERM leaves the netdev datapath's taps, host address included, behind)."""
    done = subprocess.run(["ovs-appctl", "-t", str(ctl), "exit", "--cleanup"], capture_output=True, text=True,
                          timeout=30)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"ovs-appctl exit --cleanup: {done.stderr.strip()}")


class Chassis:
    """``start()`` / ``stop()`` this host's OVS and ovn-controller in ``directory`` (``ovs_dir(config)``)."""

    def __init__(self, config: Config, *, netns: str | None = None, directory: Path | None = None):
        self.config = config
        self.agent = conf.agent_config(config)
        self.netns = netns
        self.directory = Path(directory or conf.ovs_dir(config)).absolute()
        self.datapath_type = datapath_type(self.agent.datapath_type)
        self.ovs = Ovs(self.directory / "db.sock")
        self.ip = IpLink(netns)
        d, prefix, env = self.directory, netns_prefix(netns), ovs_env(self.directory)
        db = ovsdb_server("ovsdb-server", d, "conf.db", "db.sock", VSWITCH_SCHEMA)
        db.after_start = self._configure
        vswitchd = ProcessSpec(
            name="ovs-vswitchd",
            argv=prefix + ["ovs-vswitchd", f"unix:{d / 'db.sock'}", *daemon_args(d, "ovs-vswitchd")],
            directory=d,
            env=env,
            ready=lambda pid: answers(d / f"ovs-vswitchd.{pid}.ctl"),
            after_start=self._host_address,
            before_stop=lambda pid: exit_cleanly(d / f"ovs-vswitchd.{pid}.ctl"),
            program="ovs-vswitchd",
            hint=INSTALL_HINT,
        )
        controller = ProcessSpec(
            name="ovn-controller",
            argv=prefix + ["ovn-controller", f"unix:{d / 'db.sock'}", *daemon_args(d, "ovn-controller")],
            directory=d,
            env=env,
            ready=lambda pid: answers(d / f"ovn-controller.{pid}.ctl"),
            program="ovn-controller",
            hint=INSTALL_HINT,
        )
        self.supervisor = Supervisor(
            "ovn-chassis", [ManagedProcess(db), ManagedProcess(vswitchd), ManagedProcess(controller)]
        )

    @property
    def bridges(self) -> list[str]:
        mapped = [*self.agent.bridge_mappings.values(), *uplinks(self.agent)]
        return [self.agent.integration_bridge, *dict.fromkeys(mapped)]

    def start(self) -> None:
        """Start ovsdb-server, ovs-vswitchd and ovn-controller; ProcessError naming the one that cannot."""
        check_socket_dir(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        uplinks(self.agent)  # ValueError for an incomplete underlay before anything starts
        self._check_encap_ip()
        self.supervisor.start()

    def stop(self) -> None:
        self.supervisor.stop()

    def _configure(self) -> None:
        for cmd in setup_commands(self.config, self.agent, self.datapath_type):
            self.ovs.vsctl(*cmd)

    def _host_address(self) -> None:
        """Wait for the bridges' own ports, then give the first mapped bridge the host's external address."""
        deadline = time.monotonic() + BRIDGE_TIMEOUT
        missing = self.bridges
        while missing:
            missing = [br for br in missing if not self.ip.exists(br)]
            if missing and time.monotonic() > deadline:
                raise ProcessError(f"ovs-vswitchd did not create bridge device(s) {', '.join(missing)}")
            if missing:
                time.sleep(POLL)  # waiting for ovs-vswitchd to create the devices, bounded by the deadline
        self._uplinks()
        external = next(iter(self.agent.bridge_mappings.values()), None)
        if external and self.agent.external_cidr:
            self.ip.replace_address(self.agent.external_cidr, external)
            # No `ethtool -K tx off` needed here: vswitchd reads its internal tap with read(), which hands over
            # complete checksums (tested both ways in tests/e2e/test_network_host.py); veths need it.
            self.ip.set_up(external)

    def _uplinks(self) -> None:
        """Uplinks up with checksum offload off (OVS reads them through AF_PACKET); the underlay address moved
        from the uplink onto br-phy, which must be up for vswitchd to route tunnels through it."""
        for bridge, uplink in uplinks(self.agent).items():
            self.ip.checksum_offload_off(uplink)
            self.ip.set_up(uplink)
            if bridge == self.agent.underlay_bridge and self.agent.underlay_cidr:
                self.ip.run("ip", "-4", "addr", "flush", "dev", uplink)
                self.ip.replace_address(self.agent.underlay_cidr, bridge)
                self.ip.set_up(bridge)

    def _check_encap_ip(self) -> None:
        ip = conf.encap_address(self.agent)
        if self.agent.underlay_cidr:
            return  # the address is put on br-phy once ovs-vswitchd runs
        if not ip.startswith("127.") and not self.ip.has_address(ip):
            LOG.warning(
                "[network_agent] encap_ip %s is not an address of this host: tunnels to other chassis will fail", ip
            )
