"""Power operations on one libvirt domain, with waits on conditions (never fixed sleeps)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import libvirt

from stratus.compute import messages
from stratus.compute.virt.base import DriverError

LOG = logging.getLogger(__name__)

_STATE_MAP = {
    libvirt.VIR_DOMAIN_NOSTATE: messages.NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: messages.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: messages.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: messages.PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: messages.RUNNING,  # shutting down: still running until it is off
    libvirt.VIR_DOMAIN_SHUTOFF: messages.SHUTDOWN,
    libvirt.VIR_DOMAIN_CRASHED: messages.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: messages.SUSPENDED,
}


class StateWaiter:
    """Wakes waiters when a lifecycle event arrives; they re-read the domain state themselves."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    def notify(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait_for(self, predicate: Any, timeout: float, poll: float = 0.5) -> bool:
        """True once ``predicate()`` holds; re-checked on each event and every ``poll`` s until ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                seen = self._generation  # read first: an event during predicate() still wakes the wait
            if predicate():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._cond:
                self._cond.wait_for(lambda g=seen: self._generation != g, timeout=min(poll, remaining))


def power_state(dom: Any) -> int:
    state, _reason = dom.state()
    if state == libvirt.VIR_DOMAIN_SHUTOFF and dom.hasManagedSaveImage():
        return messages.SUSPENDED
    return _STATE_MAP.get(state, messages.NOSTATE)


class Guest:
    """One domain; every method raises DriverError with libvirt's message on failure."""

    def __init__(self, dom: Any, waiter: StateWaiter):
        self.dom = dom
        self._waiter = waiter

    @property
    def uuid(self) -> str:
        return str(self.dom.UUIDString())

    def power_state(self) -> int:
        return power_state(self.dom)

    def is_active(self) -> bool:
        return bool(self.dom.isActive())

    def start(self) -> None:
        """Boot (or restore a managed save); a running guest is left alone."""
        if not self.is_active():
            _call(self.dom.create, "start")

    def destroy(self) -> None:
        """Pull the plug; a stopped guest is left alone."""
        if self.is_active():
            try:
                self.dom.destroy()
            except libvirt.libvirtError:
                if self.is_active():
                    raise
        self._waiter.wait_for(lambda: not self.is_active(), timeout=30)

    def shutdown(self, timeout: float) -> bool:
        """ACPI power button, then wait up to ``timeout`` s; False if the guest ignored it (still running)."""
        if not self.is_active():
            return True
        if self.dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
            return False  # a frozen guest cannot react to the power button
        try:
            self.dom.shutdownFlags(libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)
        except libvirt.libvirtError as exc:
            LOG.info("%s: ACPI shutdown refused (%s); stopping it hard", self.uuid, exc)
            return False
        return self._waiter.wait_for(lambda: not self.is_active(), timeout=timeout)

    def power_off(self, timeout: float) -> None:
        if timeout > 0 and self.shutdown(timeout):
            return
        if self.is_active():
            LOG.info("%s: guest did not stop within %.0f s; destroying it", self.uuid, timeout)
        self.destroy()

    def pause(self) -> None:
        self._require(libvirt.VIR_DOMAIN_RUNNING, "pause")
        _call(self.dom.suspend, "pause")

    def unpause(self) -> None:
        self._require(libvirt.VIR_DOMAIN_PAUSED, "unpause")
        _call(self.dom.resume, "unpause")

    def suspend(self) -> None:
        """Save memory to libvirt's managed-save file and stop (``start`` restores it)."""
        if self.dom.state()[0] not in (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_PAUSED):
            raise DriverError(f"instance {self.uuid} is not running; cannot suspend it")
        _call(self.dom.managedSave, "suspend")

    def resume(self) -> None:
        if not self.dom.hasManagedSaveImage():
            raise DriverError(f"instance {self.uuid} is not suspended; cannot resume it")
        _call(self.dom.create, "resume")

    def _require(self, state: int, what: str) -> None:
        if self.dom.state()[0] != state:
            raise DriverError(f"instance {self.uuid} is in power state {self.power_state()}; cannot {what} it")


def _call(fn: Any, what: str) -> None:
    try:
        fn()
    except libvirt.libvirtError as exc:
        raise DriverError(f"{what} failed: {exc.get_error_message()}") from exc
