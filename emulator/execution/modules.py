"""Each deployed function version has its own modules: a private package, never a global swap.

A deployment gets a private package name (``_cdf_function_<random>``) whose ``__path__`` is the
unpacked folder. The function's modules are imported under it (``handler.py`` becomes
``_cdf_function_<random>.handler``), so two functions with a ``utils.py`` each, or two versions of
one function, never share a ``sys.modules`` entry, and nothing is swapped in and out while calls run
(concurrent calls and deployments of different functions cannot see each other's code).

How ``import utils`` inside the function finds its own ``utils``: every module of the function gets
its own ``__builtins__`` whose ``__import__`` maps the names of the folder's top-level modules and
packages to the private package (CPython looks up ``__import__`` in the builtins of the importing
module's globals). Other imports (the standard library, installed packages) go to the normal import
system and are shared, as in any Python process. A finder on ``sys.meta_path`` serves the private
names only: it looks them up in the function's folder and hands each module the same builtins, so
relative imports, subpackages, folders without ``__init__.py`` and imports inside ``handle()`` all
stay inside the function.

Limits (docs/calls.md): ``importlib.import_module("utils")`` and ``__import__`` called through the
``importlib`` module bypass the mapping (they see the process's modules); a module's ``__name__`` is
its private name.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
import uuid
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

PREFIX = "_cdf_function_"
_real_import = builtins.__import__


def top_level_names(root: Path) -> frozenset[str]:
    """The module and package names a function folder provides at its top level."""
    names = set()
    for entry in root.iterdir():
        if entry.is_dir() and entry.name.isidentifier():
            names.add(entry.name)
        elif entry.suffix in (".py", ".pyc", ".so") and entry.stem.split(".")[0].isidentifier():
            names.add(entry.stem.split(".")[0])
    return frozenset(names)


# Never mapped from a function's built environment: the handler's ``client`` is the emulator's own
# cognite-sdk, so the function must import that one (a pinned cognite-sdk runs in process isolation).
HOST_ONLY = frozenset({"cognite"})


class FunctionModules:
    """The private module namespace of one deployed function version.

    ``extra_paths``: the function's built environment (its site-packages, emulator/build/): their
    top-level modules are the function's own too, found after its folder."""

    def __init__(
        self, root: Path, extra_paths: Sequence[str] = (), sources: dict[str, str] | None = None
    ) -> None:
        self.root = root.resolve()
        # snapshot file -> the user's own file of the same content (code_from="source", sources.py)
        self.sources = sources or {}
        self.package = f"{PREFIX}{uuid.uuid4().hex}"
        extra = [str(Path(p).resolve()) for p in extra_paths]
        names = set(top_level_names(self.root))
        for path in extra:
            names |= {n for n in top_level_names(Path(path)) if not n.startswith("_") and n not in HOST_ONLY}
        self.top_names = frozenset(names)
        scoped = dict(builtins.__dict__)
        scoped["__import__"] = self._import
        self.builtins = scoped
        package = ModuleType(self.package)
        package.__path__ = [str(self.root), *extra]
        package.__package__ = self.package
        spec = importlib.machinery.ModuleSpec(self.package, None, is_package=True)
        spec.submodule_search_locations = [str(self.root), *extra]
        package.__spec__ = spec
        package.__dict__["__builtins__"] = scoped
        _FINDER.register(self)
        sys.modules[self.package] = package

    def _import(
        self,
        name: str,
        globals: dict[str, Any] | None = None,
        locals: Any = None,
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> ModuleType:
        top = name.partition(".")[0]
        if level == 0 and top in self.top_names:
            module = _real_import(f"{self.package}.{name}", globals, locals, fromlist, 0)
            return module if fromlist else sys.modules[f"{self.package}.{top}"]
        return _real_import(name, globals, locals, fromlist, level)

    def import_module(self, dotted: str) -> ModuleType:
        """Import ``dotted`` (``handler``, ``a.b.handler``) from the function's folder."""
        importlib.invalidate_caches()  # a redeploy may reuse a folder the finders have listed
        return importlib.import_module(f"{self.package}.{dotted}")

    def close(self) -> None:
        """Forget the function's modules (its deployment failed, or it was deleted)."""
        _FINDER.unregister(self)
        stem = self.package + "."
        for name in [n for n in list(sys.modules) if n == self.package or n.startswith(stem)]:
            sys.modules.pop(name, None)


class _ScopedLoader(importlib.abc.Loader):
    """Runs the function's module with the function's builtins (its own ``__import__``)."""

    def __init__(self, inner: Any, scoped: dict[str, Any], sources: dict[str, str]) -> None:
        self.inner = inner
        self.scoped = scoped
        self.sources = sources

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        create = getattr(self.inner, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        module.__dict__["__builtins__"] = self.scoped
        origin = module.__spec__.origin if module.__spec__ is not None else None
        source = self.sources.get(origin) if origin is not None and self.sources else None
        if source is None:
            self.inner.exec_module(module)
            return
        # The snapshot's bytes, compiled under the user's path: the code is what was deployed,
        # its frames name the user's file (tracebacks, breakpoints, coverage).
        code = compile(self.inner.get_data(origin), source, "exec", dont_inherit=True)
        exec(code, module.__dict__)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, is_package, ...
        return getattr(self.inner, name)


class _PrivateFinder(importlib.abc.MetaPathFinder):
    """Finds ``_cdf_function_<random>.x`` in that function's folder; ignores every other name.

    One per process (it serves ``sys.meta_path``, which is the interpreter's); it holds its
    namespaces weakly, so a dropped emulator's functions leave nothing behind.
    """

    def __init__(self) -> None:
        self._owners: weakref.WeakValueDictionary[str, FunctionModules] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    def register(self, owner: FunctionModules) -> None:
        with self._lock:
            self._owners[owner.package] = owner
            if self not in sys.meta_path:
                sys.meta_path.insert(0, self)

    def unregister(self, owner: FunctionModules) -> None:
        with self._lock:
            self._owners.pop(owner.package, None)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(PREFIX) or "." not in fullname:
            return None
        owner = self._owners.get(fullname.partition(".")[0])
        if owner is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None:
            return None
        if spec.loader is not None and spec.origin is not None:  # namespace packages have no code
            spec.loader = _ScopedLoader(spec.loader, owner.builtins, owner.sources)
        return spec


_FINDER = _PrivateFinder()
