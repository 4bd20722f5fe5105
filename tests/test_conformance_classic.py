"""Schemathesis over the official spec for Files, Assets, Events and Labels (tests/conformance_kit.py)."""

from __future__ import annotations

from cognite.client.data_classes import AssetWrite, EventWrite, LabelDefinitionWrite

from emulator import FunctionsEmulator
from tests.conformance_kit import CONFORMANCE_SETTINGS, CONFORMANCE_TIMEOUT, check_case, family_schema

pytestmark = CONFORMANCE_TIMEOUT

OPERATIONS = [
    # Files (getIcon, for images only, is not implemented)
    "initFileUpload", "listFiles", "initMultiPartUpload", "getUploadLink", "getMultiPartUploadLink",
    "getFileByInternalId", "advancedListFiles", "byIdsFiles", "searchFiles", "deleteFiles",
    "downloadLinks", "updateFiles", "aggregateFiles", "completeMultiPartUpload",
    # Assets
    "getAssets", "createAssets", "getAsset", "listAssets", "aggregateAssets", "byIdsAssets",
    "updateAssets", "searchAssets", "deleteAssets",
    # Events
    "createEvents", "listEvents", "getEventByInternalId", "advancedListEvents", "aggregateEvents",
    "byIdsEvents", "updateEvents", "searchEvents", "deleteEvents",
    # Labels
    "createLabelDefinitions", "listLabels", "byIdsLabels", "deleteLabels",
]  # fmt: skip

EMU = FunctionsEmulator(project="conformance", raise_server_exceptions=False)
_CLIENT = EMU.client()
# Some state, so that reads have something to return.
_CLIENT.labels.create(LabelDefinitionWrite(external_id="PUMP", name="Pump"))
_ROOT = _CLIENT.assets.create(AssetWrite(external_id="root", name="Root", metadata={"k": "v"}))
_CLIENT.events.create(EventWrite(external_id="ev", start_time=1, end_time=2, asset_ids=[_ROOT.id]))
_CLIENT.files.upload_bytes(b"content", name="f.txt", external_id="file", asset_ids=[_ROOT.id])

schema = family_schema(EMU.app, OPERATIONS)
# Schemathesis' coverage phase enumerates boundary cases of every schema: for these bodies (nested
# filters, patch objects) that is 10-25 s of collection per operation. Generated positive and
# negative cases (the fuzzing phase) still cover every operation.
schema.config.phases.coverage.enabled = False


@schema.parametrize()
@CONFORMANCE_SETTINGS
def test_classic_families_conform(case) -> None:  # type: ignore[no-untyped-def]
    check_case(case)
