"""The metadata namespace of one network on this host: names, plumbing, and a listening socket inside it.

Per network: a namespace ``stratus-md-<host tag>-<network id>`` (namespaces are machine-global, and
several Stratus hosts may share a machine in the test bed, so the name carries a tag of ``[core] host``)
holding one end of a veth pair; the other end sits on the integration bridge bound to the network's
metadata ``localport``. The inner end carries the port's MAC, its addresses and 169.254.169.254/32.
Checksum offload is off on both ends: OVS's userspace datapath forwards partial checksums unfilled,
which breaks TCP (notes/ovn-userspace-datapath.md).
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from stratus.network.agent.iplink import IpLink

NS_PREFIX = "stratus-md-"
NETNS_DIR = Path("/run/netns")
METADATA_ADDRESS = "169.254.169.254"
METADATA_CIDR = f"{METADATA_ADDRESS}/32"
CLONE_NEWNET = 0x40000000
NETWORK_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
HOST_DEV = re.compile(r"^md[0-9a-f]{12}$")
"""Names of the host-side veths this module makes (``md`` + 12 hex digits)."""


def host_tag(host: str) -> str:
    return hashlib.sha256(host.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Names:
    namespace: str
    host_dev: str  # on the integration bridge
    ns_dev: str  # inside the namespace


def names(host: str, network_id: str) -> Names:
    """The namespace and veth names of ``network_id`` on ``host``; ValueError for an unusable network id."""
    if not NETWORK_ID.match(network_id):
        raise ValueError(f"invalid network id {network_id!r}")
    digest = hashlib.sha256(f"{host}/{network_id}".encode()).hexdigest()[:12]
    return Names(namespace=f"{NS_PREFIX}{host_tag(host)}-{network_id}", host_dev=f"md{digest}", ns_dev=f"mi{digest}")


def own_namespaces(host: str, netns_dir: Path = NETNS_DIR) -> dict[str, str]:
    """Network id -> namespace name of every metadata namespace of ``host`` on this machine."""
    prefix = f"{NS_PREFIX}{host_tag(host)}-"
    try:
        entries = os.listdir(netns_dir)
    except FileNotFoundError:
        return {}
    return {
        name[len(prefix) :]: name
        for name in entries
        if name.startswith(prefix) and NETWORK_ID.match(name[len(prefix) :])
    }


def namespace_exists(namespace: str, netns_dir: Path = NETNS_DIR) -> bool:
    return (netns_dir / namespace).exists()


def _addresses(ip: IpLink, dev: str) -> set[str]:
    out = ip.run("ip", "-o", "-4", "addr", "show", "dev", dev).stdout
    found = set()
    for line in out.splitlines():
        words = line.split()
        if "inet" in words:
            found.add(words[words.index("inet") + 1])
    return found


@dataclass(frozen=True)
class Plumbed:
    namespace_created: bool  # a socket opened in an earlier namespace of that name is stale
    veth_created: bool  # OVS must open the new host end: its port is to be re-added


def plumb(n: Names, *, mac: str, cidrs: list[str], mtu: int, host_ip: IpLink) -> Plumbed:
    """Create (or repair) the namespace and veth pair and give the inner end its MAC, MTU and addresses.

    Idempotent: run again with changed addresses, it adds the new and removes the stale ones.
    ``host_ip`` acts in the namespace holding the integration bridge.
    """
    namespace_created = not namespace_exists(n.namespace)
    if namespace_created:
        IpLink().run("ip", "netns", "add", n.namespace)
    inner = IpLink(n.namespace)
    inner.set_up("lo")
    if host_ip.exists(n.host_dev) and not inner.exists(n.ns_dev):
        host_ip.delete(n.host_dev)  # its peer is elsewhere (a crash mid-way, a namespace deleted by hand)
    veth_created = not host_ip.exists(n.host_dev)
    if veth_created:
        if inner.exists(n.ns_dev):
            inner.delete(n.ns_dev)
        host_ip.run("ip", "link", "add", n.host_dev, "type", "veth", "peer", "name", n.ns_dev, "netns", n.namespace)
    host_ip.checksum_offload_off(n.host_dev)
    inner.checksum_offload_off(n.ns_dev)
    host_ip.set_up(n.host_dev, mtu=mtu)
    inner.run("ip", "link", "set", "dev", n.ns_dev, "address", mac)
    inner.set_up(n.ns_dev, mtu=mtu)
    want = {*cidrs, METADATA_CIDR}
    have = _addresses(inner, n.ns_dev)
    for cidr in sorted(want - have):
        inner.replace_address(cidr, n.ns_dev)
    for cidr in sorted(have - want):
        inner.run("ip", "addr", "del", cidr, "dev", n.ns_dev, check=False)
    return Plumbed(namespace_created=namespace_created, veth_created=veth_created)


def unplumb(n: Names, *, host_ip: IpLink) -> None:
    """Delete the namespace (which takes its veth end, and so the pair) and any leftover host end."""
    if namespace_exists(n.namespace):
        IpLink().run("ip", "netns", "del", n.namespace, check=False)
    host_ip.delete(n.host_dev)


def _libc_setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns failed: {os.strerror(err)}")


def open_listener(namespace: str, address: str = METADATA_ADDRESS, port: int = 80) -> socket.socket:
    """A listening TCP socket on ``address:port`` inside ``namespace``, opened by this process.

    A socket belongs to the network namespace of the thread that created it, and setns(CLONE_NEWNET)
    moves only the calling thread: a short-lived thread enters the namespace, makes and binds the
    socket, and goes back. The process serves the socket from anywhere afterwards.
    """
    result: dict[str, object] = {}

    def enter_and_bind() -> None:
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(NETNS_DIR / namespace, os.O_RDONLY)
        try:
            _libc_setns(target)
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.bind((address, port))
                    sock.listen(64)
                except BaseException:
                    sock.close()
                    raise
                result["sock"] = sock
            finally:
                _libc_setns(own)
        except BaseException as err:  # handed to the caller's thread
            result["error"] = err
        finally:
            os.close(target)
            os.close(own)

    thread = threading.Thread(target=enter_and_bind, name=f"netns-bind-{namespace}", daemon=True)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    sock = result.get("sock")
    if not isinstance(sock, socket.socket):
        raise OSError(errno.EIO, f"could not open a socket in namespace {namespace}")
    return sock
