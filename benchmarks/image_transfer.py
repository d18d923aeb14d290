"""Upload and download a large image through the Image API; report MB/s and the server's peak RSS.

    python benchmarks/image_transfer.py --url http://127.0.0.1:9292 --token $TOKEN --server-pid PID
    python benchmarks/image_transfer.py --self-hosted          # starts its own image API

With ``--self-hosted`` an image service runs in a subprocess (SQLite + file store in a temporary
directory, a static token), so the benchmark needs nothing else. The server's RSS is sampled
(psutil) all through both transfers; the run fails when the peak exceeds ``--max-rss-mib``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil

MIB = 1024 * 1024
TOKEN = "benchmark-token"


def serve(port: int, state_dir: str) -> None:
    """Run an image API with a static admin token (the ``--serve`` mode of the subprocess)."""
    from stratus.core.api.auth import Authenticator, StaticValidator
    from stratus.core.api.server import ApiServer
    from stratus.core.config import Config
    from stratus.core.context import RequestContext
    from stratus.image.service import ImageService

    ctx = RequestContext(user_id="bench", project_id="bench", roles=frozenset({"admin", "member", "reader"}))
    config = Config({"core": {"state_dir": state_dir}}, env={})
    service = ImageService(config, authenticator=Authenticator(StaticValidator({TOKEN: ctx})))
    server = ApiServer("image", service.app, "127.0.0.1", port)
    server.start()
    print("READY", flush=True)
    sys.stdin.read()  # run until the parent closes our stdin
    server.stop()
    service.close()


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.done.wait(self.interval)


def make_file(path: Path, size: int) -> str:
    """Random data (incompressible); returns its md5."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(path, "wb") as f:
        for _ in range(size // MIB):
            block = os.urandom(MIB)
            md5.update(block)
            f.write(block)
    return md5.hexdigest()


def file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(MIB):
            yield chunk


def run(url: str, token: str, pid: int | None, size: int, workdir: Path) -> dict[str, float]:
    src = workdir / "bench.raw"
    md5 = make_file(src, size)
    sampler = RssSampler(pid) if pid else None
    results: dict[str, float] = {}
    with httpx.Client(base_url=url, headers={"X-Auth-Token": token}, timeout=600) as http:
        image = http.post("/v2/images", json={"name": "bench", "disk_format": "raw", "container_format": "bare"})
        image.raise_for_status()
        image_id = image.json()["id"]
        if sampler:
            results["rss_before_mib"] = sampler.process.memory_info().rss / MIB
            sampler.start()
        try:
            start = time.perf_counter()
            headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
            http.put(f"/v2/images/{image_id}/file", content=file_chunks(src), headers=headers).raise_for_status()
            results["upload_mb_s"] = size / MIB / (time.perf_counter() - start)
            got = hashlib.md5(usedforsecurity=False)
            start = time.perf_counter()
            with http.stream("GET", f"/v2/images/{image_id}/file") as resp:
                resp.raise_for_status()
                for chunk in resp.iter_raw(MIB):
                    got.update(chunk)
            results["download_mb_s"] = size / MIB / (time.perf_counter() - start)
        finally:
            if sampler:
                sampler.done.set()
                sampler.join()
        if got.hexdigest() != md5 or http.get(f"/v2/images/{image_id}").json()["checksum"] != md5:
            raise SystemExit("checksum mismatch: the data did not survive the round trip")
        http.delete(f"/v2/images/{image_id}")
    if sampler:
        results["server_peak_rss_mib"] = sampler.peak / MIB
    return results


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="Image API root, e.g. http://127.0.0.1:9292")
    parser.add_argument("--token", help="X-Auth-Token to use")
    parser.add_argument("--server-pid", type=int, help="PID of the server process, for RSS sampling")
    parser.add_argument("--self-hosted", action="store_true", help="start an image API in a subprocess")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--max-rss-mib", type=float, default=150.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--state-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.state_dir)
        return
    with tempfile.TemporaryDirectory(prefix="stratus-bench-") as tmp:
        workdir = Path(tmp)
        server = None
        url, token, pid = args.url, args.token, args.server_pid
        if args.self_hosted:
            port = free_port()
            cmd = [sys.executable, __file__, "--serve", "--port", str(port), "--state-dir", str(workdir / "state")]
            server = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert server.stdout is not None
            if server.stdout.readline().strip() != "READY":
                raise SystemExit("the self-hosted image API did not start")
            url, token, pid = f"http://127.0.0.1:{port}", TOKEN, server.pid
        elif not (url and token):
            parser.error("give --url and --token, or --self-hosted")
        try:
            results = run(url, token, pid, args.size_mib * MIB, workdir)
        finally:
            if server is not None:
                assert server.stdin is not None
                server.stdin.close()
                server.wait(30)
    print(f"size: {args.size_mib} MiB")
    for key, value in results.items():
        print(f"{key}: {value:.1f}")
    peak = results.get("server_peak_rss_mib")
    if peak is not None and peak > args.max_rss_mib:
        raise SystemExit(f"server peak RSS {peak:.1f} MiB exceeds {args.max_rss_mib} MiB")


if __name__ == "__main__":
    main()
