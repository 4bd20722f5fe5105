"""Every Python block in the facade pages (docs/roma.md, docs/globus-timer.md) runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCKS = [
    pytest.param(block, id=f"{page}-{i}")
    for page in ("roma.md", "globus-timer.md")
    for i, block in enumerate(re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.S))
]


@pytest.mark.parametrize("block", BLOCKS)
def test_doc_block_runs(block: str) -> None:
    pytest.importorskip("huaweicloudsdkroma.v2")
    pytest.importorskip("globus_sdk")
    exec(compile(block, "<doc>", "exec"), {"__name__": "__doc_example__"})
