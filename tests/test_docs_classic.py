"""Every code block of docs/files-assets-events.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "files-assets-events.md"
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block-{i}" for i in range(len(BLOCKS))])
def test_code_block_runs(code: str) -> None:
    exec(compile(code, str(PAGE), "exec"), {"__name__": "docs"})
