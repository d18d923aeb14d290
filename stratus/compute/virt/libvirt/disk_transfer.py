"""Copy a stopped guest's disk from the source host for a cold migration (Nova copies it over SSH).

The destination opens the source host's libvirtd over the connection live migration already uses
(``[compute_agent] live_migration_uri`` with the source's ``libvirt_listen_address``), makes a transient
``dir`` storage pool there on the instance's directory and downloads the disk volume as a stream. Only the
qcow2 overlay travels (what the guest wrote); the destination rebases it onto its own cached copy of the
same image. No new daemon, port or credential.
"""

from __future__ import annotations

import uuid
from pathlib import Path, PurePosixPath
from xml.sax.saxutils import escape

import libvirt

from stratus.compute.virt.base import DriverError


def download(uri: str, remote_disk: str, dest: Path) -> int:
    """Write the source's ``remote_disk`` (a file path on that host) to ``dest``; returns the bytes copied."""
    remote = PurePosixPath(remote_disk)
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise DriverError(f"cannot reach the source host's libvirtd at {uri}: {exc.get_error_message()}") from exc
    try:
        name = f"stratus-move-{uuid.uuid4().hex[:12]}"
        xml = f"<pool type='dir'><name>{name}</name><target><path>{escape(str(remote.parent))}</path></target></pool>"
        pool = conn.storagePoolCreateXML(xml, 0)  # transient: gone with destroy()
        try:
            volume = pool.storageVolLookupByName(remote.name)
            stream = conn.newStream(0)
            copied = 0

            def write(_stream: libvirt.virStream, data: bytes, out: object) -> int:
                nonlocal copied
                copied += len(data)
                return out.write(data)  # type: ignore[attr-defined, no-any-return]

            with open(dest, "wb") as out:
                volume.download(stream, 0, 0, 0)
                stream.recvAll(write, out)
                stream.finish()
            return copied
        finally:
            pool.destroy()
    except libvirt.libvirtError as exc:
        raise DriverError(f"copying {remote_disk} from {uri} failed: {exc.get_error_message()}") from exc
    finally:
        conn.close()
