"""Shared test helpers. Every test drives the emulator through the real cognite-sdk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cognite.client import CogniteClient

from emulator import FunctionsEmulator

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


@pytest.fixture
def emu() -> Iterator[FunctionsEmulator]:
    emulator = FunctionsEmulator(project="test-project", start="2026-01-01T00:00:00Z")
    yield emulator
    emulator.close()


@pytest.fixture
def client(emu: FunctionsEmulator) -> CogniteClient:
    return emu.client()


def fixture_folder(name: str) -> str:
    return str(FIXTURES / name)
