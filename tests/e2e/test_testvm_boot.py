"""Boot the Stratus test VM under QEMU TCG with a slirp network and a fake EC2 metadata service.

The guest reaches 169.254.169.254:80 through a slirp guestfwd whose `cmd:` spawns, per connection, a tiny
stdin/stdout <-> TCP bridge to the test's own http.server on 127.0.0.1 (a chardev guestfwd would carry only one
connection for the whole run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stratus.image.testvm.builder import build_testvm

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (QEMU test guest)"),
    pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="qemu-system-x86_64 not installed"),
]

HOSTNAME = "testvm-e2e.novalocal"
INSTANCE_ID = "i-0000e2e1"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2eTestKeyOnlyForTheTestVM e2e@stratus"
USERDATA_MARKER = "USERDATA-SCRIPT-RAN-e2e"
USER_DATA = f"#!/bin/sh\necho {USERDATA_MARKER} host=$(hostname)\nexit 0\n"
BOOT_TIMEOUT = 60.0
POWEROFF_TIMEOUT = 30.0

BRIDGE = textwrap.dedent(
    """
    import os, socket, sys, threading
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    def pump():
        while data := os.read(0, 65536):
            s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    threading.Thread(target=pump, daemon=True).start()
    while data := s.recv(65536):
        os.write(1, data)
    """
)


class _MetadataHandler(BaseHTTPRequestHandler):
    paths = {
        "/latest/meta-data/hostname": HOSTNAME,
        "/latest/meta-data/instance-id": INSTANCE_ID,
        "/latest/meta-data/public-keys/0/openssh-key": SSH_KEY + "\n",
        "/latest/user-data": USER_DATA,
    }
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        self.requests.append(self.path)
        body = self.paths.get(self.path)
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def image() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="stratus-testvm-image-") as tmp:
        yield build_testvm(Path(tmp) / "testvm.qcow2")


@pytest.fixture
def metadata_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MetadataHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def qemu_command(image: Path, tmp: Path, md_port: int, fwd: dict[int, int]) -> list[str]:
    """QEMU TCG with the image as a throw-away virtio disk; `fwd` maps host ports to guest TCP ports."""
    bridge = tmp / "md_bridge.py"
    bridge.write_text(BRIDGE)
    netdev = (
        "user,id=n0,net=169.254.169.0/24,host=169.254.169.1,dhcpstart=169.254.169.15,"
        f"guestfwd=tcp:169.254.169.254:80-cmd:{sys.executable} {bridge} {md_port}"
    )
    netdev += "".join(f",hostfwd=tcp:127.0.0.1:{host}-:{guest}" for host, guest in fwd.items())
    return [
        "qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m", "128", "-smp", "1",
        "-nodefaults", "-display", "none", "-no-reboot",
        "-serial", f"file:{tmp / 'console.log'}",
        "-qmp", f"unix:{tmp / 'qmp.sock'},server=on,wait=off",
        "-drive", f"file={image},if=virtio,format=qcow2,snapshot=on",
        "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0",
    ]  # fmt: skip


def wait_for(console: Path, pattern: str, deadline: float) -> re.Match[str]:
    """Poll the serial console file until `pattern` (multiline regex) appears or the deadline passes."""
    regex = re.compile(pattern, re.MULTILINE)
    while True:
        text = console.read_text(errors="replace") if console.exists() else ""
        if match := regex.search(text):
            return match
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} not on the console in time; console:\n{text[-4000:]}")
        time.sleep(0.2)


def qmp(sock_path: Path, command: str) -> None:
    """Send one QMP command (after the capabilities handshake)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(str(sock_path))
        f = s.makefile("rw")
        f.readline()  # greeting
        for cmd in ("qmp_capabilities", command):
            f.write(json.dumps({"execute": cmd}) + "\n")
            f.flush()
            while "return" not in (reply := json.loads(f.readline())):
                assert "error" not in reply, reply


def tcp_exchange(port: int, payload: bytes) -> bytes:
    """Send `payload`, half-close, return everything the guest answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class Guest:
    proc: subprocess.Popen
    tmp: Path
    http_port: int
    echo_port: int
    started: float


@pytest.fixture
def guest(image: Path, metadata_port: int) -> Iterator[Guest]:
    """A running QEMU; killed and its directory (console log, QMP socket) removed whatever the outcome."""
    tmp_path = Path(tempfile.mkdtemp(prefix="stratus-testvm-"))
    http_port, echo_port = free_port(), free_port()
    cmd = qemu_command(image, tmp_path, metadata_port, {http_port: 80, echo_port: 7})
    with (tmp_path / "qemu.stderr").open("wb") as stderr:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
    try:
        yield Guest(proc, tmp_path, http_port, echo_port, started)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        shutil.rmtree(tmp_path, ignore_errors=True)


def test_testvm_boots_fetches_metadata_and_powers_off(guest: Guest) -> None:
    console = guest.tmp / "console.log"
    deadline = guest.started + BOOT_TIMEOUT
    boot = wait_for(console, r"^STRATUS-TESTVM-BOOT kernel=(\S+) mem_kb=(\d+) cpus=(\d+)\r?$", deadline)
    assert 65536 < int(boot[2]) <= 131072 and boot[3] == "1"
    ip = wait_for(console, r"^STRATUS-TESTVM-IP iface=eth0 (.*?)\r?$", deadline)
    assert re.fullmatch(r"addr=169\.254\.169\.\d+/24 router=169\.254\.169\.1 mtu=1500", ip[1]), ip[0]
    md = wait_for(console, r"^STRATUS-TESTVM-METADATA (.*?)\r?$", deadline)
    assert md[1] == f"ok hostname={HOSTNAME} instance_id={INSTANCE_ID}", md[0]
    wait_for(console, rf"^{USERDATA_MARKER} host={re.escape(HOSTNAME)}\r?$", deadline)
    wait_for(console, r"^STRATUS-TESTVM-USERDATA rc=0\r?$", deadline)
    wait_for(console, r"^STRATUS-TESTVM-READY\r?$", deadline)
    print(f"testvm: boot to READY in {time.monotonic() - guest.started:.2f} s after QEMU start")
    assert "/latest/meta-data/public-keys/0/openssh-key" in _MetadataHandler.requests
    page = tcp_exchange(guest.http_port, b"GET / HTTP/1.0\r\n\r\n")
    assert page.startswith(b"HTTP/1.") and HOSTNAME.encode() in page, page
    assert tcp_exchange(guest.echo_port, b"echo-e2e\n") == b"echo-e2e\n"

    qmp(guest.tmp / "qmp.sock", "system_powerdown")
    wait_for(console, r"^STRATUS-TESTVM-POWEROFF\r?$", time.monotonic() + POWEROFF_TIMEOUT)
    assert guest.proc.wait(timeout=POWEROFF_TIMEOUT) == 0
