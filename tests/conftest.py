"""Shared test helpers. Every test drives the emulator through the real cognite-sdk.

``emu`` is the project's own plugin fixture (``functions_emulator``) with the suite's defaults from
pyproject.toml (project "test-project", clock at 2026-01-01T00:00:00Z); configure it per test or
module with ``@pytest.mark.functions_emulator(...)``.
"""

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


@pytest.fixture(scope="session", autouse=True)
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Environments built by requirements="install" go to one folder per test session, never to the
    user's cache (emulator/build/cache.py reads the variable at each build)."""
    path = tmp_path_factory.mktemp("build-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CDF_FUNCTIONS_EMULATOR_CACHE", str(path))
        yield path


@pytest.fixture
def emu(functions_emulator: FunctionsEmulator) -> FunctionsEmulator:
    return functions_emulator


@pytest.fixture
def client(emu: FunctionsEmulator) -> CogniteClient:
    return emu.client()


@pytest.fixture(params=["in-process", "loopback"])
def any_client(request: pytest.FixtureRequest, emu: FunctionsEmulator) -> Iterator[CogniteClient]:
    """A CogniteClient of ``emu``, once in-process and once over a real loopback HTTP server."""
    if request.param == "in-process":
        yield emu.client()
    else:
        with emu.serve() as server:
            yield server.client()


@pytest.fixture
def sdk(any_client: CogniteClient) -> CogniteClient:
    """The name the resource-family tests use for ``any_client``: the SDK over both transports."""
    return any_client


def fixture_folder(name: str) -> str:
    return str(FIXTURES / name)
