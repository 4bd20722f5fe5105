"""A call's environment variables, per call: ``os.environ`` routed by thread while calls run.

While at least one call runs, ``os.environ`` is a proxy: in a call's thread it reads and writes that
call's own copy (the process's variables when the call started, plus the function's ``envVars``);
in every other thread it is the process's ``os.environ``. So a call sees its function's variables
and nothing another concurrent call set; what a handler sets never reaches the test process; and
nothing is ever restored over the test's own changes. The last call out puts the original back.

Limits (docs/calls.md): C code reading the C-level environment (``getenv`` in an extension, a child
process started with ``env=None``) sees the process's variables; threads a handler starts see the
process's variables, not the call's.

The working directory is per call too, but by other means (emulator/execution/workdir.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager

from emulator.execution.capture import CAPTURE
from emulator.execution.process_lock import PROCESS_LOCK


class RoutedEnviron(MutableMapping[str, str]):
    """Stands in for ``os.environ``: a call's thread sees its overlay, other threads the original."""

    def __init__(self, original: MutableMapping[str, str], overlays: dict[int, dict[str, str]]) -> None:
        self.original = original
        self.overlays = overlays

    def _target(self) -> MutableMapping[str, str]:
        return self.overlays.get(threading.get_ident(), self.original)

    def __getitem__(self, key: str) -> str:
        return self._target()[key]

    def __setitem__(self, key: str, value: str) -> None:
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"str expected, not {type(value if isinstance(key, str) else key).__name__}")
        self._target()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._target()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._target()))

    def __len__(self) -> int:
        return len(self._target())

    def copy(self) -> dict[str, str]:
        return dict(self._target())

    def __repr__(self) -> str:
        return f"environ({dict(self._target())!r})"


class _Routing:
    """Installs the proxy while calls run; one per process (``os.environ`` is the process's)."""

    def __init__(self) -> None:
        self.overlays: dict[int, dict[str, str]] = {}
        self._active = 0

    @contextmanager
    def environment(self, env_vars: dict[str, str], process: dict[str, str] | None = None) -> Iterator[None]:
        """Run the block with its own environment variables (the process's plus ``env_vars``);
        ``process`` is the process's variables when the caller has just read them (``process_now``)."""
        ident = threading.get_ident()
        with PROCESS_LOCK:
            installed: MutableMapping[str, str] = os.environ
            if isinstance(installed, RoutedEnviron):
                routed = installed
            else:
                routed = RoutedEnviron(installed, self.overlays)
                # The proxy replaces the mapping only; the C-level environment stays as it is.
                os.environ = routed  # type: ignore[assignment]  # noqa: B003
            previous = self.overlays.get(ident)
            self.overlays[ident] = {**(dict(routed.original) if process is None else process), **env_vars}
            self._active += 1
        try:
            yield
        finally:
            with PROCESS_LOCK:
                if previous is None:
                    self.overlays.pop(ident, None)
                else:
                    self.overlays[ident] = previous
                self._active -= 1
                if self._active == 0:
                    now: MutableMapping[str, str] = os.environ
                    if isinstance(now, RoutedEnviron) and now.overlays is self.overlays:
                        os.environ = now.original  # type: ignore[assignment]  # noqa: B003

    def use(self, overlay: dict[str, str]) -> None:
        """Inside ``environment()``: make this thread see ``overlay`` (the inline batch keeps one
        overlay per function for a whole clock move, so switching functions copies nothing)."""
        self.overlays[threading.get_ident()] = overlay

    # --- Carrier (threads.py): a thread a call starts sees the call's variables ---
    def snapshot(self, parent: int) -> dict[str, str] | None:
        return self.overlays.get(parent)

    def adopt(self, child: int, taken: dict[str, str] | None) -> None:
        if taken is not None:
            self.overlays[child] = taken

    def release(self, child: int, taken: dict[str, str] | None) -> None:
        if taken is not None and self.overlays.get(child) is taken:
            del self.overlays[child]

    def fresh(self, env_vars: dict[str, str], process: dict[str, str] | None = None) -> dict[str, str]:
        """A new overlay: the process's variables now (or ``process``, read by ``process_now``),
        plus ``env_vars``."""
        return {**(self.process_now() if process is None else process), **env_vars}

    def process_now(self) -> dict[str, str]:
        """A copy of the process's variables now. Reading ``os.environ`` decodes every name and
        value, so one clock move reads it once for all the overlays it makes."""
        installed: MutableMapping[str, str] = os.environ
        original = installed.original if isinstance(installed, RoutedEnviron) else installed
        return dict(original)


ROUTING = _Routing()
environment = ROUTING.environment
CAPTURE.threads.add(ROUTING)
