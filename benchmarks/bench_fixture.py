"""Per-test cost: setup + teardown of what the functions_emulator_client fixture does (a fresh
FunctionsEmulator, its CogniteClient, close) vs one in-process functions.retrieve (target <= 5x)."""

from __future__ import annotations

from typing import Any

from common import per_op, report, result

from emulator import FunctionsEmulator


def handle():
    return None


def _fixture_cycle() -> None:
    emulator = FunctionsEmulator()  # what the functions_emulator fixture builds ...
    emulator.client()  # ... functions_emulator_client ...
    emulator.close()  # ... and the teardown


def run(number: int = 200) -> dict[str, Any]:
    emu = FunctionsEmulator(project="bench")
    fn_id = emu.deploy(function_handle=handle).id
    client = emu.client()
    res = result(
        "fixture setup+teardown vs retrieve",
        per_op(_fixture_cycle, number=number),
        per_op(lambda: client.functions.retrieve(id=fn_id), number=number),
        5.0,
    )
    emu.close()
    return res


if __name__ == "__main__":
    report(run())
