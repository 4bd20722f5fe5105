"""Shared test helpers. Every test drives the emulator through the real cognite-sdk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cognite.client import CogniteClient

from emulator import FunctionsEmulator

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def shared_reference() -> Path | None:
    """The project's shared/reference folder above this checkout, if any (a fresh clone has none)."""
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "shared" / "reference"
        if (candidate / "cdf-openapi.json").is_file():
            return candidate
    return None


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
