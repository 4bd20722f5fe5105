"""Files routes: parse -> domain -> wire. Upload and download URLs point back at the emulator.

A file is marked uploaded as soon as its content PUT (or multipart completion) is answered, so the
SDK's "wait until uploaded" poll never sleeps.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import bad_request
from emulator.resources.assets.domain import Assets
from emulator.resources.classic import list_page, query_of, ranges_from_query, read_request, search
from emulator.resources.common import context_of, ids_of, now_of, part_of, project_of, store_of
from emulator.resources.files import domain
from emulator.resources.files.wire import CREATE_FIELDS, content_url, part_url, to_wire
from emulator.validation import get_limit, path_id, read_body, reject_unknown

MAX_UPLOAD_BYTES = 200 * 1024 * 1024  # per PUT (a whole file, or one part of a multipart upload)


def _base(request: Request) -> str:
    return str(request.base_url)


def _signed(request: Request, url: str, file_id: int) -> str:
    """A content or part URL; signed under strict auth, since the SDK sends no token to it."""
    return context_of(request).auth.signed(url, project_of(request), file_id)


def _parts(request: Request) -> domain.FileUploads:
    return part_of(request, domain.FileUploads)


async def _new_file(request: Request, operation_id: str) -> tuple[dict[str, Any], Any]:
    body = await read_request(request, operation_id)
    reject_unknown(body, CREATE_FIELDS, "")
    query = query_of(request, operation_id)
    record = domain.create(
        store_of(request),
        _parts(request),
        body,
        overwrite=bool(query.get("overwrite", False)),
        ids=ids_of(request),
        now=now_of(request),
    )
    return query, record


async def create_file(request: Request) -> Response:
    _, record = await _new_file(request, "initFileUpload")
    out = to_wire(record)
    out["uploadUrl"] = _signed(
        request, content_url(_base(request), project_of(request), record.id), record.id
    )
    return JSONResponse(out, status_code=201)


def _multipart_answer(request: Request, record: Any, parts: int) -> dict[str, Any]:
    upload_id = domain.start_multipart(_parts(request), record, parts)
    out = to_wire(record)
    out["uploadId"] = upload_id
    out["uploadUrls"] = [
        _signed(request, part_url(_base(request), project_of(request), record.id, upload_id, i), record.id)
        for i in range(parts)
    ]
    return out


def _parts_query(request: Request, operation_id: str) -> int:
    parts = query_of(request, operation_id).get("parts")
    if parts is None:
        raise bad_request("parts (1..250) is required")
    return int(parts)


async def init_multipart(request: Request) -> Response:
    parts = _parts_query(request, "initMultiPartUpload")
    _, record = await _new_file(request, "initMultiPartUpload")
    return JSONResponse(_multipart_answer(request, record, parts), status_code=201)


async def multipart_upload_link(request: Request) -> Response:
    parts = _parts_query(request, "getMultiPartUploadLink")
    body = await read_request(request, "getMultiPartUploadLink")
    (record,) = domain.resolve(store_of(request), body["items"])
    return JSONResponse({"items": [_multipart_answer(request, record, parts)]}, status_code=201)


async def complete_multipart(request: Request) -> Response:
    body = await read_request(request, "completeMultiPartUpload")
    key = {k: body[k] for k in ("id", "externalId") if k in body}
    (record,) = domain.resolve(store_of(request), [key])
    domain.complete_multipart(store_of(request), _parts(request), record, body["uploadId"], now_of(request))
    return JSONResponse({})


async def upload_link(request: Request) -> Response:
    body = await read_request(request, "getUploadLink")
    out = []
    for record in domain.resolve(store_of(request), body["items"]):
        item = to_wire(record)
        item["uploadUrl"] = _signed(
            request, content_url(_base(request), project_of(request), record.id), record.id
        )
        out.append(item)
    return JSONResponse({"items": out}, status_code=201)


async def upload_content(request: Request) -> Response:
    file_id = path_id(request.path_params["file_id"], "file id")
    raw = await read_body(request, limit=MAX_UPLOAD_BYTES)
    domain.put_content(store_of(request), _parts(request), file_id, raw, now_of(request))
    return Response(status_code=200)


async def upload_part(request: Request) -> Response:
    file_id = path_id(request.path_params["file_id"], "file id")
    index = int(request.path_params["part"])
    raw = await read_body(request, limit=MAX_UPLOAD_BYTES)
    domain.put_part(_parts(request), file_id, request.path_params["upload_id"], index, raw)
    return Response(status_code=200)


async def download_content(request: Request) -> Response:
    file_id = path_id(request.path_params["file_id"], "file id")
    record = domain.get(store_of(request), file_id)
    if record.content is None:
        raise bad_request(f"File {file_id} has no content yet: upload it first")
    media = record.extra.get("mimeType") or "application/octet-stream"
    return Response(record.content, media_type=media)


async def download_link(request: Request) -> Response:
    body = await read_request(request, "downloadLinks")
    query_of(request, "downloadLinks")
    records = domain.resolve(store_of(request), body["items"])
    out = []
    for item, record in zip(body["items"], records, strict=False):
        if record.content is None:
            raise bad_request(f"File {record.id} has not been uploaded: it has no content to download")
        url = _signed(request, content_url(_base(request), project_of(request), record.id), record.id)
        link: dict[str, Any] = {"downloadUrl": url}
        link.update({k: v for k, v in item.items() if k in ("id", "externalId")})
        out.append(link)
    return JSONResponse({"items": out})


async def by_ids(request: Request) -> Response:
    body = await read_request(request, "byIdsFiles")
    found = domain.resolve(
        store_of(request), body["items"], ignore_unknown=body.get("ignoreUnknownIds", False)
    )
    return JSONResponse({"items": [to_wire(r) for r in found]})


async def retrieve(request: Request) -> Response:
    file_id = path_id(request.path_params["file_id"], "file id")
    return JSONResponse(to_wire(domain.get(store_of(request), file_id)))


async def delete(request: Request) -> Response:
    body = await read_request(request, "deleteFiles")
    ignore = bool(body.get("ignoreUnknownIds", False))
    domain.delete(store_of(request), _parts(request), body["items"], ignore_unknown=ignore)
    return JSONResponse({})


async def update(request: Request) -> Response:
    body = await read_request(request, "updateFiles")
    changed = domain.update(store_of(request), _parts(request), body["items"], now_of(request))
    return JSONResponse({"items": [to_wire(r) for r in changed]})


def _matching(request: Request, flt: dict[str, Any]) -> list[dict[str, Any]]:
    return domain.matching(store_of(request), flt, part_of(request, Assets))


async def list_files(request: Request) -> Response:
    body = await read_request(request, "advancedListFiles")
    return JSONResponse(list_page(_matching(request, body.get("filter") or {}), body))


_QUERY_FILTERS = ("name", "mimeType", "source", "assetIds", "externalIdPrefix", "uploaded")
_QUERY_RANGES = ("createdTime", "lastUpdatedTime", "uploadedTime", "sourceCreatedTime", "sourceModifiedTime")


async def list_files_get(request: Request) -> Response:
    query = query_of(request, "listFiles")
    flt: dict[str, Any] = {k: query[k] for k in _QUERY_FILTERS if k in query}
    if "assetIds" in flt:
        flt["assetIds"] = [path_id(v, "assetIds") for v in flt["assetIds"]]
    for name in ("assetExternalIds",):
        if name in query:
            flt[name] = query[name]
    for name in ("rootAssetIds", "assetSubtreeIds"):
        if name in query:
            flt[name] = [{"id": v} for v in query[name]]
    if "assetSubtreeExternalIds" in query:
        xids = [{"externalId": v} for v in query["assetSubtreeExternalIds"]]
        flt["assetSubtreeIds"] = flt.get("assetSubtreeIds", []) + xids
    if "dataSetIds" in query:
        flt["dataSetIds"] = [{"id": path_id(v, "dataSetIds")} for v in query["dataSetIds"]]
    flt.update(ranges_from_query(query, _QUERY_RANGES))
    return JSONResponse(list_page(_matching(request, flt), query))


async def search_files(request: Request) -> Response:
    body = await read_request(request, "searchFiles", loose=("search",))
    limit = get_limit(body, maximum=1000)
    found = search(_matching(request, body.get("filter") or {}), dict(body.get("search") or {}), limit)
    return JSONResponse({"items": found})


async def aggregate(request: Request) -> Response:
    body = await read_request(request, "aggregateFiles")
    return JSONResponse({"items": [{"count": len(_matching(request, body.get("filter") or {}))}]})


routes = [
    Route("/files", create_file, methods=["POST"]),
    Route("/files", list_files_get, methods=["GET"]),
    Route("/files/list", list_files, methods=["POST"]),
    Route("/files/search", search_files, methods=["POST"]),
    Route("/files/aggregate", aggregate, methods=["POST"]),
    Route("/files/update", update, methods=["POST"]),
    Route("/files/initmultipartupload", init_multipart, methods=["POST"]),
    Route("/files/multiuploadlink", multipart_upload_link, methods=["POST"]),
    Route("/files/completemultipartupload", complete_multipart, methods=["POST"]),
    Route("/files/uploadlink", upload_link, methods=["POST"]),
    Route("/files/byids", by_ids, methods=["POST"]),
    Route("/files/delete", delete, methods=["POST"]),
    Route("/files/downloadlink", download_link, methods=["POST"]),
    Route("/files/{file_id:int}/content/parts/{upload_id}/{part:int}", upload_part, methods=["PUT"]),
    Route("/files/{file_id:int}/content", upload_content, methods=["PUT"]),
    Route("/files/{file_id:int}/content", download_content, methods=["GET"]),
    Route("/files/{file_id:int}", retrieve, methods=["GET"]),
]
