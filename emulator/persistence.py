"""State dumps (GET /_emulator/state, emu.state()) and the dev server's state file.

A state file is JSON: ``{"format": "cdf-functions-emulator/1", "clock_ms", "ids_issued", "projects"}``;
function code travels as its zip (base64, from the Files store) and is redeployed on load.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import tempfile
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Protocol

import emulator.cron as cron
from emulator.clock import to_epoch_ms
from emulator.context import Context
from emulator.resources import families
from emulator.resources.functions.domain import deploy
from emulator.state import CallRecord, FileRecord, FunctionRecord, ScheduleRecord, SessionRecord
from emulator.state_check import StateContentError, check_state

FORMAT = "cdf-functions-emulator/1"


class StateFileError(Exception):
    """A state file that cannot be loaded; the file is left untouched."""


class HasContext(Protocol):
    """Anything that carries an emulator's context (``FunctionsEmulator`` does)."""

    @property
    def context(self) -> Context: ...


def _context(target: Context | HasContext) -> Context:
    return target if isinstance(target, Context) else target.context


def _record(obj: Any, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj) if f.name not in drop}


MASK = "***"
_URL_CREDENTIALS = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)([^/@]*)@")


def mask_url(url: Any) -> Any:
    """``https://user:password@host/...`` -> ``https://user:***@host/...`` (a token alone: ``***@``)."""
    if not isinstance(url, str):
        return url
    match = _URL_CREDENTIALS.match(url)
    if match is None:
        return url
    user, sep, _ = match.group(2).partition(":")
    userinfo = f"{user}:{MASK}" if sep else MASK
    return match.group(1) + userinfo + "@" + url[match.end() :]


def _masked_function(item: dict[str, Any]) -> dict[str, Any]:
    item["secrets"] = {key: MASK for key in item.get("secrets") or {}}
    item["index_url"] = mask_url(item.get("index_url"))
    if item.get("extra_index_urls"):
        item["extra_index_urls"] = [mask_url(u) for u in item["extra_index_urls"]]
    return item


def dump(
    target: Context | HasContext, *, with_content: bool = False, secrets: bool = False
) -> dict[str, Any]:
    """Every project's state as JSON-ready data (file bytes only when ``with_content``).

    Function secrets, credentials in index URLs and session nonces read ``***`` unless ``secrets``
    (a state file keeps them: it must restore them)."""
    ctx = _context(target)
    projects: dict[str, Any] = {}
    with ctx.backend.lock:
        for name in ctx.backend.projects():
            store = ctx.backend.store(name)
            files = []
            for f in store.files.values():
                item = _record(f, drop=("content",))
                item["uploaded"] = f.uploaded
                if with_content and f.content is not None:
                    item["content_b64"] = base64.b64encode(f.content).decode()
                files.append(item)
            calls = []
            for c in store.calls.values():
                item = c.as_dict()
                item["logs"] = [list(entry) for entry in c.logs]
                calls.append(item)
            projects[name] = {
                "files": files,
                "sessions": [
                    asdict(s) if secrets else {**asdict(s), "nonce": MASK} for s in store.sessions.values()
                ],
                "functions": [
                    item if secrets else _masked_function(item)
                    for item in (_record(f, drop=("code", "code_dir")) for f in store.functions.values())
                ],
                "calls": calls,
                "schedules": [asdict(s) for s in store.schedules.values()],
                # The other resource families (RAW, assets, time series, ...), by part name.
                "parts": {part.name: part.dump() for part in list(store.parts.values())},
            }
    return {
        "format": FORMAT,
        "clock_ms": ctx.clock.now_ms(),
        "clock_mode": ctx.clock.mode,
        "projects": projects,
    }


def save(target: Context | HasContext, path: str | Path) -> None:
    """Write the state file atomically: a crash or a full disk never leaves half a file, and a
    failed write leaves no temporary file behind (the error propagates: OSError, TypeError, ...)."""
    ctx = _context(target)
    data = dump(ctx, with_content=True, secrets=True)
    data["ids_issued"] = ctx.ids.issued
    data["id_seed"] = ctx.ids.seed
    text = json.dumps(data, allow_nan=False)  # before any file exists: unserialisable state fails clean
    file = Path(path)
    fd, tmp = tempfile.mkstemp(dir=file.parent if str(file.parent) else ".", prefix=".state-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())  # the rename must not land before the bytes (power loss)
        os.replace(tmp, file)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_writable(path: str | Path) -> None:
    """StateFileError unless ``path`` can be written (checked at start, not at the first save)."""
    target = Path(path)
    folder = target.resolve().parent
    if not folder.is_dir():
        raise StateFileError(f"the folder of the state file {path} does not exist")
    if target.exists() and (not target.is_file() or not os.access(target, os.W_OK)):
        raise StateFileError(f"the state file {path} is not a writable file")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".state-probe-")
    except OSError as exc:
        raise StateFileError(f"the folder {folder} is not writable: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)


def load(target: Context | HasContext, path: str | Path, *, restore_clock: bool = True) -> None:
    """Load a state file into an empty emulator; raises StateFileError with a clear message.

    A virtual clock is set to the saved time (``restore_clock=False`` keeps its own start, if later);
    wall and system clocks keep following real time.
    """
    ctx = _context(target)
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise StateFileError(f"Cannot read state file {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateFileError(
            f"{path} is not a {FORMAT} state file (format: {data.get('format') if isinstance(data, dict) else None!r})"
        )
    try:
        check_state(data, ctx.ids)
    except StateContentError as exc:
        raise StateFileError(f"State file {path} is not valid: {exc}") from None
    try:
        _restore(ctx, data, restore_clock)
    except Exception as exc:  # any shape we did not write (lists for dicts, missing keys, bad base64, ...)
        ctx.reset()
        raise StateFileError(f"State file {path} is corrupt: {type(exc).__name__}: {exc}") from None


def _restore(ctx: Context, data: dict[str, Any], restore_clock: bool) -> None:
    saved_ms = to_epoch_ms(int(data["clock_ms"]))  # also checks the range
    if ctx.clock.mode == "virtual":
        if restore_clock:  # a fresh emulator: nothing has happened at its own start time yet
            ctx.clock.restore(saved_ms)
        else:
            ctx.clock.push_to(saved_ms)
    for name, project in data["projects"].items():
        store = ctx.backend.store(name)
        for item in project["files"]:
            content = base64.b64decode(item.pop("content_b64")) if "content_b64" in item else None
            item.pop("uploaded", None)
            store.files[item["id"]] = FileRecord(**item, content=content)
        for item in project["sessions"]:
            session = SessionRecord(**item)
            store.sessions[session.id] = session
            store.nonces[session.nonce] = session.id
        for item in project["functions"]:
            fn = FunctionRecord(**item)
            store.functions[fn.id] = fn
            if fn.status == "Ready":
                deploy(ctx, store, fn)
        for item in project["calls"]:
            item["logs"] = [tuple(entry) for entry in item["logs"]]
            call = CallRecord.of(**item)
            if call.status == "Running":  # the process that ran it is gone
                call.status, call.error = (
                    "Failed",
                    {"message": "The emulator restarted during the call", "trace": None},
                )
            store.add_call(call)
        for item in project["schedules"]:
            schedule = ScheduleRecord(**item)
            store.schedules[schedule.id] = schedule
            compiled = cron.parse(schedule.cron_expression)
            ctx.schedules.add_after_now(name, schedule.id, compiled.iter_after, compiled)
        known = families.parts()
        for part_name, part_data in (project.get("parts") or {}).items():
            if part_name not in known:
                raise StateFileError(f"project {name!r}: unknown resource family {part_name!r}")
            store.part(known[part_name]).load(part_data)
    ctx.ids.restore(int(data.get("ids_issued", 0)))
