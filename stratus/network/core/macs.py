"""MAC addresses: random under the configured prefix (fa:16:3e by default), unique by constraint."""

from __future__ import annotations

import hashlib
import random


def random_mac(prefix: str) -> str:
    return f"{prefix}:{random.randint(0, 255):02x}:{random.randint(0, 255):02x}:{random.randint(0, 255):02x}"


def derived_mac(prefix: str, seed: str) -> str:
    """A stable MAC for something that is not a port (the DHCP server of a subnet)."""
    digest = hashlib.sha256(seed.encode()).digest()
    return f"{prefix}:{digest[0]:02x}:{digest[1]:02x}:{digest[2]:02x}"


def is_mac_clash(err: Exception) -> bool:
    text = str(getattr(err, "orig", err)).lower()
    return "mac_address" in text


def is_ip_clash(err: Exception) -> bool:
    text = str(getattr(err, "orig", err)).lower()
    return "ip_allocations" in text
