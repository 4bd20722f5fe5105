"""Loading a function's zip: unpack it safely, import ``functionPath``, check ``handle``.

Deployment unpacks the zip safely (no absolute or ``..`` paths, a size cap), imports ``functionPath``
with the zip root on ``sys.path`` and checks that ``handle`` is callable with only the arguments CDF
passes. The modules the function loads from its own folder are kept private to it: they are swapped
into ``sys.modules`` only while its code runs, so two functions with a ``handler.py`` and a
``helper.py`` each run their own code, and a redeploy runs the new code.
"""

from __future__ import annotations

import importlib
import inspect
import io
import os
import stat
import sys
import traceback
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from emulator.execution.process_lock import PROCESS_LOCK as _PROCESS_LOCK

ALLOWED_HANDLE_ARGS = ("client", "data", "secrets", "function_call_info")
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_ZIP_ENTRIES = 20_000


class DeployError(Exception):
    """A deployment failure, recorded on the function as ``error: {message, trace}``."""

    def __init__(self, message: str, trace: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.trace = trace

    def as_error(self) -> dict[str, Any]:
        return {"message": self.message, "trace": self.trace}


@dataclass
class LoadedCode:
    root: Path
    module_name: str
    handle: Callable[..., Any]
    params: tuple[str, ...]
    private_modules: dict[str, ModuleType] = field(default_factory=dict)
    top_names: frozenset[str] = frozenset()


# --- unpacking --------------------------------------------------------------------------------------


def unpack_zip(data: bytes, dest: Path, *, max_bytes: int = MAX_UNPACKED_BYTES) -> None:
    """Extract ``data`` into ``dest``, refusing anything that could write outside it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DeployError("The function file is not a zip archive") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise DeployError(f"The zip has {len(infos)} entries; the limit is {MAX_ZIP_ENTRIES}")
        total = sum(max(info.file_size, 0) for info in infos)
        if total > max_bytes:
            raise DeployError(f"The zip unpacks to {total} bytes; the limit is {max_bytes}")
        dest_resolved = dest.resolve()
        for info in infos:
            name = info.filename.replace("\\", "/")
            pure = PurePosixPath(name)
            if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in pure.parts:
                raise DeployError(f"Unsafe path in zip: {info.filename!r}")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise DeployError(f"Symbolic links are not allowed in the zip: {info.filename!r}")
            target = (dest / pure).resolve()
            if target != dest_resolved and dest_resolved not in target.parents:
                raise DeployError(f"Unsafe path in zip: {info.filename!r}")
        written = 0
        for info in infos:
            target = dest / PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(1 << 16):
                    written += len(chunk)
                    if written > max_bytes:  # the header lied about sizes
                        raise DeployError(f"The zip unpacks to more than {max_bytes} bytes")
                    out.write(chunk)


# --- private module namespaces ---------------------------------------------------------------------


def _top_level_names(root: Path) -> frozenset[str]:
    names = set()
    for entry in root.iterdir():
        if entry.is_dir() and entry.name.isidentifier():
            names.add(entry.name)
        elif entry.suffix in (".py", ".pyc", ".so") and entry.stem.split(".")[0].isidentifier():
            names.add(entry.stem.split(".")[0])
    return frozenset(names)


def _owned(name: str, names: frozenset[str]) -> bool:
    return name.split(".", 1)[0] in names


def _is_under(module: ModuleType, root: Path) -> bool:
    file = getattr(module, "__file__", None)
    if file:
        return str(Path(file).resolve()).startswith(str(root))
    paths = getattr(module, "__path__", None)
    return bool(paths) and any(str(Path(p).resolve()).startswith(str(root)) for p in paths)


@contextmanager
def code_context(code: LoadedCode) -> Iterator[None]:
    """Swap the function's own modules and folder into sys.modules / sys.path while it runs."""
    root = str(code.root)
    with _PROCESS_LOCK:
        shadowed = {n: m for n, m in sys.modules.items() if _owned(n, code.top_names)}
        for name in shadowed:
            del sys.modules[name]
        sys.modules.update(code.private_modules)
        sys.path.insert(0, root)
    try:
        yield
    finally:
        with _PROCESS_LOCK:
            for name, module in list(sys.modules.items()):
                if _owned(name, code.top_names) and _is_under(module, code.root):
                    code.private_modules[name] = module  # keep lazy imports for the next call
                    del sys.modules[name]
            for name, module in shadowed.items():
                sys.modules.setdefault(name, module)
            try:
                sys.path.remove(root)
            except ValueError:
                pass


def load_code(root: Path, function_path: str) -> LoadedCode:
    """Import ``function_path`` from an unpacked function folder and check its ``handle``."""
    root = root.resolve()
    rel = PurePosixPath(function_path)
    if rel.is_absolute() or ".." in rel.parts or rel.suffix != ".py":
        raise DeployError(f"functionPath must be a relative path to a .py file, got {function_path!r}")
    if not (root / rel).is_file():
        raise DeployError(f"No file at functionPath {function_path!r} in the function's zip")
    module_name = ".".join(rel.with_suffix("").parts)
    if not all(part.isidentifier() for part in rel.with_suffix("").parts):
        raise DeployError(f"functionPath {function_path!r} is not importable as a Python module")
    code = LoadedCode(root, module_name, handle=lambda: None, params=(), top_names=_top_level_names(root))
    with code_context(code):
        try:
            module = _import_fresh(module_name)
        except BaseException as exc:  # user code: SyntaxError, ImportError, SystemExit, ...
            raise DeployError(
                f"Failed to import {function_path}: {type(exc).__name__}: {exc}", user_trace(exc)
            ) from None
    handle = getattr(module, "handle", None)
    if handle is None:
        raise DeployError(f"{function_path} must define a function named 'handle'")
    if not callable(handle):
        raise DeployError(f"'handle' in {function_path} is not callable")
    try:
        parameters = inspect.signature(handle).parameters
    except (TypeError, ValueError):
        raise DeployError(f"Cannot read the signature of 'handle' in {function_path}") from None
    # Arguments outside ALLOWED_HANDLE_ARGS do not stop a deployment: CDF deploys such code (only
    # the SDK refuses it, client-side, for folder= and function_handle=) and the call then fails
    # with Python's own TypeError for a required one (see execution.pipeline.arguments).
    code.handle, code.params = handle, tuple(parameters)
    return code


def _import_fresh(module_name: str) -> ModuleType:
    importlib.invalidate_caches()
    return importlib.import_module(module_name)


def _not_user_code(filename: str) -> bool:
    """The emulator's own frames and Python's import machinery, which lead up to user code."""
    if filename.startswith("<frozen "):
        return True
    path = os.path.abspath(filename)
    return path.startswith(_EMULATOR_DIR) or path.startswith(_IMPORTLIB_DIR)


_EMULATOR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_IMPORTLIB_DIR = os.path.dirname(os.path.abspath(importlib.__file__)) + os.sep


def user_trace(exc: BaseException) -> str:
    """The traceback from the first frame of user code (emulator and import machinery dropped)."""
    tb = exc.__traceback__
    while tb is not None and _not_user_code(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))
