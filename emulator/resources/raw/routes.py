"""Routes of RAW (all 11 operations of the official spec): parse the request, ask ``Raw``, answer."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import bad_request
from emulator.resources.common import now_of, part_of
from emulator.resources.raw.domain import MAX_DB_NAME, MAX_KEY, MAX_TABLE_NAME, Raw, check_columns
from emulator.validation import (
    INT64_MAX,
    expect_object,
    get_bool,
    get_items,
    get_str,
    query_limit,
    read_json,
    reject_unknown,
)

MAX_NAMES_PER_REQUEST = 1000
MAX_ROWS_PER_REQUEST = 10000


def _names(body: Any, max_len: int) -> list[str]:
    items = get_items(body, max_items=MAX_NAMES_PER_REQUEST)
    names = []
    for i, item in enumerate(items):
        obj = expect_object(item, f"items[{i}]")
        reject_unknown(obj, ("name",), f"items[{i}]")
        name = get_str(obj, "name", f"items[{i}]", required=True, min_len=1, max_len=max_len)
        assert name is not None
        names.append(name)
    return names


def _query_bool(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise bad_request(f"{name} must be true or false, got {raw[:20]!r}")
    return raw == "true"


def _query_time(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) > INT64_MAX:
        raise bad_request(f"{name} must be a non-negative integer (epoch ms), got {raw[:40]!r}")
    return int(raw)


def _time_range(request: Request) -> tuple[int | None, int | None]:
    return _query_time(request, "minLastUpdatedTime"), _query_time(request, "maxLastUpdatedTime")


def _page(items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    """Databases and tables page by name: the cursor is the last name already returned."""
    limit = query_limit(request, default=25, maximum=1000)
    after = request.query_params.get("cursor")
    if after is not None:
        items = [i for i in items if i["name"] > after]
    out: dict[str, Any] = {"items": items[:limit]}
    if len(items) > limit:
        out["nextCursor"] = items[limit - 1]["name"]
    return out


def _db(request: Request) -> str:
    name = str(request.path_params["dbName"])
    if not 1 <= len(name) <= MAX_DB_NAME:
        raise bad_request(f"dbName must be 1 to {MAX_DB_NAME} characters")
    return name


def _table(request: Request) -> str:
    name = str(request.path_params["tableName"])
    if not 1 <= len(name) <= MAX_TABLE_NAME:
        raise bad_request(f"tableName must be 1 to {MAX_TABLE_NAME} characters")
    return name


async def list_dbs(request: Request) -> Response:
    return JSONResponse(_page(part_of(request, Raw).list_dbs(), request))


async def create_dbs(request: Request) -> Response:
    body = await read_json(request)
    reject_unknown(expect_object(body, ""), ("items",), "")
    made = part_of(request, Raw).create_dbs(_names(body, MAX_DB_NAME), now_of(request))
    return JSONResponse({"items": made}, status_code=201)


async def delete_dbs(request: Request) -> Response:
    body = await read_json(request)
    reject_unknown(expect_object(body, ""), ("items", "recursive"), "")
    part_of(request, Raw).delete_dbs(_names(body, MAX_DB_NAME), get_bool(body, "recursive"))
    return JSONResponse({})


async def list_tables(request: Request) -> Response:
    return JSONResponse(_page(part_of(request, Raw).list_tables(_db(request)), request))


async def create_tables(request: Request) -> Response:
    body = await read_json(request)
    reject_unknown(expect_object(body, ""), ("items",), "")
    names = _names(body, MAX_TABLE_NAME)
    made = part_of(request, Raw).create_tables(
        _db(request), names, now_of(request), _query_bool(request, "ensureParent")
    )
    return JSONResponse({"items": made}, status_code=201)


async def delete_tables(request: Request) -> Response:
    body = await read_json(request)
    reject_unknown(expect_object(body, ""), ("items",), "")
    part_of(request, Raw).delete_tables(_db(request), _names(body, MAX_TABLE_NAME))
    return JSONResponse({})


async def insert_rows(request: Request) -> Response:
    body = await read_json(request)
    reject_unknown(expect_object(body, ""), ("items",), "")
    rows = []
    for i, item in enumerate(get_items(body, max_items=MAX_ROWS_PER_REQUEST)):
        obj = expect_object(item, f"items[{i}]")
        reject_unknown(obj, ("key", "columns"), f"items[{i}]")
        key = get_str(obj, "key", f"items[{i}]", required=True, max_len=MAX_KEY)
        columns = expect_object(obj.get("columns"), f"items[{i}].columns")
        check_columns(columns, f"items[{i}].columns")
        assert key is not None
        rows.append((key, columns))
    part_of(request, Raw).insert(
        _db(request), _table(request), rows, now_of(request), _query_bool(request, "ensureParent")
    )
    return JSONResponse({})


async def list_rows(request: Request) -> Response:
    limit = query_limit(request, default=25, maximum=10000)
    columns_param = request.query_params.get("columns")
    columns = None
    # "," (what the SDK sends for columns=[]) asks for keys only; an empty value (what its parallel
    # reads send for columns=None) asks for every column.
    if columns_param:
        columns = [c for c in columns_param.split(",") if c]
    page, cursor = part_of(request, Raw).rows(
        _db(request),
        _table(request),
        limit=limit,
        cursor=request.query_params.get("cursor"),
        columns=columns,
        time_range=_time_range(request),
    )
    out: dict[str, Any] = {"items": page}
    if cursor is not None:
        out["nextCursor"] = cursor
    return JSONResponse(out)


async def get_row(request: Request) -> Response:
    key = str(request.path_params["rowKey"])
    return JSONResponse(part_of(request, Raw).row(_db(request), _table(request), key))


async def delete_rows(request: Request) -> Response:
    body = await read_json(request)
    reject_unknown(expect_object(body, ""), ("items",), "")
    keys = []
    for i, item in enumerate(get_items(body, max_items=MAX_ROWS_PER_REQUEST)):
        obj = expect_object(item, f"items[{i}]")
        reject_unknown(obj, ("key",), f"items[{i}]")
        key = get_str(obj, "key", f"items[{i}]", required=True, max_len=MAX_KEY)
        assert key is not None
        keys.append(key)
    part_of(request, Raw).delete_rows(_db(request), _table(request), keys)
    return JSONResponse({})


async def cursors(request: Request) -> Response:
    raw = request.query_params.get("numberOfCursors", "10")
    if not raw.isdigit() or not 1 <= int(raw) <= 10000:
        raise bad_request("numberOfCursors must be an integer from 1 to 10000")
    found = part_of(request, Raw).cursors(_db(request), _table(request), int(raw), _time_range(request))
    return JSONResponse({"items": found})


_T = "/raw/dbs/{dbName}/tables/{tableName}"
routes = [
    Route("/raw/dbs", list_dbs, methods=["GET"]),
    Route("/raw/dbs", create_dbs, methods=["POST"]),
    Route("/raw/dbs/delete", delete_dbs, methods=["POST"]),
    Route("/raw/dbs/{dbName}/tables", list_tables, methods=["GET"]),
    Route("/raw/dbs/{dbName}/tables", create_tables, methods=["POST"]),
    Route("/raw/dbs/{dbName}/tables/delete", delete_tables, methods=["POST"]),
    Route(f"{_T}/cursors", cursors, methods=["GET"]),
    Route(f"{_T}/rows", list_rows, methods=["GET"]),
    Route(f"{_T}/rows", insert_rows, methods=["POST"]),
    Route(f"{_T}/rows/delete", delete_rows, methods=["POST"]),
    Route(f"{_T}/rows/{{rowKey:path}}", get_row, methods=["GET"]),
]
