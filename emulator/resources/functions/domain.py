"""Functions: the rules of create (validation, external id uniqueness), deployment, lookups, delete.

Shared by the API routes, ``FunctionsEmulator.deploy`` and state files. State changes run under the
backend's lock.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from emulator.build.step import build_and_load
from emulator.changes import CHANGES
from emulator.context import CodeFrom, Context
from emulator.deploy_timing import DeployTiming
from emulator.errors import CogniteAPIError, bad_request, not_found
from emulator.execution.code import DeployError, unpack_zip
from emulator.execution.sources import find_source_folder, source_map
from emulator.state import FunctionRecord, Store
from emulator.validation import (
    expect_object,
    get_id,
    get_number,
    get_str,
    get_str_dict,
    in_range,
    parse_identifier,
    reject_duplicates,
    reject_unknown,
)

RUNTIMES = ("py310", "py311", "py312", "py313")
STATUSES = ("Queued", "Deploying", "Ready", "Failed")
_SECRET_KEY = re.compile(r"^[a-z0-9-]{1,15}$")
_ENV_KEY = re.compile(r"^[A-Za-z0-9_]+$")
_RESERVED_SECRETS = ("token", "indexUrl", "extraIndexUrls")
_CREATE_FIELDS = (
    "name", "externalId", "description", "owner", "fileId", "functionPath", "secrets", "envVars", "cpu",
    "memory", "runtime", "metadata", "indexUrl", "extraIndexUrls",
)  # fmt: skip


def _parse_create(ctx: Context, item: Any) -> dict[str, Any]:
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
    limits = ctx.limits
    for key, (low, high, default) in (("cpu", limits.cpu), ("memory", limits.memory)):
        number = get_number(obj, key, where)
        if number is not None and not low <= number <= high:
            raise bad_request(f"{where}.{key} must be between {low} and {high}, got {number}")
        spec[key] = default if number is None else number
    runtime = get_str(obj, "runtime", where) or "py313"
    if runtime not in RUNTIMES:
        raise bad_request(f"{where}.runtime must be one of {', '.join(RUNTIMES)}, got {runtime[:40]!r}")
    spec["runtime"] = runtime
    extra = obj.get("extraIndexUrls")
    if extra is not None and (not isinstance(extra, list) or not all(isinstance(u, str) for u in extra)):
        raise bad_request(f"{where}.extraIndexUrls must be an array of strings")
    spec["extra_index_urls"] = extra
    return spec


def _stage(ctx: Context, fn: FunctionRecord, timing: DeployTiming | None) -> None:
    """Hold the outcome of a deployment back until the clock reaches it (see DeployTiming)."""
    if timing is None:
        return
    now = ctx.clock.now_ms()
    deploying_at = now + round(timing.queued * 1000)
    done_at = deploying_at + round(timing.deploying * 1000)
    with ctx.backend.lock:
        fn.staged = (deploying_at, done_at, fn.status, fn.error)
        fn.status, fn.error = "Queued", None
        CHANGES.bump()
    settle_one(fn, now)


def settle_one(fn: FunctionRecord, now: int) -> None:
    """Move a staged function to the status its deployment has reached at ``now``."""
    staged = fn.staged
    if staged is None:
        return
    deploying_at, done_at, final_status, final_error = staged
    if now >= done_at:
        fn.status, fn.error, fn.staged = final_status, final_error, None
    elif now >= deploying_at:
        fn.status = "Deploying"
    CHANGES.bump()


def settle(store: Store, now: int) -> None:
    """Settle every staged function of the project (cheap when none is staged)."""
    for fn in list(store.functions.values()):
        if fn.staged is not None:
            settle_one(fn, now)


def deploy(
    ctx: Context,
    store: Store,
    fn: FunctionRecord,
    *,
    source: Path | None = None,
    code_from: CodeFrom | None = None,
) -> None:
    """Queued -> Deploying -> Ready | Failed: unpack the zip, build (requirements, runtime: see
    emulator/build/step.py) and import ``functionPath``.

    ``source`` is the folder the zip was made from, when known; with ``code_from="source"`` (default:
    the emulator's) the code's frames name its files (emulator/execution/sources.py)."""
    with ctx.backend.lock:
        fn.status = "Deploying"
        CHANGES.bump()
        file = store.files.get(fn.file_id)
        content = file.content if file is not None else None
    code_dir = ctx.workdir / "functions" / f"{fn.id}"
    try:
        if content is None:
            raise DeployError(
                f"File {fn.file_id} has no content: upload the zip before creating the function"
            )
        shutil.rmtree(code_dir, ignore_errors=True)
        code_dir.mkdir(parents=True)
        unpack_zip(content, code_dir, max_bytes=ctx.limits.max_unpacked_bytes)
        settings = ctx.settings
        code = build_and_load(
            code_dir,
            fn.function_path,
            mode=settings.requirements,
            isolation=settings.isolation,
            runtime=fn.runtime,
            interpreters=ctx.interpreters,
            cache=settings.build_cache,
            index_url=fn.index_url,
            extra_index_urls=fn.extra_index_urls,
            sources=_sources(ctx, fn, code_dir, source, code_from),
            env_vars=fn.env_vars,
            import_timeout=settings.timeout_seconds,
        )
    except Exception as exc:  # a function never stays Deploying, whatever went wrong
        error = (
            exc
            if isinstance(exc, DeployError)
            else DeployError(f"Deployment failed: {type(exc).__name__}: {exc}")
        )
        shutil.rmtree(code_dir, ignore_errors=True)
        with ctx.backend.lock:
            fn.status, fn.error = "Failed", error.as_error()
            CHANGES.bump()
        return
    with ctx.backend.lock:
        old, fn.code, fn.code_dir, fn.status = fn.code, code, code_dir, "Ready"
        CHANGES.bump()
    if old is not None:
        old.release()


def _sources(
    ctx: Context, fn: FunctionRecord, code_dir: Path, source: Path | None, code_from: CodeFrom | None
) -> dict[str, str] | None:
    if (code_from or ctx.settings.code_from) != "source":
        return None
    folder = source or find_source_folder(code_dir, fn.function_path, ctx.settings.source_roots)
    return source_map(code_dir, folder) if folder is not None else None


def create_function(
    ctx: Context,
    project: str,
    item: Any,
    *,
    timing: DeployTiming | None = None,
    source: Path | None = None,
    code_from: CodeFrom | None = None,
) -> FunctionRecord:
    """Validate, store and deploy one function (shared by the route and FunctionsEmulator.deploy).

    ``timing`` (default: the emulator's ``deploy_timing``) holds the outcome back on the clock;
    ``source`` and ``code_from``: see ``deploy``."""
    spec = _parse_create(ctx, item)
    store = ctx.backend.store(project)
    with ctx.backend.lock:
        if spec["external_id"] is not None and store.function_by_external_id(spec["external_id"]):
            raise CogniteAPIError(409, "Function with this external id already exists",
                                  duplicated=[{"externalId": spec["external_id"]}])  # fmt: skip
        if spec["file_id"] not in store.files:
            raise not_found([{"id": spec["file_id"]}], f"File {spec['file_id']} not found")
        fn = FunctionRecord(id=ctx.ids.new(), created_time=ctx.clock.now_ms(), **spec)
        store.functions[fn.id] = fn
    deploy(ctx, store, fn, source=source, code_from=code_from)
    _stage(ctx, fn, timing if timing is not None else ctx.settings.deploy_timing)
    return fn


def get_function(store: Store, function_id: int) -> FunctionRecord:
    fn = store.functions.get(function_id)
    if fn is None:
        raise not_found([{"id": function_id}], f"Function {function_id} not found")
    return fn


def resolve(store: Store, items: list[Any], *, ignore_unknown: bool) -> list[FunctionRecord]:
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


def matches(fn: FunctionRecord, flt: dict[str, Any]) -> bool:
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


def delete_functions(ctx: Context, store: Store, functions: list[FunctionRecord]) -> None:
    """Delete functions with their schedules and calls, and forget their code."""
    with ctx.backend.lock:
        doomed = {f.id for f in functions}
        for fn in functions:
            store.functions.pop(fn.id, None)
        for sid in [s.id for s in store.schedules.values() if s.function_id in doomed]:
            del store.schedules[sid]
            ctx.schedules.remove(sid)
        for cid in [c.id for c in store.calls.values() if c.function_id in doomed]:
            del store.calls[cid]
    for fn in functions:
        if fn.code is not None:
            fn.code.release()
        if fn.code_dir is not None:
            shutil.rmtree(fn.code_dir, ignore_errors=True)


def listed(store: Store, flt: dict[str, Any], limit: int) -> list[FunctionRecord]:
    fns = sorted(list(store.functions.values()), key=lambda f: f.id)
    return [f for f in fns if matches(f, flt)][:limit]


def activate(store: Store) -> str:
    store.functions_status = "activated"
    return store.functions_status
