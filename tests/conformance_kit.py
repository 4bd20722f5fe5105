"""Schemathesis over the full official CDF OpenAPI (vendored in emulator/data/), one family at a time.

A family's conformance test builds its schema with :func:`family_schema`, naming the operation ids
it implements, and runs :func:`check_case` on every generated case::

    schema = family_schema(EMU.app, ["createAssets", "listAssets"])

    @schema.parametrize()
    @CONFORMANCE_SETTINGS
    def test_assets_conform(case):
        check_case(case)
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import positive_data_acceptance

from emulator.spec import full_spec

# No shrinking: a failing case is reported as generated. Shrinking a schemathesis case through the
# app can take longer than the test's timeout, and a timeout during a shrink is reported as a flaky
# test instead of the failure that started it.
# pytest-timeout's 120 s is for hangs; a family's cases are bounded by max_examples, and on a busy
# two-core CI machine generating them from the spec's schemas can take minutes (extpipes did).
CONFORMANCE_TIMEOUT = pytest.mark.timeout(900)

CONFORMANCE_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def family_schema(
    app: Any,
    operation_ids: Iterable[str],
    project: str = "conformance",
    correct: Callable[[dict[str, Any]], None] | None = None,
) -> Any:
    """A schemathesis schema of the given operations only, served by ``app`` for ``project``;
    ``correct`` may fix known errors of the spec in the copy (say which in docs/coverage.md)."""
    wanted = set(operation_ids)
    spec = copy.deepcopy(full_spec())
    if correct is not None:
        correct(spec)
    known = {
        op.get("operationId") for ops in spec["paths"].values() for op in ops.values() if isinstance(op, dict)
    }
    unknown = wanted - known
    assert not unknown, f"not operation ids of the official spec: {sorted(unknown)}"
    spec["servers"] = [{"url": f"/api/v1/projects/{project}"}]
    spec.pop("security", None)
    schema = schemathesis.openapi.from_dict(spec).include(operation_id=sorted(wanted))
    schema.app = app
    without_coverage_phase(schema)
    return schema


def without_coverage_phase(schema: Any) -> Any:
    """Switch off schemathesis' coverage phase: it builds its boundary cases at collection time, in
    every xdist worker, running hypothesis hundreds of times per family (91 s and most of a 1.2 GB
    heap for the time series family alone), and the suite then crawled; the fuzzing phase, with
    positive and negative cases, is what the conformance tests rely on."""
    schema.config.phases.coverage.enabled = False
    return schema


def check_case(case: Any, excluded: Iterable[Any] = ()) -> None:
    """No 5xx; invalid requests refused; 2xx responses valid against the official schema.

    Positive-data acceptance is not asked for: schema-valid requests may still be refused with 400
    for rules the spec states only in prose (unknown ids, limits given in descriptions).
    """
    response = case.call()
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
    case.validate_response(response, excluded_checks=[positive_data_acceptance, *excluded])
