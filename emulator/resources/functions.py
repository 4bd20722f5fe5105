"""Functions: create (with a real deployment of the zip), list, byids, retrieve, delete, limits, status."""

from __future__ import annotations

import re
import shutil
import sys
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import CogniteAPIError, bad_request, not_found
from emulator.resources.common import emulator_of, project_of, store_of
from emulator.runtime import DeployError, load_code, unpack_zip
from emulator.state import FunctionRecord, Store
from emulator.validation import (
    expect_object,
    get_bool,
    get_id,
    get_items,
    get_limit,
    get_number,
    get_str,
    get_str_dict,
    get_time_range,
    in_range,
    parse_identifier,
    path_id,
    query_limit,
    read_json,
    reject_duplicates,
    reject_unknown,
)

if TYPE_CHECKING:
    from emulator.emulator import FunctionsEmulator

RUNTIMES = ("py310", "py311", "py312", "py313")
STATUSES = ("Queued", "Deploying", "Ready", "Failed")
_SECRET_KEY = re.compile(r"^[a-z0-9-]{1,15}$")
_ENV_KEY = re.compile(r"^[A-Za-z0-9_]+$")
_RESERVED_SECRETS = ("token", "indexUrl", "extraIndexUrls")
_CREATE_FIELDS = (
    "name", "externalId", "description", "owner", "fileId", "functionPath", "secrets", "envVars", "cpu",
    "memory", "runtime", "metadata", "indexUrl", "extraIndexUrls",
)  # fmt: skip
_FILTER_FIELDS = ("name", "owner", "fileId", "status", "externalIdPrefix", "createdTime", "metadata")


def function_json(fn: FunctionRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": fn.id,
        "name": fn.name,
        "fileId": fn.file_id,
        "functionPath": fn.function_path,
        "createdTime": fn.created_time,
        "status": fn.status,
        "cpu": fn.cpu,
        "memory": fn.memory,
        "runtime": fn.runtime,
        "runtimeVersion": _runtime_version(fn.runtime),
        "envVars": dict(fn.env_vars),
    }
    optional = {
        "externalId": fn.external_id,
        "description": fn.description,
        "owner": fn.owner,
        "metadata": fn.metadata,
        # indexUrl / extraIndexUrls are write-only in the spec (they may carry credentials).
        "error": fn.error,
        "lastCalled": fn.last_called,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    if fn.secrets:
        out["secrets"] = {k: "***" for k in fn.secrets}
    return out


def _runtime_version(runtime: str) -> str:
    return f"Python 3.{runtime[3:]}" + (
        f".{sys.version_info.micro}" if runtime == f"py3{sys.version_info.minor}" else ""
    )


# --- validation -----------------------------------------------------------------------------------


def _parse_create(emu: FunctionsEmulator, item: Any) -> dict[str, Any]:
    where = "items[0]"
    obj = expect_object(item, where)
    reject_unknown(obj, _CREATE_FIELDS, where)
    spec: dict[str, Any] = {
        "name": get_str(obj, "name", where, required=True, min_len=1, max_len=140),
        "external_id": get_str(obj, "externalId", where, min_len=1, max_len=255),
        "description": get_str(obj, "description", where, max_len=500),
        "owner": get_str(obj, "owner", where, max_len=128),
        "file_id": get_id(obj, "fileId", where, required=True),
        "function_path": get_str(obj, "functionPath", where, min_len=1, max_len=500) or "handler.py",
        "index_url": get_str(obj, "indexUrl", where, max_len=2000),
    }
    secrets = get_str_dict(obj, "secrets", where, max_items=30) or {}
    for key, value in secrets.items():
        if key in _RESERVED_SECRETS:
            raise bad_request(f"{where}.secrets: the key {key!r} is reserved")
        if not _SECRET_KEY.match(key):
            raise bad_request(
                f"{where}.secrets: key {key[:40]!r} must be 1-15 lowercase letters, digits or dashes"
            )
        if len(key.encode()) + len(value.encode()) > 25 * 1024:
            raise bad_request(f"{where}.secrets.{key}: name and value together exceed 25 kB")
    spec["secrets"] = secrets
    env_vars = get_str_dict(obj, "envVars", where, max_items=100) or {}
    for key in env_vars:
        if not _ENV_KEY.match(key):
            raise bad_request(
                f"{where}.envVars: key {key[:40]!r} may contain only letters, digits and underscores"
            )
    spec["env_vars"] = env_vars
    spec["metadata"] = get_str_dict(
        obj, "metadata", where, max_items=16, key_max=32, value_max=512, total_max=4096
    )
    limits = emu.limits
    for key, (low, high, default) in (("cpu", limits.cpu), ("memory", limits.memory)):
        value = get_number(obj, key, where)
        if value is not None and not low <= value <= high:
            raise bad_request(f"{where}.{key} must be between {low} and {high}, got {value}")
        spec[key] = default if value is None else value
    runtime = get_str(obj, "runtime", where) or "py313"
    if runtime not in RUNTIMES:
        raise bad_request(f"{where}.runtime must be one of {', '.join(RUNTIMES)}, got {runtime[:40]!r}")
    spec["runtime"] = runtime
    extra = obj.get("extraIndexUrls")
    if extra is not None and (not isinstance(extra, list) or not all(isinstance(u, str) for u in extra)):
        raise bad_request(f"{where}.extraIndexUrls must be an array of strings")
    spec["extra_index_urls"] = extra
    return spec


# --- deployment -----------------------------------------------------------------------------------


def deploy(emu: FunctionsEmulator, store: Store, fn: FunctionRecord) -> None:
    """Queued -> Deploying -> Ready | Failed: unpack the zip and import ``functionPath``."""
    with emu.backend.lock:
        fn.status = "Deploying"
        file = store.files.get(fn.file_id)
        content = file.content if file is not None else None
    code_dir = emu.workdir / "functions" / f"{fn.id}"
    try:
        if content is None:
            raise DeployError(
                f"File {fn.file_id} has no content: upload the zip before creating the function"
            )
        shutil.rmtree(code_dir, ignore_errors=True)
        code_dir.mkdir(parents=True)
        unpack_zip(content, code_dir, max_bytes=emu.limits.max_unpacked_bytes)
        code = load_code(code_dir, fn.function_path)
    except DeployError as exc:
        shutil.rmtree(code_dir, ignore_errors=True)
        with emu.backend.lock:
            fn.status, fn.error = "Failed", exc.as_error()
        return
    with emu.backend.lock:
        fn.code, fn.code_dir, fn.status = code, code_dir, "Ready"


def create_function(emu: FunctionsEmulator, project: str, item: Any) -> FunctionRecord:
    """Validate, store and deploy one function (shared by the route and FunctionsEmulator.deploy)."""
    spec = _parse_create(emu, item)
    store = emu.backend.store(project)
    with emu.backend.lock:
        if spec["external_id"] is not None and store.function_by_external_id(spec["external_id"]):
            raise CogniteAPIError(409, "Function with this external id already exists",
                                  duplicated=[{"externalId": spec["external_id"]}])  # fmt: skip
        if spec["file_id"] not in store.files:
            raise not_found([{"id": spec["file_id"]}], f"File {spec['file_id']} not found")
        fn = FunctionRecord(id=emu.backend.new_id(), created_time=emu.clock.now_ms(), **spec)
        store.functions[fn.id] = fn
    deploy(emu, store, fn)
    return fn


# --- lookups ---------------------------------------------------------------------------------------


def get_function(store: Store, function_id: int) -> FunctionRecord:
    fn = store.functions.get(function_id)
    if fn is None:
        raise not_found([{"id": function_id}], f"Function {function_id} not found")
    return fn


def _resolve(store: Store, items: list[Any], *, ignore_unknown: bool) -> list[FunctionRecord]:
    keys = [parse_identifier(item, f"items[{i}]") for i, item in enumerate(items)]
    reject_duplicates(keys)
    found: list[FunctionRecord] = []
    missing: list[dict[str, Any]] = []
    for kind, value in keys:
        fn = store.functions.get(value) if kind == "id" else store.function_by_external_id(value)
        if fn is None:
            # Live CDF reports a missing external id in snake case.
            missing.append({"id": value} if kind == "id" else {"external_id": value})
        else:
            found.append(fn)
    if missing and not ignore_unknown:
        raise not_found(missing, "Functions not found")
    return found


def _matches(fn: FunctionRecord, flt: dict[str, Any]) -> bool:
    if "name" in flt and fn.name != flt["name"]:
        return False
    if "owner" in flt and fn.owner != flt["owner"]:
        return False
    if "fileId" in flt and fn.file_id != flt["fileId"]:
        return False
    if "status" in flt and fn.status != flt["status"]:
        return False
    if "externalIdPrefix" in flt and not (fn.external_id or "").startswith(flt["externalIdPrefix"]):
        return False
    if not in_range(fn.created_time, flt.get("createdTime")):
        return False
    wanted = flt.get("metadata")
    return not wanted or all((fn.metadata or {}).get(k) == v for k, v in wanted.items())


def _parse_filter(raw: Any) -> dict[str, Any]:
    flt = expect_object(raw, "filter")
    reject_unknown(flt, _FILTER_FIELDS, "filter")
    out: dict[str, Any] = {}
    for key, (low, high) in (("name", (1, 140)), ("owner", (0, 128)), ("externalIdPrefix", (0, 255))):
        value = get_str(flt, key, "filter", min_len=low, max_len=high)
        if value is not None:
            out[key] = value
    if (file_id := get_id(flt, "fileId", "filter")) is not None:
        out["fileId"] = file_id
    if (status := get_str(flt, "status", "filter")) is not None:
        if status not in STATUSES:
            raise bad_request(f"filter.status must be one of {', '.join(STATUSES)}")
        out["status"] = status
    if (created := get_time_range(flt, "createdTime", "filter")) is not None:
        out["createdTime"] = created
    if (metadata := get_str_dict(flt, "metadata", "filter")) is not None:
        out["metadata"] = metadata
    return out


# --- routes ----------------------------------------------------------------------------------------


async def create(request: Request) -> Response:
    emu, project = emulator_of(request), project_of(request)
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items",), "")
    items = get_items(body, max_items=1)
    fn = await run_in_threadpool(create_function, emu, project, items[0])
    return JSONResponse({"items": [function_json(fn)]}, status_code=201)


def _listed(store: Store, flt: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    fns = sorted(list(store.functions.values()), key=lambda f: f.id)
    return [function_json(f) for f in fns if _matches(f, flt)][:limit]


async def list_get(request: Request) -> Response:
    limit = query_limit(request)
    return JSONResponse({"items": _listed(store_of(request), {}, limit)})


async def list_post(request: Request) -> Response:
    body = expect_object(await read_json(request, allow_empty=True), "")
    reject_unknown(body, ("filter", "limit"), "")
    flt = _parse_filter(body.get("filter", {}))
    return JSONResponse({"items": _listed(store_of(request), flt, get_limit(body))})


async def by_ids(request: Request) -> Response:
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    items = get_items(body, max_items=10)
    found = _resolve(store_of(request), items, ignore_unknown=get_bool(body, "ignoreUnknownIds"))
    return JSONResponse({"items": [function_json(f) for f in found]})


async def retrieve(request: Request) -> Response:
    fn = get_function(store_of(request), path_id(request.path_params["function_id"], "functionId"))
    return JSONResponse(function_json(fn))


def delete_functions(emu: FunctionsEmulator, store: Store, functions: list[FunctionRecord]) -> None:
    """Delete functions with their schedules and calls, and forget their code."""
    with emu.backend.lock:
        doomed = {f.id for f in functions}
        for fn in functions:
            store.functions.pop(fn.id, None)
        for sid in [s.id for s in store.schedules.values() if s.function_id in doomed]:
            del store.schedules[sid]
        for cid in [c.id for c in store.calls.values() if c.function_id in doomed]:
            del store.calls[cid]
    emu._schedules_changed(store.project)
    for fn in functions:
        if fn.code_dir is not None:
            shutil.rmtree(fn.code_dir, ignore_errors=True)


async def delete(request: Request) -> Response:
    emu, store = emulator_of(request), store_of(request)
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    items = get_items(body, max_items=10)
    with emu.backend.lock:
        found = _resolve(store, items, ignore_unknown=get_bool(body, "ignoreUnknownIds"))
        delete_functions(emu, store, found)
    return JSONResponse({})


async def limits(request: Request) -> Response:
    return JSONResponse(emulator_of(request).limits.as_json())


async def get_status(request: Request) -> Response:
    return JSONResponse({"status": store_of(request).functions_status})


async def activate(request: Request) -> Response:
    store = store_of(request)
    store.functions_status = "activated"
    return JSONResponse({"status": store.functions_status}, status_code=202)


routes = [
    Route("/functions", list_get, methods=["GET"]),
    Route("/functions", create, methods=["POST"]),
    Route("/functions/list", list_post, methods=["POST"]),
    Route("/functions/byids", by_ids, methods=["POST"]),
    Route("/functions/delete", delete, methods=["POST"]),
    Route("/functions/limits", limits, methods=["GET"]),
    Route("/functions/status", get_status, methods=["GET"]),
    Route("/functions/status", activate, methods=["POST"]),
]

# Registered after every other /functions/... route (schedules included) so fixed paths win.
routes_by_id = [Route("/functions/{function_id:int}", retrieve, methods=["GET"])]
