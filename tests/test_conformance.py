"""Conformance to the official CDF OpenAPI subset, with schemathesis against the in-process app.

For every implemented operation, generated valid and invalid requests never produce a 5xx, invalid
requests are rejected, and every 2xx response validates against the official response schema (with
the spec's own known errors corrected: emulator/openapi.py and docs/coverage.md list them).
"""

from __future__ import annotations

import json

import schemathesis
from schemathesis.checks import positive_data_acceptance

from emulator import FunctionsEmulator
from emulator.openapi import corrected_spec, official_spec
from emulator.spec import published_spec
from emulator.surface import served_in_project, template
from tests.conformance_kit import CONFORMANCE_SETTINGS, CONFORMANCE_TIMEOUT, without_coverage_phase
from tests.conftest import shared_reference

pytestmark = CONFORMANCE_TIMEOUT

# The spec vendored in the package: a fresh clone needs nothing outside the repository.
RAW = official_spec()
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
without_coverage_phase(schema)


def test_vendored_specs_are_the_official_ones() -> None:
    """The Functions subset agrees with the full spec; both equal ../shared/reference's when it exists."""
    full = published_spec()
    for path, ops in RAW["paths"].items():
        assert full["paths"][path] == ops, f"{path} differs between the two vendored specs"
    for name, schema_ in RAW["components"]["schemas"].items():
        assert full["components"]["schemas"][name] == schema_, f"schema {name} differs"
    reference = shared_reference()
    if reference is not None:  # a checkout beside the project's shared/ folder (not a fresh clone)
        assert json.loads((reference / "cdf-functions-openapi.json").read_text()) == RAW
        assert json.loads((reference / "cdf-openapi.json").read_text()) == full


@schema.parametrize()
@CONFORMANCE_SETTINGS
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
