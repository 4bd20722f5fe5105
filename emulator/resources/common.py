"""What every resource module needs from a request: its emulator, project and Store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

from emulator.state import Store

if TYPE_CHECKING:
    from emulator.emulator import FunctionsEmulator


def emulator_of(request: Request) -> FunctionsEmulator:
    return request.app.state.emulator  # type: ignore[no-any-return]


def project_of(request: Request) -> str:
    return str(request.path_params["project"])


def store_of(request: Request) -> Store:
    return emulator_of(request).backend.store(project_of(request))
