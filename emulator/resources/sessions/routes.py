"""Sessions routes: create (client credentials, token exchange, one-shot token exchange), list,
byids, revoke."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import bad_request
from emulator.resources.common import context_of, store_of
from emulator.resources.paging import page
from emulator.resources.sessions import domain
from emulator.resources.sessions.wire import session_json
from emulator.validation import check_id, expect_object, get_items, get_str, read_json, reject_unknown


def _session_kind(item: dict[str, Any], where: str) -> tuple[str, str | None]:
    if "clientId" in item or "clientSecret" in item:
        reject_unknown(item, ("clientId", "clientSecret"), where)
        client_id = get_str(item, "clientId", where, required=True, min_len=1, max_len=512)
        get_str(item, "clientSecret", where, required=True, min_len=1, max_len=4096)
        return "CLIENT_CREDENTIALS", client_id
    for flag, kind in (
        ("tokenExchange", "TOKEN_EXCHANGE"),
        ("oneshotTokenExchange", "ONESHOT_TOKEN_EXCHANGE"),
    ):
        if flag in item:
            reject_unknown(item, (flag,), where)
            if item[flag] is not True:
                raise bad_request(f"{where}.{flag} must be true")
            return kind, None
    raise bad_request(
        f"{where} must have clientId and clientSecret, tokenExchange: true or oneshotTokenExchange: true"
    )


async def create(request: Request) -> Response:
    body = await read_json(request)
    reject_unknown(expect_object(body, ""), ("items",), "")
    items = get_items(body, max_items=1)
    kind, client_id = _session_kind(expect_object(items[0], "items[0]"), "items[0]")
    record = domain.create_session(context_of(request), store_of(request), kind, client_id)
    return JSONResponse({"items": [session_json(record, with_nonce=True)]})


async def list_sessions(request: Request) -> Response:
    records = domain.listed(store_of(request), request.query_params.get("status"))
    items, cursor = page(request, records, max_limit=1000)
    out: dict[str, Any] = {"items": [session_json(s) for s in items]}
    if cursor:
        out["nextCursor"] = cursor
    return JSONResponse(out)


def _ids(items: list[Any]) -> list[int]:
    ids = []
    for i, item in enumerate(items):
        obj = expect_object(item, f"items[{i}]")
        reject_unknown(obj, ("id",), f"items[{i}]")
        ids.append(check_id(obj.get("id"), f"items[{i}].id"))
    return ids


async def by_ids(request: Request) -> Response:
    body = await read_json(request)
    reject_unknown(expect_object(body, ""), ("items",), "")
    records = domain.by_ids(store_of(request), _ids(get_items(body, max_items=1000)))
    return JSONResponse({"items": [session_json(s) for s in records]})


async def revoke(request: Request) -> Response:
    body = await read_json(request)
    reject_unknown(expect_object(body, ""), ("items",), "")
    ids = _ids(get_items(body, max_items=1000))
    records = domain.revoke(context_of(request), store_of(request), ids)
    return JSONResponse({"items": [session_json(s) for s in records]})


routes = [
    Route("/sessions", create, methods=["POST"]),
    Route("/sessions", list_sessions, methods=["GET"]),
    Route("/sessions/byids", by_ids, methods=["POST"]),
    Route("/sessions/revoke", revoke, methods=["POST"]),
]
