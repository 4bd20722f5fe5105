"""functions.call with a no-op handler vs functions.retrieve, same client, same run (target <= 2.4x, issue 19).
A call is two requests (a session, then the call) plus running the handler on its own thread."""

from __future__ import annotations

from typing import Any

from common import per_op, report, result

from emulator import FunctionsEmulator


def handle(data):
    return None


def run(number: int = 200) -> dict[str, Any]:
    emu = FunctionsEmulator(project="bench", max_calls_kept=1000)
    fn_id = emu.deploy(function_handle=handle).id
    client = emu.client()
    res = result(
        "call vs retrieve (in-process)",
        per_op(lambda: client.functions.call(id=fn_id, data={"x": 1}), number=number),
        per_op(lambda: client.functions.retrieve(id=fn_id), number=number),
        2.4,
    )
    emu.close()
    return res


if __name__ == "__main__":
    report(run())
