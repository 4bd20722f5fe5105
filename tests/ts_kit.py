"""Fixtures shared by the time series, datapoints and units tests: one emulator, and a real SDK
client talking to it in-process or over a loopback uvicorn server (every test runs on both)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cognite.client import CogniteClient

from emulator import FunctionsEmulator

T0 = 1767225600000  # 2026-01-01T00:00:00Z, the emulator's start in these tests


@pytest.fixture(params=["in-process", "loopback"])
def sdk(request: pytest.FixtureRequest) -> Iterator[tuple[FunctionsEmulator, CogniteClient]]:
    emu = FunctionsEmulator(project="ts-project", start="2026-01-01T00:00:00Z")
    if request.param == "in-process":
        yield emu, emu.client()
    else:
        with emu.serve() as server:
            yield emu, server.client()
    emu.close()


def make_series(client: CogniteClient, external_id: str, **fields: Any) -> Any:
    from cognite.client.data_classes import TimeSeriesWrite

    return client.time_series.create(TimeSeriesWrite(external_id=external_id, **fields))
