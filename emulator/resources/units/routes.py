"""GET /units, GET /units/{externalId}, POST /units/byids, GET /units/systems."""

from __future__ import annotations

import copy

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emulator.errors import not_found
from emulator.resources.units import catalog
from emulator.validation import expect_object, get_bool, get_items, get_str, read_json, reject_unknown


async def list_units(request: Request) -> JSONResponse:
    return JSONResponse({"items": copy.deepcopy(list(catalog.units()))})


async def list_unit_systems(request: Request) -> JSONResponse:
    return JSONResponse({"items": copy.deepcopy(list(catalog.unit_systems()))})


async def get_unit(request: Request) -> JSONResponse:
    external_id = request.path_params["external_id"]
    found = catalog.unit(external_id)
    if found is None:
        raise not_found([{"externalId": external_id}], "Unit not found")
    return JSONResponse({"items": [copy.deepcopy(found)]})


async def units_by_ids(request: Request) -> JSONResponse:
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    ignore = get_bool(body, "ignoreUnknownIds")
    items = get_items(body, max_items=1000)
    wanted = []
    for i, item in enumerate(items):
        obj = expect_object(item, f"items[{i}]")
        reject_unknown(obj, ("externalId",), f"items[{i}]")
        wanted.append(get_str(obj, "externalId", f"items[{i}]", required=True, min_len=1))
    missing = [{"externalId": x} for x in wanted if catalog.unit(x or "") is None]
    if missing and not ignore:
        raise not_found(missing, "Units not found")
    found = [catalog.unit(x or "") for x in wanted]
    return JSONResponse({"items": [copy.deepcopy(u) for u in found if u is not None]})


routes = [
    Route("/units", list_units, methods=["GET"]),
    Route("/units/systems", list_unit_systems, methods=["GET"]),
    Route("/units/byids", units_by_ids, methods=["POST"]),
    Route("/units/{external_id}", get_unit, methods=["GET"]),
]
