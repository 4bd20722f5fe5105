"""Conformance to the official CDF OpenAPI subset, with schemathesis against the in-process app.

For every implemented operation, generated valid and invalid requests never produce a 5xx, invalid
requests are rejected, and every 2xx response validates against the official response schema (with
the spec's own known errors corrected: emulator/openapi.py and docs/coverage.md list them).
"""

from __future__ import annotations

import json

import pytest

from emulator import FunctionsEmulator
from emulator.openapi import corrected_spec, official_spec
from emulator.surface import served_in_project, template
from tests.conftest import SHARED

SPEC_PATH = SHARED / "reference" / "cdf-functions-openapi.json"
if not SPEC_PATH.exists():
    pytest.skip(
        f"the official spec is not here ({SPEC_PATH}): run from a checkout with ../shared",
        allow_module_level=True,
    )

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import positive_data_acceptance  # noqa: E402

RAW = json.loads(SPEC_PATH.read_text())
SPEC = corrected_spec(RAW)
SPEC["servers"] = [{"url": "/api/v1/projects/conformance"}]
SPEC.pop("security", None)

EMU = FunctionsEmulator(project="conformance", raise_server_exceptions=False)


def handle(data):
    return data


# Some state, so that reads have something to return.
_FN = EMU.deploy(function_handle=handle, external_id="conformance-fn")
EMU.client().functions.call(id=_FN.id, data={"a": 1})
EMU.client().functions.schedules.create(name="s", cron_expression="0 * * * *", function_id=_FN.id)

SERVED = served_in_project(EMU.app.routes)
NOT_IMPLEMENTED = [
    (m, p)
    for p, ops in RAW["paths"].items()
    for m in ops
    if m in ("get", "post", "put", "delete")
    if (m, template(p)) not in SERVED
]
UNIMPLEMENTED_IDS = [RAW["paths"][path][method]["operationId"] for method, path in NOT_IMPLEMENTED]
schema = schemathesis.openapi.from_dict(SPEC).exclude(operation_id=UNIMPLEMENTED_IDS)
schema.app = EMU.app


def test_vendored_spec_is_the_official_one() -> None:
    assert official_spec() == RAW, "emulator/data/cdf-functions-openapi.json differs from shared/reference"


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_operation_conforms(case) -> None:  # type: ignore[no-untyped-def]
    response = case.call()
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
    # Schema-valid requests may still be refused with 400 for rules the spec states only in prose
    # (secret key format, cpu within /functions/limits, unknown file ids), so positive-data
    # acceptance is not asked for; everything else is.
    case.validate_response(response, excluded_checks=[positive_data_acceptance])


def test_unimplemented_operations_answer_501_in_cdf_shape() -> None:
    from starlette.testclient import TestClient

    client = TestClient(EMU.app)
    for method, path in NOT_IMPLEMENTED:
        answer = client.request(method.upper(), f"/api/v1/projects/conformance{path}", json={})
        assert answer.status_code == 501
        assert answer.json()["error"]["code"] == 501


def test_served_openapi_covers_every_route() -> None:
    from starlette.testclient import TestClient

    served = TestClient(EMU.app).get("/api/v1/projects/conformance/openapi.json").json()
    implemented = {(m, p) for p, ops in served["paths"].items() for m in ops if m in ("get", "post", "put")}
    official = {
        (m, p) for p, ops in RAW["paths"].items() for m in ops if m in ("get", "post", "put", "delete")
    }
    assert implemented == official - set(NOT_IMPLEMENTED)
