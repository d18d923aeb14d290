"""OVN central: the Northbound and Southbound ovsdb-servers and ovn-northd, supervised, under one directory.

``<dir>/nb.db`` and ``<dir>/sb.db`` are created from the OVN schemas when missing, so a deleted NB
database comes back empty when its server is restarted (the network service's resync then refills it).
The servers listen on ``punix:<dir>/nb.sock`` and ``punix:<dir>/sb.sock``, and with ``listen`` also on
``ptcp:6641:<listen>`` (NB) and ``ptcp:6642:<listen>`` (SB): the controller role, whose chassis run on
other hosts and reach the SB over the underlay.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from stratus.core.process import ManagedProcess, ProcessSpec, Supervisor
from stratus.network.agent.daemons import answers, check_socket_dir, daemon_args, ovs_env, ovsdb_server
from stratus.network.agent.ovs import INSTALL_HINT

NB_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")
SB_SCHEMA = Path("/usr/share/ovn/ovn-sb.ovsschema")
NB_TCP_PORT = 6641
SB_TCP_PORT = 6642


def tcp_remote(address: str, port: int) -> str:
    """``ptcp:<port>:<address>`` (IPv6 addresses in brackets, as OVSDB wants them)."""
    return f"ptcp:{port}:[{address}]" if ":" in address else f"ptcp:{port}:{address}"


def _listening(spec: ProcessSpec, address: str | None, port: int) -> ProcessSpec:
    if not address:
        return spec
    return dataclasses.replace(spec, argv=[*spec.argv, f"--remote={tcp_remote(address, port)}"])


class OvnCentral:
    """``start()`` / ``stop()`` the central daemons in ``directory`` (``ovn_dir(config)``); ``listen``: an address
    NB and SB also serve on TCP (ports 6641/6642)."""

    def __init__(self, directory: Path, *, listen: str | None = None):
        self.directory = Path(directory).absolute()
        self.listen = listen
        d = self.directory
        self.nb_remote = f"unix:{d / 'nb.sock'}"
        self.sb_remote = f"unix:{d / 'sb.sock'}"
        northd = ProcessSpec(
            name="ovn-northd",
            argv=[
                "ovn-northd",
                f"--ovnnb-db={self.nb_remote}",
                f"--ovnsb-db={self.sb_remote}",
                f"--unixctl={d / 'ovn-northd.ctl'}",
                *daemon_args(d, "ovn-northd"),
            ],  # fmt: skip
            directory=d,
            env=ovs_env(d),
            ready=lambda _pid: answers(d / "ovn-northd.ctl"),
            hint=INSTALL_HINT,
        )
        nb = ovsdb_server("ovsdb-nb", d, "nb.db", "nb.sock", NB_SCHEMA, unixctl=True)
        sb = ovsdb_server("ovsdb-sb", d, "sb.db", "sb.sock", SB_SCHEMA, unixctl=True)
        self.supervisor = Supervisor(
            "ovn-central",
            [
                ManagedProcess(_listening(nb, listen, NB_TCP_PORT)),
                ManagedProcess(_listening(sb, listen, SB_TCP_PORT)),
                ManagedProcess(northd),
            ],
        )

    def start(self) -> None:
        """Start NB, SB and northd (stopping leftovers of a crashed run first); ProcessError if one cannot."""
        check_socket_dir(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.supervisor.start()

    def stop(self) -> None:
        self.supervisor.stop()
