"""build_app(emulator) -> the Starlette app that speaks the CDF REST API for one emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from emulator import openapi, surface
from emulator.auth import AuthMiddleware
from emulator.errors import EXCEPTION_HANDLERS
from emulator.faults import FaultMiddleware
from emulator.middleware import DueRunsMiddleware
from emulator.overrides import OverrideMiddleware
from emulator.resources import calls, families, files, functions, schedules, seed_admin, sessions
from emulator.resources.iam import routes as iam_routes

if TYPE_CHECKING:
    from emulator.emulator import FunctionsEmulator

API_PREFIX = "/api/v1/projects/{project}"


def project_routes() -> list[BaseRoute]:
    """Every CDF route under /api/v1/projects/{project}, fixed paths before path parameters."""
    return [
        *openapi.routes,
        *files.routes,
        *sessions.routes,
        *functions.routes,
        *schedules.routes,
        *calls.routes,
        *functions.routes_by_id,
        *families.routes(),
    ]


def build_app(emulator: FunctionsEmulator) -> Starlette:
    from emulator.globus.routes import routes as globus_routes
    from emulator.roma.routes import routes as roma_routes

    routes: list[BaseRoute] = [
        Mount(API_PREFIX, routes=surface.complete(project_routes())),
        *iam_routes.root_routes,  # GET /api/v1/token/inspect: the SDK asks it outside any project
        Mount("/globus-timer", routes=globus_routes),
        *roma_routes,  # ROMA Connect paths start at the root: /v2/{project_id}/fdi/...
    ]
    try:
        from emulator.resources import admin
    except ImportError:  # pragma: no cover - the admin API arrives with the server work
        pass
    else:
        routes.insert(0, Mount("/_emulator", routes=admin.routes))
    routes.insert(0, seed_admin.route)  # POST /_emulator/seed, before the /_emulator Mount
    from emulator.ui import routes as ui  # the dashboard; before the /_emulator Mount, which would shadow it

    routes[0:0] = ui.routes
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS)
    app.add_middleware(OverrideMiddleware, overrides=emulator.overrides)  # innermost: auth, faults apply
    app.add_middleware(DueRunsMiddleware, emulator=emulator)
    app.add_middleware(FaultMiddleware, faults=emulator.faults)
    app.add_middleware(AuthMiddleware, policy=emulator.auth)
    app.state.emulator = emulator
    return app
