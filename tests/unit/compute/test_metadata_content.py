"""Pure pieces of the metadata API: signing, Nova's text rendering, network_info reading."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from starlette.datastructures import Headers

from stratus.compute.metadata import ec2, netinfo
from stratus.compute.metadata.signing import sign, verify
from stratus.core.exceptions import BadRequest, Forbidden


def test_sign_is_hex_hmac_sha256() -> None:
    expected = hmac.new(b"k", b"i-1", hashlib.sha256).hexdigest()
    assert sign("k", "i-1") == expected


def test_verify() -> None:
    headers = Headers(
        {
            "X-Instance-ID": "abc",
            "X-Tenant-ID": "p",
            "X-Instance-ID-Signature": sign("k", "abc"),
            "X-Forwarded-For": "10.0.0.9, 10.0.0.2",
        }
    )
    who = verify(headers, "k")
    assert (who.instance_id, who.tenant_id, who.address) == ("abc", "p", "10.0.0.9")
    with pytest.raises(Forbidden):
        verify(headers, "other")
    with pytest.raises(BadRequest):
        verify(Headers({"X-Instance-ID": "abc"}), "k")


def test_render_listing_and_values() -> None:
    tree = {"b": 1, "a": {"x": 1}, "public-keys": {"0": {"_name": "0=k", "openssh-key": "ssh"}}}
    assert ec2.render(tree) == b"a/\nb\npublic-keys/"
    assert ec2.render(tree["public-keys"]) == b"0=k"
    assert ec2.render(["x", "y"]) == b"x\ny"
    assert ec2.render(b"\x00raw") == b"\x00raw"
    assert ec2.render(7) == b"7"


def test_find() -> None:
    tree = {"a": {"b": "c", "_name": "n"}}
    assert ec2.find(tree, ["a", "b"]) == "c"
    for path in (["a", "_name"], ["z"], ["a", "b", "c"]):
        with pytest.raises(KeyError):
            ec2.find(tree, path)


def test_ec2_id() -> None:
    assert ec2.ec2_id("i", "1a2b3c4d-0000-4000-8000-000000000000") == "i-1a2b3c4d"
    assert ec2.ec2_id("ami", "") == ""


def test_addresses_split_fixed_floating_and_version() -> None:
    info = [
        {"ips": [{"address": "10.0.0.3"}, {"address": "fd00::3"}, {"address": "172.24.4.9", "type": "floating"}]},
        {"ips": [{"address": "10.1.0.3", "type": "fixed"}, {"address": "not-an-ip"}]},
    ]
    assert netinfo.addresses(info, version=4) == (["10.0.0.3", "10.1.0.3"], ["172.24.4.9"])
    assert netinfo.addresses(info, version=6) == (["fd00::3"], [])


def test_network_data_ipv6_modes() -> None:
    info = [
        {
            "id": "port-1",
            "network_id": "n",
            "mac_address": "m",
            "ips": [
                {"address": "fd00::5", "ipv6_address_mode": "slaac"},
                {"address": "fd01::5"},
                {"address": "fd02::5", "cidr": "fd02::/64", "enable_dhcp": False},
            ],
        }
    ]
    doc = netinfo.network_data(info)
    assert [n["type"] for n in doc["networks"]] == ["ipv6_slaac", "ipv6"]
    assert doc["networks"][1]["netmask"] == "ffff:ffff:ffff:ffff::"
