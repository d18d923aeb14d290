"""Connecting to the NB (and optionally SB) OVSDB with ovsdbapp, in the background, with a port-up watcher.

The first connection is retried by a thread until it succeeds, so the service starts while the NB DB
is down; afterwards ovsdbapp's own connection thread reconnects (and reloads a wiped database).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from ovsdbapp.backend.ovs_idl import connection, event, idlutils
from ovsdbapp.schema.ovn_northbound import impl_idl as nb_impl
from ovsdbapp.schema.ovn_southbound import impl_idl as sb_impl

from stratus.network.messages import PortStatusEvent

LOG = logging.getLogger(__name__)
CONNECT_RETRY = 0.5
MAX_CONNECT_RETRY = 5.0
SB_TABLES = ["Chassis", "Chassis_Private", "Encap"]
"""The SB tables read: gateway chassis candidates, and every chassis as an agent (liveness, descriptions)."""


def port_status_from_nb(row: Any) -> PortStatusEvent:
    """A Logical_Switch_Port row's ``up`` column as a port status event (``up`` is [] or [bool])."""
    return PortStatusEvent(row.name, bool(row.up and row.up[0]))


class PortUpEvent(event.RowEvent):  # type: ignore[misc]
    """Logical_Switch_Port.up changed (ovn-controller bound or unbound the port)."""

    def __init__(self, callback: Callable[[PortStatusEvent], None]):
        super().__init__((self.ROW_UPDATE,), "Logical_Switch_Port", None)
        self.callback = callback
        self.event_name = "PortUpEvent"

    def match_fn(self, event: str, row: Any, old: Any = None) -> bool:
        return old is not None and hasattr(old, "up") and list(old.up) != list(row.up)

    def run(self, event: str, row: Any, old: Any) -> None:
        self.callback(port_status_from_nb(row))


class NbIdl(connection.OvsdbIdl):  # type: ignore[misc]
    """The NB IDL, forwarding row changes to a RowEventHandler."""

    def __init__(self, remote: str, helper: Any, handler: event.RowEventHandler):
        super().__init__(remote, helper, leader_only=False)
        self.handler = handler

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        self.handler.notify(event, row, updates)


def _private(api_class: type) -> type:
    """A subclass holding its own connection: ovsdbapp keeps the connection on the *class*, so a second
    service in one process (tests, several back ends) would silently reuse the first one's."""
    return type(f"Stratus{api_class.__name__}", (api_class,), {"_ovsdb_connection": None})


class OvsdbClients:
    """The NB API (and the SB API when an address is given), connected in the background."""

    def __init__(self, nb_remote: str, sb_remote: str | None, timeout: float):
        self.nb_remote, self.sb_remote, self.timeout = nb_remote, sb_remote, timeout
        self.nb: Any = None
        self.sb: Any = None
        self.handler: event.RowEventHandler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connections: list[Any] = []
        self._failures = 0
        self._sb_thread: threading.Thread | None = None
        self._sb_failures = 0

    def start(self, on_port_status: Callable[[PortStatusEvent], None]) -> None:
        self.handler = event.RowEventHandler()
        self.handler.watch_event(PortUpEvent(on_port_status))
        if not self._connect_nb():
            self._thread = threading.Thread(target=self._retry, name="ovn-nb-connect", daemon=True)
            self._thread.start()
        if self.sb_remote and not self._connect_sb():
            self._sb_thread = threading.Thread(target=self._retry_sb, name="ovn-sb-connect", daemon=True)
            self._sb_thread.start()

    def _retry_sb(self) -> None:
        """The SB is needed for gateway chassis and agents; keep trying (never on a request's thread, where
        a connect to an unreachable TCP remote could block)."""
        delay = CONNECT_RETRY
        while not self._stop.wait(delay):
            if self._connect_sb():
                return
            delay = min(delay * 2, MAX_CONNECT_RETRY * 6)

    def _retry(self) -> None:
        delay = CONNECT_RETRY
        while not self._stop.wait(delay):
            if self._connect_nb():
                return
            delay = min(delay * 2, MAX_CONNECT_RETRY)

    def _connect_nb(self) -> bool:
        conn = None
        if self.nb_remote.startswith("unix:") and not os.path.exists(self.nb_remote[len("unix:") :]):
            self._failures += 1  # not there yet: no need for ovsdbapp to log a failed connect each time
            if self._failures == 1:
                LOG.warning("OVN NB socket %s does not exist yet; waiting for it", self.nb_remote)
            return False
        try:
            helper = idlutils.get_schema_helper(self.nb_remote, "OVN_Northbound")
            helper.register_all()
            conn = connection.Connection(NbIdl(self.nb_remote, helper, self.handler), timeout=self.timeout)
            api = _private(nb_impl.OvnNbApiIdlImpl)(conn)  # starts the connection after creating the name indexes
        except Exception as exc:  # unreachable: retried by the connect thread
            if conn is not None:
                conn.idl.close()  # no run thread was started; drop the half-open session
            self._failures += 1
            level = logging.WARNING if self._failures in (1, 60) or self._failures % 600 == 0 else logging.DEBUG
            LOG.log(
                level, "OVN NB %s not reachable yet (attempt %d), retrying: %s", self.nb_remote, self._failures, exc
            )
            return False
        self._connections.append(conn)
        self.nb = api
        LOG.info("connected to OVN NB %s", self.nb_remote)
        return True

    def _connect_sb(self) -> bool:
        assert self.sb_remote is not None
        if self.sb_remote.startswith("unix:") and not os.path.exists(self.sb_remote[len("unix:") :]):
            self._sb_failures += 1  # not there yet: spare ovsdbapp's error log on each attempt
            if self._sb_failures == 1:
                LOG.warning("OVN SB socket %s does not exist yet; waiting for it", self.sb_remote)
            return False
        try:
            idl = connection.OvsdbIdl.from_server(self.sb_remote, "OVN_Southbound", helper_tables=SB_TABLES)
            conn = connection.Connection(idl, timeout=self.timeout)
            self.sb = _private(sb_impl.OvnSbApiIdlImpl)(conn)
            self._connections.append(conn)
        except Exception as exc:  # gateway chassis then come from config only, agents are unavailable
            self._sb_failures += 1
            level = logging.WARNING if self._sb_failures in (1, 60) else logging.DEBUG
            LOG.log(level, "OVN SB %s not reachable (attempt %d), retrying: %s", self.sb_remote, self._sb_failures, exc)
            return False
        LOG.info("connected to OVN SB %s", self.sb_remote)
        return True

    def sb_api(self) -> Any:
        """The SB API when connected, else None."""
        if self.sb is None or not self.sb.idl._session.is_connected():
            return None
        return self.sb

    def nb_ready(self) -> bool:
        """Connected and holding the server's current contents (not mid-reload)."""
        if self.nb is None:
            return False
        idl = self.nb.idl
        return bool(idl._session.is_connected() and idl.state == idl.IDL_S_MONITORING)

    def epoch(self) -> object:
        if self.nb is None:
            return None
        return self.nb.idl._session.get_seqno()

    def close(self) -> None:
        self._stop.set()
        for thread in (self._thread, self._sb_thread):
            if thread is not None:
                thread.join(timeout=10)
        for conn in self._connections:
            try:
                conn.stop(timeout=5)
            except Exception:
                LOG.exception("stopping an OVSDB connection failed")
        self._connections.clear()
        if self.handler is not None:
            self.handler.shutdown()
