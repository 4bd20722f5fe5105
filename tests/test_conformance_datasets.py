"""schemathesis over the official spec's data set operations."""

from __future__ import annotations

from cognite.client.data_classes import DataSetWrite
from schemathesis.checks import status_code_conformance

from emulator import FunctionsEmulator
from tests.conformance_kit import CONFORMANCE_SETTINGS, CONFORMANCE_TIMEOUT, check_case, family_schema

pytestmark = CONFORMANCE_TIMEOUT

EMU = FunctionsEmulator(project="conformance", raise_server_exceptions=False)
EMU.client("conformance").data_sets.create([DataSetWrite(external_id="c1", name="one", metadata={"k": "v"})])

OPERATIONS = ["createDataSets", "listDataSets", "aggregateDataSets", "getDataSets", "updateDataSets"]
schema = family_schema(EMU.app, OPERATIONS)


@schema.parametrize()
@CONFORMANCE_SETTINGS
def test_datasets_conform(case) -> None:  # type: ignore[no-untyped-def]
    # A taken externalId answers 409 with `duplicated`, as CDF does; the spec documents only 200/400.
    check_case(case, [status_code_conformance] if case.path == "/datasets" else [])
