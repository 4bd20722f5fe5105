"""The SDK over both transports: in-process (no socket) and a real loopback server.

Import ``sdk`` into a test module (``from tests.transports import sdk``) and every test that asks
for it runs twice, once per transport, against the same ``emu`` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cognite.client import CogniteClient

from emulator import FunctionsEmulator


@pytest.fixture(params=["in-process", "loopback"])
def sdk(request: pytest.FixtureRequest, emu: FunctionsEmulator) -> Iterator[CogniteClient]:
    if request.param == "in-process":
        yield emu.client()
        return
    with emu.serve(port=0) as server:
        yield server.client()
