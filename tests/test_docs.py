"""Every Python code block of README.md and docs/*.md runs as written, in a fresh empty directory.

How a block is treated (docs/writing-docs.md says the same, for authors of new pages):

- A ```` ```python ```` block is a script: it is written to ``snippet.py`` in a new empty directory
  and run there with this interpreter; it must exit with status 0. Nothing of the repository is
  importable from there except the installed package, so a block that needs a function folder makes
  one itself, as a user's project would.
- A ```` ```python ```` block whose first line is ``# test_<name>.py`` is a test file: it is written
  under that name and run with pytest (the installed plugin gives its fixtures); every test in it
  must pass, and there must be at least one.
- A block right after a ``<!-- fragment -->`` comment (a reason may follow: ``<!-- fragment: needs
  a running server -->``) is an excerpt and is not run. Blocks in other languages (``bash``, ``http``,
  ``json``, none) are not run either: they install packages, start servers or show wire traffic.

New pages in docs/ are picked up on their own; nothing needs registering here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
FRAGMENT = re.compile(r"<!--\s*fragment\b[^>]*-->\s*$")
TEST_FILE = re.compile(r"#\s*(test_\w+\.py)\s*\n")


class Block(NamedTuple):
    page: Path
    line: int
    language: str
    code: str
    fragment: bool

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    text = page.read_text()
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip()
        found.append(
            Block(
                page,
                text.count("\n", 0, match.start()) + 1,
                match.group(1).lower(),
                match.group(2),
                bool(FRAGMENT.search(before.splitlines()[-1] if before else "")),
            )
        )
    return found


RUNNABLE = [b for page in PAGES for b in blocks(page) if b.language == "python" and not b.fragment]


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)  # the outer run's options are not the snippet's
    env["COGNITE_DISABLE_PYPI_VERSION_CHECK"] = "1"
    return env


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.name for b in RUNNABLE])
def test_code_block_runs_as_written(block: Block, tmp_path: Path) -> None:
    test_file = TEST_FILE.match(block.code)
    if test_file:
        (tmp_path / test_file.group(1)).write_text(block.code)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
        command += ["-W", "ignore::DeprecationWarning", test_file.group(1)]
    else:
        (tmp_path / "snippet.py").write_text(block.code)
        command = [sys.executable, "snippet.py"]
    done = subprocess.run(
        command, cwd=tmp_path, env=_environment(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{block.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    if test_file:
        assert re.search(r"\b\d+ passed\b", done.stdout), done.stdout[-2000:]


def test_the_pages_have_runnable_blocks() -> None:
    """The extraction itself can fail: the README's pytest example must be found, and run as a test file."""
    readme = [b for b in RUNNABLE if b.page.name == "README.md"]
    assert any(TEST_FILE.match(b.code) for b in readme), "README.md lost its pytest example"
    assert len(RUNNABLE) >= 10


def test_fragment_markers_are_honoured(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Text.\n\n<!-- fragment: an excerpt -->\n```python\nundefined_name\n```\n\n```python\nx = 1\n```\n"
    )
    assert [(b.line, b.fragment) for b in blocks(page)] == [(4, True), (8, False)]
