"""schemathesis over the official spec's token, profile and group operations.

``createGroups`` is left out: its request schema (every ACL of CDF, each a oneOf of scopes) makes
schemathesis take minutes per generated case; tests/test_iam.py covers its bad input instead.
"""

from __future__ import annotations

from typing import Any

from schemathesis.checks import response_schema_conformance, status_code_conformance

from emulator import FunctionsEmulator
from tests.conformance_kit import CONFORMANCE_SETTINGS, CONFORMANCE_TIMEOUT, check_case, family_schema

pytestmark = CONFORMANCE_TIMEOUT

EMU = FunctionsEmulator(project="conformance", raise_server_exceptions=False)
EMU.client("conformance").iam.groups.list()  # the project exists before the first case

OPERATIONS = ["inspectToken", "getRequesterUserProfile", "getGroups", "deleteGroups"]
schema = family_schema(EMU.app, OPERATIONS)

# The spec documents no 4xx for these operations, though CDF (and the emulator) refuse bad input
# with 400 in CDF's shape. Its Capability schema is a oneOf whose branches require nothing, so every
# capability matches all of them: tests/test_iam.py checks the token's answer with anyOf instead.
EXCUSED: dict[str, list[Any]] = {
    "GET /token/inspect": [response_schema_conformance],
    "GET /groups": [status_code_conformance],
    "POST /groups/delete": [status_code_conformance],
}


@schema.parametrize()
@CONFORMANCE_SETTINGS
def test_iam_conforms(case) -> None:  # type: ignore[no-untyped-def]
    check_case(case, EXCUSED.get(f"{case.method} {case.path}", []))
