"""Label definitions routes: create, list (name, externalIdPrefix, dataSetIds), byids, delete."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.resources.classic import common_predicates, list_page, read_request
from emulator.resources.common import ids_of, now_of, part_of
from emulator.resources.labels.domain import Labels, to_wire
from emulator.validation import reject_unknown


def _labels(request: Request) -> Labels:
    return part_of(request, Labels)


async def create(request: Request) -> Response:
    body = await read_request(request, "createLabelDefinitions")
    for i, item in enumerate(body["items"]):
        reject_unknown(item, ("externalId", "name", "description", "dataSetId"), f"items[{i}]")
    made = _labels(request).table.create(body["items"], ids_of(request), now_of(request))
    return JSONResponse({"items": [to_wire(r) for r in made]}, status_code=201)


async def list_labels(request: Request) -> Response:
    body = await read_request(request, "listLabels")
    flt = body.get("filter") or {}
    checks = common_predicates(flt)
    found = [r for r in _labels(request).table.records() if all(c(r) for c in checks)]
    page = list_page(found, body)
    page["items"] = [to_wire(r) for r in page["items"]]
    return JSONResponse(page)


async def by_ids(request: Request) -> Response:
    body = await read_request(request, "byIdsLabels")
    ignore = bool(body.get("ignoreUnknownIds", False))
    found = _labels(request).table.resolve(body["items"], ignore_unknown=ignore)
    return JSONResponse({"items": [to_wire(r) for r in found]})


async def delete(request: Request) -> Response:
    body = await read_request(request, "deleteLabels")
    _labels(request).table.delete(body["items"], ignore_unknown=bool(body.get("ignoreUnknownIds", False)))
    return JSONResponse({})


routes = [
    Route("/labels", create, methods=["POST"]),
    Route("/labels/list", list_labels, methods=["POST"]),
    Route("/labels/byids", by_ids, methods=["POST"]),
    Route("/labels/delete", delete, methods=["POST"]),
]
