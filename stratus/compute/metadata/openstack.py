"""The OpenStack-style tree (``/openstack/<version>/meta_data.json`` ...) as Nova serves it."""

from __future__ import annotations

import base64
import os
from typing import Any

from stratus.compute.metadata.netinfo import network_data
from stratus.compute.metadata.source import InstanceData

FOLSOM = "2012-08-10"
GRIZZLY = "2013-04-04"
HAVANA = "2013-10-17"
LIBERTY = "2015-10-15"
NEWTON_ONE = "2016-06-30"
NEWTON_TWO = "2016-10-06"
OCATA = "2017-02-22"
ROCKY = "2018-08-27"
VERSIONS = (FOLSOM, GRIZZLY, HAVANA, LIBERTY, NEWTON_ONE, NEWTON_TWO, OCATA, ROCKY)

META_DATA = "meta_data.json"
USER_DATA = "user_data"
PASSWORD = "password"
VENDOR_DATA = "vendor_data.json"
NETWORK_DATA = "network_data.json"
VENDOR_DATA2 = "vendor_data2.json"

JSON = "application/json"
TEXT = "text/plain"


def resolve(version: str) -> str:
    """A version name ("latest" allowed) -> the dated version; KeyError when unknown."""
    version = VERSIONS[-1] if version == "latest" else version
    if version not in VERSIONS:
        raise KeyError(version)
    return version


def _at_least(required: str, version: str) -> bool:
    return VERSIONS.index(version) >= VERSIONS.index(required)


def listing(inst: InstanceData, version: str) -> list[str]:
    """What ``/openstack/<version>/`` lists."""
    items = [META_DATA]
    if inst.user_data is not None:
        items.append(USER_DATA)
    if _at_least(GRIZZLY, version):
        items.append(PASSWORD)
    if _at_least(HAVANA, version):
        items.append(VENDOR_DATA)
    if _at_least(LIBERTY, version):
        items.append(NETWORK_DATA)
    if _at_least(NEWTON_TWO, version):
        items.append(VENDOR_DATA2)
    return items


def meta_data(inst: InstanceData, version: str, *, hostname: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"uuid": inst.uuid}
    if inst.metadata:
        doc["meta"] = dict(inst.metadata)
    if inst.key_name:
        doc["public_keys"] = {inst.key_name: inst.key_data or ""}
        doc["keys"] = [{"name": inst.key_name, "type": inst.key_type, "data": inst.key_data or ""}]
    doc["hostname"] = hostname
    doc["name"] = inst.name
    doc["launch_index"] = inst.launch_index
    doc["availability_zone"] = inst.availability_zone
    if _at_least(GRIZZLY, version):
        doc["random_seed"] = base64.b64encode(os.urandom(512)).decode()
    if _at_least(LIBERTY, version):
        doc["project_id"] = inst.project_id
    if _at_least(NEWTON_ONE, version):
        doc["devices"] = []  # device role tagging: no tagged devices are recorded
    return doc


Content = bytes | list[str] | dict[str, Any]


def item(inst: InstanceData, version: str, name: str, *, hostname: str) -> tuple[Content, str]:
    """(content, media type) of ``/openstack/<version>/<name>``; KeyError when there is no such item."""
    if name == "":
        return listing(inst, version), TEXT
    if name == META_DATA:
        return meta_data(inst, version, hostname=hostname), JSON
    if name == USER_DATA and inst.user_data is not None:
        return inst.user_data, TEXT
    if name == PASSWORD and _at_least(GRIZZLY, version):
        return b"", TEXT  # no password was ever posted: Nova answers an empty body
    if name == VENDOR_DATA and _at_least(HAVANA, version):
        return {}, JSON
    if name == NETWORK_DATA and _at_least(LIBERTY, version):
        return network_data(inst.network_info), JSON
    if name == VENDOR_DATA2 and _at_least(NEWTON_TWO, version):
        return {}, JSON
    raise KeyError(name)
