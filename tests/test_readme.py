"""The README's 30-second pytest example runs as written (through the installed plugin)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_pytest_example_passes(pytester: pytest.Pytester) -> None:
    blocks = re.findall(r"```python\n(# test_my_function.py\n.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README.md lost its pytest example"
    pytester.makepyfile(test_my_function=blocks[0])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)
