"""Serving every metadata namespace's listening socket from this process, forwarding to compute.

One selector thread accepts on all the sockets (each opened inside its namespace, see
``metadata_netns.open_listener``) and hands each connection to a small thread pool. A request is
mapped to its instance by (network, source address), then forwarded to the compute metadata API with
the headers Neutron's metadata agent adds for Nova (``X-Instance-ID``, ``X-Tenant-ID``,
``X-Forwarded-For`` and ``X-Instance-ID-Signature`` = hex HMAC-SHA256 of the instance id), and the
answer is streamed back.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import selectors
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

LOG = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
CLIENT_TIMEOUT = 30.0
PASSED_HEADERS = ("accept", "content-type", "user-agent")
RETURNED_HEADERS = ("content-type", "retry-after")

Resolver = Callable[[str, str], "dict[str, str] | None"]
"""(network id, guest address) -> ``{"device_id", "project_id"}`` or None; raises LookupUnavailable."""


class LookupUnavailable(Exception):
    """The network server could not be asked which instance holds an address."""


def sign(secret: str, instance_id: str) -> str:
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


class Forwarder:
    """Forwards one guest request to the compute metadata API at ``url``."""

    def __init__(
        self,
        url: str,
        secret: str,
        resolve: Resolver,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
    ):
        self.secret = secret
        self.resolve = resolve
        self.client = httpx.Client(base_url=url.rstrip("/"), transport=transport, timeout=timeout)

    def close(self) -> None:
        self.client.close()


class _Handler(BaseHTTPRequestHandler):
    """One connection from a guest; ``server`` is a ``_Context``."""

    server: _Context  # type: ignore[assignment]
    timeout = CLIENT_TIMEOUT
    server_version = "stratus-metadata-proxy"
    sys_version = ""

    def _proxy(self) -> None:
        network_id, forwarder = self.server.network_id, self.server.forwarder
        address = self.client_address[0]
        status = self._forward(forwarder, network_id, address)
        LOG.info("metadata %s %s from %s on network %s: %d", self.command, self.path, address, network_id, status)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _proxy  # noqa: N815 (http.server names)

    def _reply(self, status: int, message: str) -> int:
        body = (message + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return status

    def _body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _forward(self, forwarder: Forwarder, network_id: str, address: str) -> int:
        try:
            owner = forwarder.resolve(network_id, address)
        except LookupUnavailable as err:
            LOG.warning("metadata lookup of %s on network %s failed: %s", address, network_id, err)
            return self._reply(503, "The metadata service is unavailable; try again later.")
        if owner is None:
            return self._reply(404, "No instance holds this address on this network.")
        body = self._body()
        if body is None:
            return self._reply(400, "The request body must have a Content-Length of at most 1 MiB.")
        instance_id = owner["device_id"]
        headers = {name: self.headers[name] for name in PASSED_HEADERS if self.headers.get(name)}
        headers.update(
            {
                "X-Instance-ID": instance_id,
                "X-Tenant-ID": owner["project_id"],
                "X-Forwarded-For": address,
                "X-Instance-ID-Signature": sign(forwarder.secret, instance_id),
            }
        )
        request = forwarder.client.build_request(self.command, self.path, headers=headers, content=body)
        try:
            response = forwarder.client.send(request, stream=True)
        except httpx.HTTPError as err:
            LOG.warning("the compute metadata API is unreachable: %s", type(err).__name__)
            return self._reply(502, "The compute metadata service is unreachable.")
        try:
            self.send_response(response.status_code)
            for name in RETURNED_HEADERS:
                if name in response.headers:
                    self.send_header(name, response.headers[name])
            if "content-length" in response.headers and "content-encoding" not in response.headers:
                self.send_header("content-length", response.headers["content-length"])  # else: until close
            self.end_headers()
            if self.command != "HEAD":
                for chunk in response.iter_bytes():  # decoded, so no Content-Encoding is passed on
                    self.wfile.write(chunk)
        except (httpx.HTTPError, OSError) as err:  # mid-stream: the status line is out, just close
            LOG.warning("metadata answer to %s cut short: %s", address, type(err).__name__)
            self.close_connection = True
        finally:
            response.close()
        return response.status_code

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are logged once, by ``_proxy``."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        LOG.debug("metadata proxy: " + format, *args)


class _Context:
    """What a handler sees as its ``server``."""

    def __init__(self, network_id: str, forwarder: Forwarder):
        self.network_id = network_id
        self.forwarder = forwarder


class ProxyServer:
    """Accepts on any number of listening sockets (one per network) and proxies their requests."""

    def __init__(self, forwarder: Forwarder, *, workers: int = 8):
        self.forwarder = forwarder
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._sockets: dict[str, socket.socket] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="metadata-proxy")
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="metadata-accept", daemon=True)
        self._thread.start()

    def networks(self) -> set[str]:
        with self._lock:
            return set(self._sockets)

    def add(self, network_id: str, sock: socket.socket) -> None:
        """Serve ``sock`` (listening) for ``network_id``; a socket already served for it is closed."""
        sock.setblocking(False)
        with self._lock:
            old = self._sockets.pop(network_id, None)
            if old is not None:
                self._selector.unregister(old)
                old.close()
            self._selector.register(sock, selectors.EVENT_READ, network_id)
            self._sockets[network_id] = sock
        self._wake()

    def remove(self, network_id: str) -> None:
        """Stop accepting for ``network_id`` (requests in flight finish); nothing if not served."""
        with self._lock:
            sock = self._sockets.pop(network_id, None)
            if sock is not None:
                self._selector.unregister(sock)
                sock.close()
        self._wake()

    def close(self) -> None:
        """Stop accepting, let requests in flight finish, release everything; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for sock in self._sockets.values():
                self._selector.unregister(sock)
                sock.close()
            self._sockets.clear()
        self._wake()
        self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
        self.forwarder.close()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
            for key, _events in self._selector.select():
                if key.data is None:
                    try:
                        while self._wake_r.recv(512):
                            pass
                    except (BlockingIOError, OSError):
                        pass
                    continue
                self._accept(key.fileobj, key.data)  # type: ignore[arg-type]

    def _accept(self, sock: socket.socket, network_id: str) -> None:
        try:
            conn, addr = sock.accept()
        except (BlockingIOError, OSError):  # another wake-up took it, or the socket was just closed
            return
        conn.setblocking(True)
        self._pool.submit(self._serve, conn, addr, network_id)

    def _serve(self, conn: socket.socket, addr: Any, network_id: str) -> None:
        try:
            _Handler(conn, addr, _Context(network_id, self.forwarder))  # type: ignore[arg-type]
        except Exception:
            LOG.exception("metadata proxy request on network %s failed", network_id)
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
