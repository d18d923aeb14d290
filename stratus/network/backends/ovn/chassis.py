"""Chassis as the API's agents: read from the SB ``Chassis`` / ``Chassis_Private`` tables, pinged via the NB.

Liveness follows ML2/OVN: a ping increments ``NB_Global.nb_cfg``; ovn-northd copies it to the SB and each
live ovn-controller acknowledges it in its ``Chassis_Private`` row (``nb_cfg``, ``nb_cfg_timestamp`` in ms).
Descriptions live where ML2/OVN keeps them: ``Chassis_Private.external_ids:neutron:description``.
"""

from __future__ import annotations

from typing import Any

from stratus.network.backends.ovn.writer import Writer
from stratus.network.messages import ChassisReport, ChassisState

DESCRIPTION_KEY = "neutron:description"
GW_OPTION = "enable-chassis-as-gw"
AZ_OPTION = "availability-zones"


def _option(row: Any, key: str) -> str:
    """``other_config`` (OVN >= 20.06 copies the Open_vSwitch settings there), else ``external_ids``."""
    return str(row.other_config.get(key) or row.external_ids.get(key) or "")


def _availability_zones(cms_options: str) -> tuple[str, ...]:
    """``availability-zones=az1:az2`` among the comma-separated ``ovn-cms-options``."""
    for option in cms_options.split(","):
        key, _, value = option.strip().partition("=")
        if key == AZ_OPTION:
            return tuple(sorted(z for z in value.split(":") if z))
    return ()


def state(chassis: Any, private: Any | None) -> ChassisState:
    """One chassis (and its Chassis_Private row, None before ovn-controller made it) as a ChassisState."""
    cms = _option(chassis, "ovn-cms-options")
    source = private if private is not None else chassis
    stamp = int(private.nb_cfg_timestamp) if private is not None else 0
    return ChassisState(
        name=chassis.name,
        hostname=chassis.hostname or chassis.name,
        gateway=GW_OPTION in cms,
        bridge_mappings=_option(chassis, "ovn-bridge-mappings"),
        availability_zones=_availability_zones(cms),
        description=str(source.external_ids.get(DESCRIPTION_KEY, "")),
        nb_cfg=int(source.nb_cfg),
        nb_cfg_timestamp=stamp / 1000.0 if stamp else None,
    )


def report(nb: Any, sb: Any) -> ChassisReport:
    """Every SB chassis with the NB's current ping number (IDL rows, copied before the IDL thread moves on)."""
    nb_global = list(nb.tables["NB_Global"].rows.values())
    private = {row.name: row for row in list(sb.tables["Chassis_Private"].rows.values())}
    chassis = sorted(sb.tables["Chassis"].rows.values(), key=lambda row: row.name)
    states = tuple(state(row, private.get(row.name)) for row in chassis)
    return ChassisReport(states, int(nb_global[0].nb_cfg) if nb_global else 0)


def ping(w: Writer) -> None:
    """Increment NB_Global.nb_cfg. Verified, so a concurrent ping makes the transaction try again rather than
    lose one (the IDL's own ``increment`` is dropped from a transaction that changes nothing else)."""
    rows = w.rows("NB_Global")
    if rows:
        rows[0].verify("nb_cfg")
        w.set(rows[0], nb_cfg=int(rows[0].nb_cfg) + 1)
    else:  # an NB that neither ovn-northd nor ovn-nbctl initialised yet
        w.insert("NB_Global", nb_cfg=1)


def set_description(w: Writer, name: str, description: str, found: list[bool]) -> None:
    chassis = w.named("Chassis", name)
    found.append(chassis is not None)
    if chassis is None:
        return
    private = w.named("Chassis_Private", name)
    row = private if private is not None else chassis
    if row.external_ids.get(DESCRIPTION_KEY, "") != description:
        row.setkey("external_ids", DESCRIPTION_KEY, description)


def delete(w: Writer, name: str, found: list[bool]) -> None:
    """Remove the chassis with its encaps and its Chassis_Private row (as ``ovn-sbctl chassis-del``)."""
    chassis = w.named("Chassis", name)
    private = w.named("Chassis_Private", name)
    found.append(chassis is not None or private is not None)
    if chassis is not None:
        for encap in list(chassis.encaps):
            w.delete(encap)
        w.delete(chassis)
    if private is not None:
        w.delete(private)
