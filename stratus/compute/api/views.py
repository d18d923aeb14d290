"""JSON views of servers and flavors, by microversion."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from fastapi import Request

from stratus.compute.api.microversion import Version
from stratus.compute.core.flavors import FlavorView
from stratus.compute.core.records import ServerRecord
from stratus.compute.core.states import status_of
from stratus.core.context import RequestContext

PROGRESS_STATUSES = {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"}


def iso(value: dt.datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def iso_us(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def links(request: Request, collection: str, ident: str) -> list[dict[str, str]]:
    root = base_url(request)
    return [
        {"rel": "self", "href": f"{root}/v2.1/{collection}/{ident}"},
        {"rel": "bookmark", "href": f"{root}/{collection}/{ident}"},
    ]


def collection_links(
    request: Request, collection: str, items: list[dict[str, Any]], limit: Any, key: str = "id"
) -> list[dict[str, str]]:
    """A ``next`` link when the page is full (Nova's ``*_links``)."""
    if not items or limit is None or len(items) < int(limit):
        return []
    params = {k: v for k, v in request.query_params.items() if k != "marker"}
    params["marker"] = items[-1][key]
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return [{"rel": "next", "href": f"{base_url(request)}/v2.1/{collection}?{query}"}]


def host_id(project_id: str, host: str | None) -> str:
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def server_brief(request: Request, rec: ServerRecord) -> dict[str, Any]:
    return {"id": rec.inst.uuid, "name": rec.inst.display_name, "links": links(request, "servers", rec.inst.uuid)}


def addresses(network_info: list[Any], *, extended: bool = True) -> dict[str, list[dict[str, Any]]]:
    """``{network label: [{addr, version, OS-EXT-IPS:type, OS-EXT-IPS-MAC:mac_addr}]}``; without the
    ``OS-EXT-IPS`` keys when not ``extended`` (the ips API, and PUT and rebuild answers before 2.75)."""
    result: dict[str, list[dict[str, Any]]] = {}
    for port in network_info or []:
        label = port.get("network_label") or port.get("network_name") or port.get("network_id") or "network"
        for ip in port.get("ips", []):
            address = ip.get("address", "")
            entry: dict[str, Any] = {"version": 6 if ":" in address else 4, "addr": address}
            if extended:
                entry["OS-EXT-IPS:type"] = ip.get("type", "fixed")
                entry["OS-EXT-IPS-MAC:mac_addr"] = port.get("mac_address", "")
            result.setdefault(label, []).append(entry)
    return result


def flavor_of_server(request: Request, snapshot: dict[str, Any], version: Version) -> dict[str, Any]:
    if version < "2.47":
        fid = snapshot.get("flavorid", "")
        return {"id": fid, "links": [{"rel": "bookmark", "href": f"{base_url(request)}/flavors/{fid}"}]}
    return {
        "vcpus": snapshot.get("vcpus", 0),
        "ram": snapshot.get("memory_mb", 0),
        "disk": snapshot.get("root_gb", 0),
        "ephemeral": snapshot.get("ephemeral_gb", 0),
        "swap": snapshot.get("swap", 0),
        "original_name": snapshot.get("name", ""),
        "extra_specs": dict(snapshot.get("extra_specs") or {}),
    }


def server_detail(
    request: Request,
    ctx: RequestContext,
    rec: ServerRecord,
    version: Version,
    *,
    show: bool = False,
    admin: bool = False,
    host_status: bool = False,
    full: bool = True,
) -> dict[str, Any]:
    """A server as GET shows it; ``full=False`` is the shorter body of PUT and rebuild before 2.75."""
    inst = rec.inst
    status = status_of(inst.vm_state, inst.task_state)
    image: Any = ""
    if inst.image_ref:
        image = {
            "id": inst.image_ref,
            "links": [{"rel": "bookmark", "href": f"{base_url(request)}/images/{inst.image_ref}"}],
        }
    body: dict[str, Any] = {
        "id": inst.uuid,
        "name": inst.display_name,
        "status": status,
        "tenant_id": inst.project_id,
        "user_id": inst.user_id,
        "metadata": rec.metadata,
        "hostId": host_id(inst.project_id, inst.host),
        "image": image,
        "flavor": flavor_of_server(request, inst.flavor or {}, version),
        "created": iso(inst.created_at),
        "updated": iso(inst.updated_at),
        "addresses": addresses(inst.network_info, extended=full),
        "accessIPv4": inst.access_ip_v4 or "",
        "accessIPv6": inst.access_ip_v6 or "",
        "links": links(request, "servers", inst.uuid),
        "OS-DCF:diskConfig": "MANUAL",
    }
    if full:
        body.update(
            {
                "OS-EXT-AZ:availability_zone": inst.availability_zone or "",
                "config_drive": inst.config_drive or "",
                "key_name": inst.key_name,
                "OS-SRV-USG:launched_at": iso_us(inst.launched_at),
                "OS-SRV-USG:terminated_at": iso_us(inst.terminated_at),
                "OS-EXT-STS:task_state": inst.task_state,
                "OS-EXT-STS:vm_state": inst.vm_state,
                "OS-EXT-STS:power_state": inst.power_state,
                "os-extended-volumes:volumes_attached": [],
            }
        )
        if inst.security_groups:  # Nova leaves the key out for a server in no group
            body["security_groups"] = list(inst.security_groups)
    if status in PROGRESS_STATUSES:
        body["progress"] = inst.progress or 0
    if admin and full:
        body["OS-EXT-SRV-ATTR:host"] = inst.host
        body["OS-EXT-SRV-ATTR:instance_name"] = "instance-" + inst.uuid[:8]
        body["OS-EXT-SRV-ATTR:hypervisor_hostname"] = inst.node
        if version >= "2.3":
            body.update(
                {
                    "OS-EXT-SRV-ATTR:reservation_id": inst.reservation_id,
                    "OS-EXT-SRV-ATTR:launch_index": inst.launch_index,
                    "OS-EXT-SRV-ATTR:hostname": inst.hostname,
                    "OS-EXT-SRV-ATTR:kernel_id": "",
                    "OS-EXT-SRV-ATTR:ramdisk_id": "",
                    "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                    "OS-EXT-SRV-ATTR:user_data": inst.user_data,
                }
            )
    if version >= "2.9":
        body["locked"] = bool(inst.locked)
    if version >= "2.16" and host_status and full:
        body["host_status"] = rec.host_status
    if version >= "2.19":
        body["description"] = inst.display_description
    if version >= "2.26":
        body["tags"] = list(inst.tags or [])
    if version >= "2.63":
        body["trusted_image_certificates"] = None
    if version >= "2.71" and show:
        body["server_groups"] = rec.groups
    if version >= "2.73":
        body["locked_reason"] = inst.locked_reason
    if rec.fault is not None and inst.vm_state in ("error", "deleted"):
        fault = {"code": rec.fault["code"], "created": iso(rec.fault["created"]), "message": rec.fault["message"]}
        if admin or rec.fault["code"] != 500:
            fault["details"] = rec.fault.get("details") or ""
        body["fault"] = fault
    return body


def flavor(request: Request, f: FlavorView, version: Version, *, brief: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"id": f.flavorid, "name": f.name, "links": links(request, "flavors", f.flavorid)}
    if brief:
        if version >= "2.55":
            body["description"] = f.description
        return body
    body.update(
        {
            "ram": f.memory_mb,
            "disk": f.root_gb,
            "vcpus": f.vcpus,
            "swap": f.swap if (f.swap or version >= "2.75") else "",
            "rxtx_factor": f.rxtx_factor,
            "OS-FLV-EXT-DATA:ephemeral": f.ephemeral_gb,
            "OS-FLV-DISABLED:disabled": f.disabled,
            "os-flavor-access:is_public": f.is_public,
        }
    )
    if version >= "2.55":
        body["description"] = f.description
    if version >= "2.61":
        body["extra_specs"] = dict(f.extra_specs)
    return body
