"""Every Python code block of docs/cdf-resources.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "cdf-resources.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_code_block_runs(source: str) -> None:
    import linecache

    # emu.deploy(function_handle=...) reads the handler's source: make the block's text findable.
    name = f"<docs/cdf-resources.md block {BLOCKS.index(source)}>"
    linecache.cache[name] = (len(source), None, source.splitlines(keepends=True), name)
    exec(compile(source, name, "exec"), {"__name__": "__doc_block__"})


def test_the_page_has_its_examples() -> None:
    assert len(BLOCKS) == 4
