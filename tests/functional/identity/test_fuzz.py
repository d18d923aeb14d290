"""Schema-driven fuzzing of the identity API: whatever a client sends, never a 500.

schemathesis generates requests for every operation in the service's OpenAPI document (valid
and invalid bodies, odd path and query values) and sends them with an admin token; each
response must be below 500, and a 4xx must carry Keystone's error body.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from stratus.identity.service import IdentityService

EXAMPLES_PER_OPERATION = 10


def check_operation(operation: object, token: str) -> None:
    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call(headers={"X-Auth-Token": token})
        where = f"{case.method} {case.formatted_path} -> {response.status_code}"
        assert response.status_code < 500, where
        if 400 <= response.status_code < 500 and case.method != "HEAD":
            assert response.json()["error"]["code"] == response.status_code, where

    run()


def test_no_server_errors_on_any_operation(identity: IdentityService, boot: object, admin_token: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", identity.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40  # every resource is in the document
    for operation in operations:
        check_operation(operation, admin_token)
