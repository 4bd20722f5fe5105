"""Routes of token inspection, the requester's user profile and groups.

cognite-sdk asks ``GET /api/v1/token/inspect`` outside any project (``root_routes``); the spec
also lists it under the project prefix, so both answer.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import CogniteAPIError, bad_request
from emulator.resources.common import emulator_of, ids_of, now_of, part_of
from emulator.resources.iam.capabilities import all_capabilities
from emulator.resources.iam.domain import Groups, check_group, profile, subject_of
from emulator.validation import check_id, get_items, read_json, reject_unknown

MAX_GROUPS_PER_REQUEST = 1000


async def inspect_token(request: Request) -> Response:
    emu = emulator_of(request)
    authorization = request.headers.get("authorization")
    denied = emu.auth.check(authorization, None)
    if denied is not None:  # the root path is outside the auth middleware's project prefix
        raise CogniteAPIError(*denied)
    candidates = [emu.settings.project, *emu.backend.projects()]
    if "project" in request.path_params:
        candidates.insert(0, str(request.path_params["project"]))
    projects = []
    for name in dict.fromkeys(candidates):  # ordered, each once
        if emu.auth.check(authorization, name) is None:
            groups = emu.backend.peek(name).part(Groups).ids()  # a read: creates no project
            projects.append({"projectUrlName": name, "groups": groups})
    body = {"subject": subject_of(authorization), "projects": projects, "capabilities": all_capabilities()}
    return JSONResponse(body)


async def me(request: Request) -> Response:
    return JSONResponse(profile(subject_of(request.headers.get("authorization")), now_of(request)))


async def list_groups(request: Request) -> Response:
    raw = request.query_params.get("all", "false").lower()
    if raw not in ("true", "false"):
        raise bad_request("all must be true or false")
    reject_unknown(dict(request.query_params), ("all",), "query")
    return JSONResponse({"items": part_of(request, Groups).all()})


async def create_groups(request: Request) -> Response:
    items = get_items(await read_json(request), max_items=MAX_GROUPS_PER_REQUEST)
    checked = [check_group(item, f"items[{i}]") for i, item in enumerate(items)]
    made = part_of(request, Groups).create(checked, ids_of(request), now_of(request))
    return JSONResponse({"items": made}, status_code=201)


async def delete_groups(request: Request) -> Response:
    body = await read_json(request)
    items = get_items(body, max_items=MAX_GROUPS_PER_REQUEST)
    reject_unknown(body, ("items",), "")
    group_ids = list(dict.fromkeys(check_id(v, f"items[{i}]") for i, v in enumerate(items)))
    part_of(request, Groups).delete(group_ids)
    return JSONResponse({})


routes = [
    Route("/token/inspect", inspect_token, methods=["GET"]),
    Route("/profiles/me", me, methods=["GET"]),
    Route("/groups", list_groups, methods=["GET"]),
    Route("/groups", create_groups, methods=["POST"]),
    Route("/groups/delete", delete_groups, methods=["POST"]),
]
root_routes = [Route("/api/v1/token/inspect", inspect_token, methods=["GET"])]
