"""schemathesis over the official spec's extraction pipeline operations.

The ``schedule`` property of ``CreateExtPipe`` and ``ExtPipesFilter`` has a cron-like pattern with
nested repetitions, from which hypothesis took minutes per case (``filterExtPipes`` ran past every
timeout in CI's full suite), so the copy of the spec the cases are generated from drops that one
pattern: ``schedule`` is then any string, which the emulator checks against the real pattern (a
mismatch is a 400, as CDF answers; tests/test_extpipes.py drives good and bad schedules through
the SDK and raw requests). Everything else about the three operations is generated and checked.
"""

from __future__ import annotations

from typing import Any

from cognite.client.data_classes import (
    DataSetWrite,
    ExtractionPipelineConfigWrite,
    ExtractionPipelineRunWrite,
    ExtractionPipelineWrite,
)
from schemathesis.checks import positive_data_acceptance, status_code_conformance

from emulator import FunctionsEmulator
from tests.conformance_kit import CONFORMANCE_SETTINGS, CONFORMANCE_TIMEOUT, family_schema

pytestmark = CONFORMANCE_TIMEOUT

EMU = FunctionsEmulator(project="conformance", raise_server_exceptions=False)
_SDK = EMU.client("conformance")
_DS = _SDK.data_sets.create(DataSetWrite(external_id="ds")).id
_SDK.extraction_pipelines.create(ExtractionPipelineWrite(external_id="p", name="p", data_set_id=_DS))
_SDK.extraction_pipelines.config.create(ExtractionPipelineConfigWrite(external_id="p", config="a: 1"))
_SDK.extraction_pipelines.runs.create(ExtractionPipelineRunWrite(extpipe_external_id="p", status="success"))

OPERATIONS = [
    "listExtPipes", "deleteExtPipes", "showExtPipe", "byidsExtPipes",
    "getExtPipeConfigRevision", "createExtPipeConfig", "listExtPipeConfigRevisions",
    "revertExtPipeConfigRevision", "runs", "createRuns", "filterRuns",
    "createExtPipes", "updateExtPipes", "filterExtPipes",
]  # fmt: skip


def _plain_schedules(spec: dict[str, Any]) -> None:
    """Drop the pattern of ``schedule`` (see the module's docstring)."""
    for name in ("CreateExtPipe", "ExtPipesFilter"):
        spec["components"]["schemas"][name]["properties"]["schedule"].pop("pattern", None)


schema = family_schema(EMU.app, OPERATIONS, correct=_plain_schedules)


@schema.parametrize()
@CONFORMANCE_SETTINGS
def test_extpipes_conform(case) -> None:  # type: ignore[no-untyped-def]
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:300]}"
    # A taken externalId answers 409, a config that does not exist 404, and bad input 400 (also
    # where the spec documents 200 only), in CDF's error shape, as CDF does.
    excluded = [positive_data_acceptance]
    if 400 <= response.status_code < 500:
        excluded.append(status_code_conformance)
    case.validate_response(response, excluded_checks=excluded)
