"""Running several uvicorn servers in one process, each on its own thread."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import uvicorn
from fastapi import FastAPI

LOG = logging.getLogger(__name__)
KEEP_ALIVE_SECONDS = 75


class ApiServer:
    """One API on one port, served from a background thread."""

    def __init__(self, name: str, app: FastAPI, host: str, port: int, *, threads: int = 40):
        self.name = name
        self.host = host
        self.port = port
        # Keep idle connections well past the 5 s clients like `openstack ... --wait` poll at: with
        # uvicorn's default of 5 s, the server closes a connection just as the client reuses it.
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        self._server = uvicorn.Server(config)
        self._threads = threads
        self._thread = threading.Thread(target=self._run, name=f"api-{name}", daemon=True)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        # sync endpoints run in anyio's worker threads; raise the default limit of 40 if asked
        import anyio.to_thread

        async def serve() -> None:
            anyio.to_thread.current_default_thread_limiter().total_tokens = self._threads
            await self._server.serve()

        loop.run_until_complete(serve())
        loop.close()

    def start(self, timeout: float = 15.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"{self.name} API failed to start on {self.host}:{self.port} (port in use?)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} API did not start on {self.host}:{self.port} within {timeout}s")
            time.sleep(0.02)
        LOG.info("%s API listening on http://%s:%s", self.name, self.host, self.port)

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"
