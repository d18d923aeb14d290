"""Compute v2.1 HTTP API (Nova's, with microversions 2.1 to 2.79)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from stratus.compute.api.errors import nova_error
from stratus.compute.api.microversion import MicroversionMiddleware
from stratus.core.api.app import create_app as create_base_app

if TYPE_CHECKING:
    from stratus.compute.service import ComputeService


def create_app(service: ComputeService) -> FastAPI:
    from stratus.compute.api import (
        aggregates,
        availability_zones,
        extensions,
        flavor_access,
        flavors,
        floating_ips,
        hosts,
        hypervisors,
        images,
        instance_actions,
        instance_usage_audit_log,
        interfaces,
        ips,
        keypairs,
        limits,
        migrations,
        networks,
        quota_classes,
        quota_sets,
        security_groups,
        server_actions,
        server_external_events,
        server_groups,
        server_metadata,
        server_tags,
        servers,
        services,
        simple_tenant_usage,
        versions,
    )

    app = create_base_app(
        title="Stratus Compute",
        render_error=nova_error,
        max_body_bytes=service.config.core.max_request_body_bytes,
        extra_request_id_headers=("x-compute-request-id",),  # Nova sends both; Tempest checks this one
    )
    app.add_middleware(MicroversionMiddleware)
    app.state.service = service
    for module in (
        versions,
        servers,
        server_actions,
        server_metadata,
        server_tags,
        ips,
        instance_actions,
        flavors,
        flavor_access,
        keypairs,
        limits,
        quota_sets,
        quota_classes,
        server_groups,
        availability_zones,
        hypervisors,
        services,
        extensions,
        server_external_events,
        images,
        simple_tenant_usage,
        hosts,
        instance_usage_audit_log,
        interfaces,
        migrations,
        security_groups,
        floating_ips,
        networks,
        aggregates,
    ):
        app.include_router(module.router)
    return app
