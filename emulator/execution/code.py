"""Loading a function's zip: unpack it safely, import ``functionPath``, check ``handle``.

Deployment unpacks the zip safely (no absolute or ``..`` paths, a size cap), imports ``functionPath``
in the function's own module namespace (emulator/execution/modules.py: two functions with a
``handler.py`` and a ``helper.py`` each run their own code, and a redeploy runs the new code) and
checks that ``handle`` is callable with only the arguments CDF passes.
"""

from __future__ import annotations

import importlib
import inspect
import io
import os
import stat
import threading
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from emulator.build.environment import BuiltEnvironment, host_environment
from emulator.execution.importer import ImportTimeout, import_function
from emulator.execution.modules import FunctionModules

ALLOWED_HANDLE_ARGS = ("client", "data", "secrets", "function_call_info")
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_ZIP_ENTRIES = 20_000
DEFAULT_IMPORT_SECONDS = 600.0


class DeployError(Exception):
    """A deployment failure, recorded on the function as ``error: {message, trace}``."""

    def __init__(self, message: str, trace: str | None = None, *, cause: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.trace = trace
        self.cause = cause  # the user code's exception type, when importing it failed (SyntaxError)

    def as_error(self) -> dict[str, Any]:
        return {"message": self.message, "trace": self.trace}


class Stoppable(Protocol):
    """What runs a function version's calls elsewhere (its warm worker processes)."""

    def close(self) -> None: ...


@dataclass
class LoadedCode:
    """A deployed function's code: its folder, ``functionPath`` as a module name, its ``handle``."""

    root: Path
    module_name: str  # as the zip names it (``handler``, ``a.b.handler``); the child process imports it
    handle: Callable[..., Any]
    params: tuple[str, ...]
    modules: FunctionModules
    # The version's warm worker processes (isolation="process"), made on its first call.
    workers: Stoppable | None = field(default=None, repr=False, compare=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    released: bool = field(default=False, repr=False, compare=False)
    # What the build step produced (emulator/build/): the interpreter a process-isolated call runs
    # on and the function's own import path; the host's when nothing was built.
    environment: BuiltEnvironment = field(default_factory=host_environment)

    def release(self) -> None:
        """Forget the function's modules and stop its workers (it was deleted or redeployed, or
        the emulator was reset or closed)."""
        self.modules.close()
        with self.lock:
            workers, self.workers, self.released = self.workers, None, True
        if workers is not None:
            workers.close()


# --- unpacking --------------------------------------------------------------------------------------


def unpack_zip(data: bytes, dest: Path, *, max_bytes: int = MAX_UNPACKED_BYTES) -> None:
    """Extract ``data`` into ``dest``, refusing anything that could write outside it; every bad
    archive (corrupt, encrypted, unknown compression, lying sizes, clashing or overlong names) is a
    ``DeployError`` that names the entry."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise DeployError(f"The function file is not a zip archive ({exc})") from None
    with archive:
        infos = archive.infolist()
        _check_entries(infos, dest, max_bytes)
        written = 0
        for info in infos:
            try:
                written = _extract(archive, info, dest, written, max_bytes)
            except DeployError:
                raise
            except Exception as exc:  # zipfile, zlib, bz2, lzma and the file system, each its own way
                raise DeployError(f"Cannot unpack {info.filename!r} from the zip: {_why(exc)}") from None


_COMPRESSIONS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_MAX_NAME_BYTES = 255  # one path component, as Linux file systems allow
_MAX_PATH_CHARS = 1024


def _check_entries(infos: list[zipfile.ZipInfo], dest: Path, max_bytes: int) -> None:
    """Refuse the archive before writing anything: unsafe, unsupported or clashing entries."""
    if len(infos) > MAX_ZIP_ENTRIES:
        raise DeployError(f"The zip has {len(infos)} entries; the limit is {MAX_ZIP_ENTRIES}")
    total = sum(max(info.file_size, 0) for info in infos)
    if total > max_bytes:
        raise DeployError(f"The zip unpacks to {total} bytes; the limit is {max_bytes}")
    dest_resolved = dest.resolve()
    files: set[PurePosixPath] = set()
    folders: set[PurePosixPath] = set()
    for info in infos:
        name = info.filename.replace("\\", "/")
        pure = PurePosixPath(name)
        if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in pure.parts:
            raise DeployError(f"Unsafe path in zip: {info.filename!r}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise DeployError(f"Symbolic links are not allowed in the zip: {info.filename!r}")
        if "\0" in name:
            raise DeployError(f"A name in the zip contains a NUL character: {info.filename!r}")
        if len(name) > _MAX_PATH_CHARS or any(len(p.encode()) > _MAX_NAME_BYTES for p in pure.parts):
            raise DeployError(
                f"A name in the zip is too long (at most {_MAX_NAME_BYTES} bytes per name and "
                f"{_MAX_PATH_CHARS} characters per path): {_short(info.filename)!r}"
            )
        if info.flag_bits & 0x1:
            raise DeployError(f"Encrypted entries are not supported: {info.filename!r}")
        if info.compress_type not in _COMPRESSIONS:
            raise DeployError(
                f"Unsupported compression method {info.compress_type} for {info.filename!r} "
                "(use stored or deflate)"
            )
        target = (dest / pure).resolve()
        if target != dest_resolved and dest_resolved not in target.parents:
            raise DeployError(f"Unsafe path in zip: {info.filename!r}")
        (folders if info.is_dir() else files).add(pure)
        folders.update(pure.parents)
    clash = sorted(str(p) for p in files & folders)
    if clash:
        raise DeployError(f"The zip has both a file and a folder named {clash[0]!r}")


def _extract(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, written: int, max_bytes: int
) -> int:
    target = dest / PurePosixPath(info.filename.replace("\\", "/"))
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return written
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(info) as src, open(target, "wb") as out:
        while chunk := src.read(1 << 16):
            written += len(chunk)
            if written > max_bytes:  # the header lied about sizes
                raise DeployError(f"The zip unpacks to more than {max_bytes} bytes")
            out.write(chunk)
    if target.stat().st_size != info.file_size:  # zipfile checks the CRC, not every size
        raise DeployError(
            f"Cannot unpack {info.filename!r} from the zip: its data does not match the size in its header"
        )
    return written


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, zipfile.BadZipFile):
        return f"the zip is corrupt ({text})"
    return f"{type(exc).__name__}: {text}"


def _short(name: str) -> str:
    return name if len(name) <= 80 else name[:77] + "..."


def module_name_of(root: Path, function_path: str) -> str:
    """``functionPath`` as a module name (``a/b/handler.py`` -> ``a.b.handler``), checked."""
    rel = PurePosixPath(function_path)
    if rel.is_absolute() or ".." in rel.parts or rel.suffix != ".py":
        raise DeployError(f"functionPath must be a relative path to a .py file, got {function_path!r}")
    if not (root / rel).is_file():
        raise DeployError(f"No file at functionPath {function_path!r} in the function's zip")
    if not all(part.isidentifier() for part in rel.with_suffix("").parts):
        raise DeployError(f"functionPath {function_path!r} is not importable as a Python module")
    return ".".join(rel.with_suffix("").parts)


def load_code(
    root: Path,
    function_path: str,
    environment: BuiltEnvironment | None = None,
    sources: dict[str, str] | None = None,
    *,
    env_vars: dict[str, str] | None = None,
    timeout: float = DEFAULT_IMPORT_SECONDS,
) -> LoadedCode:
    """Import ``function_path`` from an unpacked function folder and check its ``handle``.

    ``environment``: what the build step produced; its ``site_packages`` join the function's
    private import path (emulator/execution/modules.py). ``sources`` names snapshot files after the
    user's own (emulator/execution/sources.py); the import sees ``env_vars`` and may take
    ``timeout`` seconds (emulator/execution/importer.py)."""
    root = root.resolve()
    module_name = module_name_of(root, function_path)
    environment = environment or host_environment()
    modules = FunctionModules(root, environment.site_packages, sources)
    try:
        return _checked(modules, module_name, function_path, environment, env_vars or {}, timeout)
    except BaseException:
        modules.close()
        raise


def _checked(
    modules: FunctionModules,
    module_name: str,
    function_path: str,
    environment: BuiltEnvironment,
    env_vars: dict[str, str],
    timeout: float,
) -> LoadedCode:
    try:
        module = import_function(modules, module_name, env_vars, timeout)
    except ImportTimeout as exc:
        raise DeployError(f"Importing {function_path} {exc}") from None
    except BaseException as exc:  # user code: SyntaxError, ImportError, SystemExit, ...
        raise DeployError(
            f"Failed to import {function_path}: {type(exc).__name__}: {exc}",
            user_trace(exc),
            cause=type(exc).__name__,
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
    return LoadedCode(modules.root, module_name, handle, tuple(parameters), modules, environment=environment)


def _not_user_code(filename: str) -> bool:
    """The emulator's own frames and Python's import machinery, which lead up to user code."""
    if filename.startswith("<frozen "):
        return True
    path = os.path.abspath(filename)
    return path.startswith(_EMULATOR_DIR) or path.startswith(_IMPORTLIB_DIR)


_EMULATOR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_IMPORTLIB_DIR = os.path.dirname(os.path.abspath(importlib.__file__)) + os.sep


def user_trace(exc: BaseException) -> str:
    """The traceback of user code only: the emulator's frames and Python's import machinery (which
    sit between a module and the module it imports) are dropped, as CDF shows a user's trace."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _not_user_code(f.filename)]
    head = "Traceback (most recent call last):\n" if frames else ""
    body = "".join(traceback.format_list(frames))
    return head + body + "".join(traceback.format_exception_only(type(exc), exc))
