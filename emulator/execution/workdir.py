"""A call's working directory: the function's own folder, per thread, never the process's.

The working directory is a property of the process for Python (``os.chdir`` has no per-thread
form), but on Linux it is a property of the thread's file-system context, which a thread can detach
from the process's with ``unshare(CLONE_FS)`` (no privileges needed). A thread that runs calls does
that once; from then on ``os.chdir`` in it (by the emulator or by the handler) moves that thread,
and the threads it starts, only: every relative path it uses (``open("data.json")``,
``Path("x").read_text()``, ``os.listdir(".")``, a subprocess) resolves against its own directory,
and the test's working directory never moves.

So each call starts in its function's unpacked folder, as a call in a child process does
(``isolation="process"``): relative reads of files shipped in the zip work, and two overlapping
calls of different functions each read their own. A call that changes or removes its directory
affects only itself; the next call on that thread starts in its own function's folder again.

Where ``unshare`` is not available (not Linux, or refused by a sandbox) the emulator does not touch
the working directory: calls see the process's, and one that changes it has it put back when it
ends (overlapping calls then see each other's changes; docs/calls.md).
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

CLONE_FS = 0x00000200  # <linux/sched.h>: share the file-system context (cwd, root, umask)


class ThreadDirectories:
    """Detaches call threads' working directories from the process's (see the module's docstring).

    One per process: the file-system context belongs to OS threads, not to an emulator. It holds
    only a per-thread flag (whether the thread is detached) and the libc handle.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._unshare = _libc_unshare()

    def detach(self) -> bool:
        """Give the current thread its own working directory, once; True if it has one."""
        detached: bool | None = getattr(self._local, "detached", None)
        if detached is None:
            detached = self._unshare is not None and self._unshare(CLONE_FS) == 0
            self._local.detached = detached
        return detached

    @contextmanager
    def inside(self, folder: Path) -> Iterator[None]:
        """Run the block in ``folder`` (a detached thread), or in the process's working directory
        (no detaching possible); either way the directory is put back afterwards."""
        with self.kept():
            if self.detach():
                os.chdir(folder)
            yield

    @contextmanager
    def kept(self) -> Iterator[None]:
        """Put the thread's working directory back after the block if the block changed it."""
        before = _cwd()
        try:
            yield
        finally:
            self.restore(before)

    def current(self) -> str | None:
        """The thread's working directory (None if it was removed)."""
        return _cwd()

    def restore(self, before: str | None) -> None:
        """Move back to ``before`` (from ``current()``) if the thread is elsewhere now."""
        if before is not None and _cwd() != before:
            try:
                os.chdir(before)
            except OSError:  # removed meanwhile: a detached thread's next call moves anyway
                pass

    def enter(self, folder: Path) -> None:
        """Move a detached thread to ``folder`` (the inline batch switches folders run by run)."""
        if self.detach():
            os.chdir(folder)


def _libc_unshare() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        unshare: Callable[[int], int] = ctypes.CDLL(None, use_errno=True).unshare
        return unshare
    except (OSError, AttributeError):
        return None


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # the directory was removed under us
        return None


DIRECTORIES = ThreadDirectories()
