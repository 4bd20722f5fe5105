"""A warm process-isolated no-op call vs a thread-isolated one, same emulator options (target <= 5x,
issue 15). Both are functions.call through the in-process SDK client; the process call's handler
runs in the function's warm worker process (started by the warm-up calls, then reused)."""

from __future__ import annotations

from typing import Any

from common import per_op, report, result

from emulator import FunctionsEmulator


def handle(data):
    return None


def run(number: int = 200) -> dict[str, Any]:
    threads = FunctionsEmulator(project="bench", max_calls_kept=1000)
    processes = FunctionsEmulator(project="bench", max_calls_kept=1000, isolation="process")
    thread_fn = threads.deploy(function_handle=handle).id
    process_fn = processes.deploy(function_handle=handle).id
    thread_client, process_client = threads.client(), processes.client()
    res = result(
        "warm process call vs thread call",
        per_op(lambda: process_client.functions.call(id=process_fn, data={"x": 1}), number=number),
        per_op(lambda: thread_client.functions.call(id=thread_fn, data={"x": 1}), number=number),
        5.0,
    )
    threads.close()
    processes.close()
    return res


if __name__ == "__main__":
    report(run())
