#!/usr/bin/env bash
# `make tempest SERVICES="identity image"`: run Tempest's API tests for the given services against the
# running cloud (`stratus up` first). Tempest lives in its own virtualenv (.tempest-venv) and workspace
# (test-output/tempest); the counts of passed/failed/skipped tests are printed per service.
# The cloud is the one STRATUS_CONFIG names (else /etc/stratus/stratus.toml). To run beside other clouds,
# give each run its own TEMPEST_WORKSPACE (directory) and TEMPEST_WORKSPACE_NAME (tempest's registry name);
# TEMPEST_REGEX narrows the tests (default: every test of the service).
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPEST_VERSION=47.0.0
TEMPEST_VENV=$(realpath -m "${TEMPEST_VENV:-.tempest-venv}")
WORKSPACE=${TEMPEST_WORKSPACE:-test-output/tempest}
PY=${VENV:-.venv}/bin/python
CONCURRENCY=${TEMPEST_CONCURRENCY:-4}
WORKSPACE_NAME=${TEMPEST_WORKSPACE_NAME:-stratus}
SERVICES=("$@")
if [[ ${#SERVICES[@]} -eq 0 ]]; then SERVICES=(identity); fi

installed_version() {
    "$TEMPEST_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("tempest"))' 2>/dev/null || true
}

if [[ $(installed_version) != "$TEMPEST_VERSION" ]]; then
    echo "Installing tempest $TEMPEST_VERSION into $TEMPEST_VENV (log: test-output/tempest-install.log)"
    mkdir -p test-output
    python3 -m venv "$TEMPEST_VENV"
    if ! "$TEMPEST_VENV/bin/pip" install -q "tempest==$TEMPEST_VERSION" >test-output/tempest-install.log 2>&1; then
        tail -20 test-output/tempest-install.log >&2
        echo "Installing tempest failed; see test-output/tempest-install.log." >&2
        exit 1
    fi
fi
if [[ $(installed_version) != "$TEMPEST_VERSION" ]]; then
    echo "tempest in $TEMPEST_VENV is not $TEMPEST_VERSION; delete $TEMPEST_VENV and rerun." >&2
    exit 1
fi

rm -rf "$WORKSPACE"
mkdir -p "$(dirname "$WORKSPACE")"
"$TEMPEST_VENV/bin/tempest" workspace remove --name "$WORKSPACE_NAME" --rmdir >/dev/null 2>&1 || true
"$TEMPEST_VENV/bin/tempest" init --name "$WORKSPACE_NAME" "$WORKSPACE" >/dev/null
WORKSPACE=$(cd "$WORKSPACE" && pwd)

# tempest.conf from the running cloud: its runtime file (service URLs) and credentials.toml (admin password).
"$PY" - "$WORKSPACE/etc/tempest.conf" "${SERVICES[@]}" <<'PYEOF'
import configparser
import json
import sys
import tomllib

from stratus.cli.paths import StatePaths
from stratus.core.config import load_config

config = load_config()
paths = StatePaths(config.core.state_dir)
try:
    runtime = json.loads(paths.runtime_file.read_text())
    creds = tomllib.loads(paths.credentials.read_text())
except FileNotFoundError as exc:
    sys.exit(f"Stratus is not running ({exc.filename} is missing): start it with `make up` first.")
urls = {s["service_type"]: s["url"] for s in runtime["services"]}
if "identity" not in urls:
    sys.exit("the running cloud has no identity service; Tempest needs one.")
try:
    from stratus.identity import conf as identity_conf

    region = identity_conf.load(config).region
except ImportError:
    region = "RegionOne"

conf = configparser.ConfigParser()
conf.read(sys.argv[1])
sections = {
    "auth": {
        "admin_username": "admin",
        "admin_password": creds["admin_password"],
        "admin_project_name": "admin",
        "admin_domain_name": "Default",
        "use_dynamic_credentials": "true",
        "create_isolated_networks": "false",
        "tempest_roles": "member",
    },
    "identity": {
        "uri_v3": urls["identity"],
        "auth_version": "v3",
        "region": region,
        "v3_endpoint_type": "public",
        "disable_ssl_certificate_validation": "true",
    },
    "identity-feature-enabled": {
        "api_v2": "false",
        "api_v2_admin": "false",
        "application_credentials": "true",
        "access_rules": "false",
        "trust": "false",
        "security_compliance": "false",
        "project_tags": "true",
    },
    "service_available": {
        "glance": str("image" in urls).lower(),
        "nova": str("compute" in urls).lower(),
        "neutron": str("network" in urls).lower(),
        "cinder": "false",
        "swift": "false",
        "horizon": "false",
    },
    "validation": {"run_validation": "false"},
    "image-feature-enabled": {"api_v1": "false", "api_v2": "true"},
}
if "compute" in urls:
    # Compute: what Stratus's Nova API supports. Servers get their ports from the network API (OVN): a
    # create without networks takes the project's one usable network (409 when there are several, none
    # when there is none), so with a network endpoint Tempest runs compute with neutron, as on a cloud
    # with Nova and Neutron: each dynamic project gets its own network, subnet and router
    # (create_isolated_networks) and Tempest passes that network to the servers it boots.
    from stratus.cli.seed import TESTVM_NAME, admin_token
    from stratus.compute import conf as compute_conf
    from stratus.image.client import ImageClient

    import httpx

    token = admin_token(urls["identity"], creds["admin_password"])
    image_ref = ""
    if "image" in urls:
        with ImageClient(urls["image"], token) as images:
            image_ref = next((i["id"] for i in images.list_images(name=TESTVM_NAME) if i["status"] == "active"), "")
    hypervisors = httpx.get(f"{urls['compute']}/os-hypervisors", headers={"X-Auth-Token": token}, timeout=30)
    compute_nodes = len(hypervisors.json().get("hypervisors", [])) if hypervisors.status_code == 200 else 1
    if not image_ref:
        sys.exit("the running cloud has no active testvm image; Tempest's compute tests boot it.")
    if "network" in urls and "compute" in sys.argv[2:]:
        sections["auth"]["create_isolated_networks"] = "true"
    metadata_api = False
    metadata_port = compute_conf.load(config).metadata_port
    if metadata_port:
        metadata_host = "127.0.0.1" if config.core.bind_host in ("0.0.0.0", "::") else config.core.bind_host
        try:
            httpx.get(f"http://{metadata_host}:{metadata_port}/", timeout=5)
            metadata_api = True
        except httpx.HTTPError:
            pass
    sections["compute"] = {
        "image_ref": image_ref,
        "image_ref_alt": image_ref,
        "flavor_ref": "1",
        "flavor_ref_alt": "2",
        "min_microversion": "2.1",
        "max_microversion": "2.79",
        "build_timeout": "120",
        "build_interval": "1",
        "min_compute_nodes": str(max(compute_nodes, 1)),
        "fixed_network_name": "",
    }
    sections["compute-feature-enabled"] = {
        "disk_config": "false",
        "change_password": "false",
        "console_output": "true",
        "resize": "true",
        "pause": "true",
        "suspend": "true",
        "shelve": "false",
        "shelve_migrate": "false",
        "cold_migration": "false",
        "live_migration": "false",
        "live_migrate_back_and_forth": "false",
        "block_migration_for_live_migration": "false",
        # The compute metadata API (served beside the compute API, reached through the network agent's
        # proxy); Tempest only uses it in validation/scenario tests.
        "metadata_service": str(metadata_api).lower(),
        "vnc_console": "false",
        "spice_console": "false",
        "serial_console": "false",
        "rescue": "false",
        "stable_rescue": "false",
        "enable_instance_password": "true",
        # os-interface lists and shows a server's ports; attaching and detaching them is not offered (405).
        "interface_attach": "false",
        "snapshot": "true",
        "personality": "false",
        "attach_encrypted_volume": "false",
        "config_drive": "false",
        "scheduler_enabled_filters": "ComputeFilter,AvailabilityZoneFilter,ImagePropertiesFilter,"
        "ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter",
        "swap_volume": "false",
        "volume_backed_live_migration": "false",
        "volume_multiattach": "false",
        "unified_limits": "false",
    }
if "network" in urls:
    # Network: the external network the all-in-one seeds (`public`), and the extensions the API really
    # lists (Tempest skips the tests of the others). Guests are not reachable from Tempest's host.
    from stratus.cli.seed import admin_token as network_admin_token

    import httpx

    headers = {"X-Auth-Token": network_admin_token(urls["identity"], creds["admin_password"])}
    with httpx.Client(base_url=urls["network"].rstrip("/"), headers=headers, timeout=30) as neutron:
        found = neutron.get("/v2.0/networks", params={"name": "public", "router:external": "true"})
        found.raise_for_status()
        public = found.json()["networks"]
        if not public:
            sys.exit("the running cloud has no external network `public`; Tempest's router tests need it.")
        listed = neutron.get("/v2.0/extensions")
        listed.raise_for_status()
        aliases = sorted(e["alias"] for e in listed.json()["extensions"])
    sections["network"] = {
        "public_network_id": public[0]["id"],
        "floating_network_name": "public",
        "project_network_cidr": "10.100.0.0/16",
        "project_network_mask_bits": "28",
        "project_network_v6_cidr": "2001:db8::/48",
        "project_network_v6_mask_bits": "64",
        "project_networks_reachable": "false",
        "shared_physical_network": "false",
        "build_timeout": "60",
        "build_interval": "1",
    }
    sections["network-feature-enabled"] = {
        "api_extensions": ",".join(aliases),
        "ipv6": "true",
        "ipv6_subnet_attributes": "false",
        "port_security": str("port-security" in aliases).lower(),
        "floating_ips": "true",
        "port_admin_state_change": "true",
    }
for name, values in sections.items():
    if not conf.has_section(name):
        conf.add_section(name)
    for key, value in values.items():
        conf.set(name, key, value)
with open(sys.argv[1], "w") as f:
    conf.write(f)
print(f"tempest.conf written for {', '.join(sorted(urls))} at {urls['identity']}")
PYEOF

declare -a SUMMARY=()
failed=0
for service in "${SERVICES[@]}"; do
    echo
    echo "==================== tempest.api.$service ===================="
    log="$WORKSPACE/$service.log"
    rc=0
    (cd "$WORKSPACE" && "$TEMPEST_VENV/bin/tempest" run --concurrency "$CONCURRENCY" --regex "${TEMPEST_REGEX:-^tempest\.api\.$service}") \
        >"$log" 2>&1 || rc=$?
    grep -E '^\{[0-9]+\} .* \.\.\. (FAILED|SKIPPED)' "$log" | head -200 || true
    passed=$(sed -nE 's/^ - Passed: ([0-9]+)/\1/p' "$log" | tail -1)
    failures=$(sed -nE 's/^ - Failed: ([0-9]+)/\1/p' "$log" | tail -1)
    skipped=$(sed -nE 's/^ - Skipped: ([0-9]+)/\1/p' "$log" | tail -1)
    SUMMARY+=("$service: ${passed:-0} passed, ${failures:-?} failed, ${skipped:-0} skipped (exit $rc; log $log)")
    if [[ $rc -ne 0 ]]; then failed=1; fi
done

echo
echo "==================== tempest summary ===================="
printf '%s\n' "${SUMMARY[@]}"
exit $failed
