"""build_app(context) -> the Starlette app that speaks the CDF REST API for one emulator."""

from __future__ import annotations

from functools import cache

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

import emulator.openapi as openapi
import emulator.surface as surface
from emulator.auth import AuthMiddleware
from emulator.context import Context
from emulator.errors import EXCEPTION_HANDLERS
from emulator.faults import FaultMiddleware
from emulator.globus.routes import routes as globus_routes
from emulator.middleware import DueRunsMiddleware, RequestIdMiddleware
from emulator.overrides import OverrideMiddleware
from emulator.resources import admin, families, seed_admin
from emulator.resources.calls import routes as calls
from emulator.resources.functions import routes as functions
from emulator.resources.iam import routes as iam_routes
from emulator.resources.schedules import routes as schedules
from emulator.resources.sessions import routes as sessions
from emulator.roma.admin import routes as roma_admin_routes
from emulator.roma.routes import routes as roma_routes
from emulator.routing import FamilyMount
from emulator.ui import routes as ui

API_PREFIX = "/api/v1/projects/{project}"


def project_routes() -> list[BaseRoute]:
    """Every CDF route under /api/v1/projects/{project}, fixed paths before path parameters."""
    return [
        *openapi.routes,
        *sessions.routes,
        *functions.routes,
        *schedules.routes,
        *calls.routes,
        *functions.routes_by_id,
        *families.routes(),
    ]


@cache
def api_routes() -> tuple[BaseRoute, ...]:
    """The project routes and a 501 route for every other official operation: the same for every
    emulator (a route reads its emulator from ``request.app.state.context``), so built once per
    process. Building the 340-odd routes was most of the plugin's per-test setup."""
    return tuple(surface.complete(project_routes()))


@cache
def api_mount() -> FamilyMount:
    """The project Mount over ``api_routes()``, one Router per resource family; stateless like its
    routes, so also made once per process."""
    return FamilyMount(API_PREFIX, api_routes())


def build_app(context: Context) -> Starlette:
    """The app of one emulator; ``app.state.context`` is what every route reads."""
    routes: list[BaseRoute] = [
        # First: nearly every request is the API's (routes are tried in order, a regex each).
        api_mount(),  # one Router per resource family
        *ui.routes,  # the dashboard; before the /_emulator Mount, which would shadow it
        seed_admin.route,  # POST /_emulator/seed, before the /_emulator Mount
        Mount("/_emulator", routes=[*roma_admin_routes, *admin.routes]),
        *iam_routes.root_routes,  # GET /api/v1/token/inspect: the SDK asks it outside any project
        Mount("/globus-timer", routes=globus_routes),
        *roma_routes,  # ROMA Connect paths start at the root: /v2/{project_id}/fdi/...
    ]
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS)
    # CDF answers a path it does not serve with its error shape, never a redirect to the path with a
    # slash added (GET /api/v1/projects/{project}, which the Cognite Toolkit asks, got a bare 307).
    app.router.redirect_slashes = False
    app.add_middleware(OverrideMiddleware, overrides=context.overrides)  # innermost: auth, faults apply
    app.add_middleware(DueRunsMiddleware, clock=context.clock, timeline=context.timeline)
    app.add_middleware(FaultMiddleware, faults=context.faults)
    app.add_middleware(AuthMiddleware, policy=context.auth)
    app.add_middleware(RequestIdMiddleware)  # outermost: errors from auth and faults carry one too
    app.state.context = context
    return app
