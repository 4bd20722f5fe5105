"""A call's logs (issue 14): linear in what is written, long lines cut as CDF does."""

from __future__ import annotations

from cognite.client import CogniteClient

from emulator import FunctionsEmulator
from tests.test_functions import create_from_zip

PROGRESS = (
    "import sys\n"
    "def handle():\n"
    "    for _ in range(150_000):\n"
    "        sys.stdout.write('#')\n"
    "    print(' done')\n"
    "    print('a\\nb', end='')\n"
)


def test_a_long_progress_bar(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    fn = create_from_zip(any_client, {"handler.py": PROGRESS})
    call = fn.call()
    assert call.status == "Completed", call.error
    messages = [log.message for log in call.get_logs()]
    assert messages == ["#" * 10_000, "a", "b"]  # the bar's line is cut at 10,000 characters
