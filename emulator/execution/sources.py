"""Handler debugging: a deployed function's code, named after the user's own files.

A deployment runs a snapshot: the zip is unpacked into the emulator's folder and imported from
there, so editing the source afterwards changes nothing until the next deployment, as in CDF. With
``code_from="source"`` the snapshot still runs, but each of its ``.py`` files that is byte for byte
the same as a file of the source folder is compiled under that file's path: tracebacks, ``error.trace``,
``breakpoint()``, an IDE's breakpoints and coverage all point at the user's ``handler.py``, not at
a copy in a temporary folder. ``__file__`` stays the snapshot's (relative reads of files shipped in
the zip read what was deployed).

The source folder is known when the emulator zips it (``emu.deploy(folder=...)``). When the SDK zips
it (``client.functions.create(folder=...)``) the emulator only receives bytes, so it looks for the
folder under ``source_roots`` (default: the working directory when the emulator was made): the first
folder, at most ``MAX_DEPTH`` levels down, whose ``functionPath`` file is identical to the deployed one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

MAX_DEPTH = 4
_SKIPPED = frozenset({"__pycache__", "node_modules", "site-packages", "venv", "build", "dist"})


def source_map(snapshot: Path, folder: Path) -> dict[str, str]:
    """Snapshot file -> source file, for every ``.py`` file of ``snapshot`` identical in ``folder``."""
    mapped: dict[str, str] = {}
    snapshot, folder = snapshot.resolve(), folder.resolve()
    for copy in snapshot.rglob("*.py"):
        original = folder / copy.relative_to(snapshot)
        try:
            if original.is_file() and original.read_bytes() == copy.read_bytes():
                mapped[str(copy)] = str(original)
        except OSError:  # unreadable source: that file keeps its snapshot name
            continue
    return mapped


def find_source_folder(snapshot: Path, function_path: str, roots: Sequence[Path]) -> Path | None:
    """The folder under ``roots`` whose ``function_path`` is the deployed one, byte for byte."""
    relative = PurePosixPath(function_path)
    try:
        deployed = (snapshot / relative).read_bytes()
    except OSError:
        return None
    for root in roots:
        for folder in _folders(Path(root), MAX_DEPTH):
            candidate = folder / relative
            try:
                if candidate.is_file() and candidate.read_bytes() == deployed:
                    return folder
            except OSError:
                continue
    return None


def _folders(root: Path, depth: int) -> Iterator[Path]:
    """``root`` and its subfolders, breadth first, at most ``depth`` levels down."""
    level = [root]
    for _ in range(depth + 1):
        following: list[Path] = []
        for folder in level:
            yield folder
            try:
                with os.scandir(folder) as entries:
                    following.extend(
                        Path(entry.path)
                        for entry in entries
                        if entry.is_dir(follow_symlinks=False)
                        and not entry.name.startswith(".")
                        and entry.name not in _SKIPPED
                    )
            except OSError:
                continue
        level = sorted(following)
