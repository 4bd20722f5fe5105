"""Files: the part of the CDF Files API that ``functions.create`` uses, plus download links.

The upload URL points back at the emulator, and a file is marked uploaded before the PUT is
answered, so the SDK's "wait until uploaded" poll never sleeps.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import CogniteAPIError, bad_request, not_found
from emulator.openapi import check_component
from emulator.resources.common import emulator_of, project_of, store_of
from emulator.state import FileRecord, Store
from emulator.validation import (
    expect_object,
    get_bool,
    get_id,
    get_items,
    get_str,
    get_str_dict,
    parse_identifier,
    path_id,
    read_body,
    read_json,
    reject_unknown,
)

MAX_UPLOAD_BYTES = 200 * 1024 * 1024

_CREATE_FIELDS = (
    "externalId", "name", "directory", "source", "mimeType", "metadata", "assetIds", "dataSetId",
    "sourceCreatedTime", "sourceModifiedTime", "securityCategories", "labels", "geoLocation",
)  # fmt: skip
_PASSTHROUGH = tuple(f for f in _CREATE_FIELDS if f not in ("externalId", "name"))


def file_json(record: FileRecord) -> dict[str, Any]:
    out: dict[str, Any] = {"id": record.id, "name": record.name}
    if record.external_id is not None:
        out["externalId"] = record.external_id
    out.update(record.extra)
    out["uploaded"] = record.uploaded
    if record.uploaded_time is not None:
        out["uploadedTime"] = record.uploaded_time
    out["createdTime"] = record.created_time
    out["lastUpdatedTime"] = record.last_updated_time
    return out


def _upload_url(request: Request, project: str, file_id: int) -> str:
    """The file's content URL; signed under strict auth, since the SDK sends no token to it."""
    base = str(request.base_url).rstrip("/")
    url = f"{base}/api/v1/projects/{project}/files/{file_id}/content"
    return emulator_of(request).auth.signed(url, project, file_id)


def _lookup(store: Store, key: tuple[str, Any]) -> FileRecord | None:
    kind, value = key
    if kind == "id":
        return store.files.get(value)
    return store.file_by_external_id(value)


def _resolve_many(store: Store, items: list[Any], *, ignore_unknown: bool) -> list[FileRecord]:
    keys = [parse_identifier(item, f"items[{i}]") for i, item in enumerate(items)]
    found: dict[int, FileRecord] = {}
    missing: list[dict[str, Any]] = []
    for key in keys:
        record = _lookup(store, key)
        if record is None:
            missing.append({key[0]: key[1]})
        else:
            found.setdefault(record.id, record)
    if missing and not ignore_unknown:
        raise not_found(missing, "Files not found")
    return list(found.values())


async def create_file(request: Request) -> Response:
    emu, store = emulator_of(request), store_of(request)
    body = expect_object(await read_json(request), "")
    reject_unknown(body, _CREATE_FIELDS, "")
    check_component("ExternalFilesMetadata", body)  # geoLocation, labels, ...: the official schema decides
    name = get_str(body, "name", required=True, min_len=1, max_len=256)
    external_id = get_str(body, "externalId", min_len=1, max_len=255)
    get_str(body, "directory", max_len=512)
    get_str(body, "source", max_len=128)
    get_str(body, "mimeType", max_len=256)
    get_str_dict(body, "metadata", max_items=256, key_max=128, value_max=10240)
    get_id(body, "dataSetId")
    overwrite = request.query_params.get("overwrite", "false").lower() == "true"
    now = emu.clock.now_ms()
    extra = {k: body[k] for k in _PASSTHROUGH if body.get(k) is not None}
    with emu.backend.lock:
        existing = store.file_by_external_id(external_id) if external_id else None
        if existing is not None and not overwrite:
            raise CogniteAPIError(409, "Duplicate external ids", duplicated=[{"externalId": external_id}])
        if existing is not None:
            existing.name, existing.extra, existing.content = name or existing.name, extra, None
            existing.uploaded_time, existing.last_updated_time = None, now
            record = existing
        else:
            record = FileRecord(emu.backend.new_id(), name or "", external_id, now, now, extra)
            store.files[record.id] = record
        out = file_json(record)
    out["uploadUrl"] = _upload_url(request, project_of(request), record.id)
    return JSONResponse(out, status_code=201)


async def upload_link(request: Request) -> Response:
    store = store_of(request)
    items = get_items(await read_json(request), max_items=1)
    found = _resolve_many(store, items, ignore_unknown=False)
    out = []
    for record in found:
        item = file_json(record)
        item["uploadUrl"] = _upload_url(request, project_of(request), record.id)
        out.append(item)
    return JSONResponse({"items": out})


async def upload_content(request: Request) -> Response:
    emu, store = emulator_of(request), store_of(request)
    file_id = path_id(request.path_params["file_id"], "file id")
    raw = await read_body(request, limit=MAX_UPLOAD_BYTES)
    with emu.backend.lock:
        record = store.files.get(file_id)
        if record is None:
            raise not_found([{"id": file_id}], "File not found")
        now = emu.clock.now_ms()
        record.content, record.uploaded_time, record.last_updated_time = raw, now, now
    return Response(status_code=200)


async def download_content(request: Request) -> Response:
    store = store_of(request)
    file_id = path_id(request.path_params["file_id"], "file id")
    record = store.files.get(file_id)
    if record is None:
        raise not_found([{"id": file_id}], "File not found")
    if record.content is None:
        raise bad_request(f"File {file_id} has no content yet: upload it first")
    media = record.extra.get("mimeType") or "application/octet-stream"
    return Response(record.content, media_type=media)


async def by_ids(request: Request) -> Response:
    body = await read_json(request)
    items = get_items(body, max_items=1000)
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    ignore = get_bool(body, "ignoreUnknownIds")
    found = _resolve_many(store_of(request), items, ignore_unknown=ignore)
    return JSONResponse({"items": [file_json(r) for r in found]})


async def retrieve(request: Request) -> Response:
    file_id = path_id(request.path_params["file_id"], "file id")
    record = store_of(request).files.get(file_id)
    if record is None:
        raise not_found([{"id": file_id}], "File not found")
    return JSONResponse(file_json(record))


async def delete(request: Request) -> Response:
    emu, store = emulator_of(request), store_of(request)
    body = await read_json(request)
    items = get_items(body, max_items=1000)
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    ignore = get_bool(body, "ignoreUnknownIds")
    with emu.backend.lock:
        for record in _resolve_many(store, items, ignore_unknown=ignore):
            store.files.pop(record.id, None)
    return JSONResponse({})


async def download_link(request: Request) -> Response:
    store = store_of(request)
    items = get_items(await read_json(request), max_items=100)
    found = _resolve_many(store, items, ignore_unknown=False)
    out = []
    for item, record in zip(items, found, strict=False):
        link = {"downloadUrl": _upload_url(request, project_of(request), record.id)}
        link.update({k: v for k, v in item.items() if k in ("id", "externalId")})
        out.append(link)
    return JSONResponse({"items": out})


routes = [
    Route("/files", create_file, methods=["POST"]),
    Route("/files/uploadlink", upload_link, methods=["POST"]),
    Route("/files/byids", by_ids, methods=["POST"]),
    Route("/files/delete", delete, methods=["POST"]),
    Route("/files/downloadlink", download_link, methods=["POST"]),
    Route("/files/{file_id:int}/content", upload_content, methods=["PUT"]),
    Route("/files/{file_id:int}/content", download_content, methods=["GET"]),
    Route("/files/{file_id:int}", retrieve, methods=["GET"]),
]
