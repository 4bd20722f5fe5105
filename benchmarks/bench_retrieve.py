"""SDK functions.retrieve through the emulator vs the canned Starlette baseline (target <= 1.5x),
in-process and over a uvicorn loopback server."""

from __future__ import annotations

from typing import Any

import uvicorn
from common import per_op_pair, report, result

from benchmarks.baseline import canned_app, canned_client
from emulator import FunctionsEmulator


def handle():
    return None


def _loopback(app: Any) -> tuple[Any, str]:
    import threading
    import time

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


def run(number: int = 300) -> list[dict[str, Any]]:
    from cognite.client import CogniteClient

    from emulator.transport import make_config

    emu = FunctionsEmulator(project="bench")
    fn_id = emu.deploy(function_handle=handle).id
    client = emu.client()
    baseline = canned_client()
    in_process = result(
        "retrieve in-process vs canned",
        *per_op_pair(
            lambda: client.functions.retrieve(id=fn_id),
            lambda: baseline.functions.retrieve(id=1),
            number=number,
        ),
        1.5,
    )
    server, url = _loopback(canned_app())
    with emu.serve() as emu_server:
        remote = CogniteClient(make_config("bench", emu_server.base_url))
        canned_remote = CogniteClient(make_config("bench", url))
        loopback = result(  # rounds alternate: the two servers share the machine's load alike
            "retrieve loopback vs canned",
            *per_op_pair(
                lambda: remote.functions.retrieve(id=fn_id),
                lambda: canned_remote.functions.retrieve(id=1),
                number=number // 3,
            ),
            1.1,  # issue 19: hold within 10% of the canned floor
        )
    server.should_exit = True
    emu.close()
    return [in_process, loopback]


if __name__ == "__main__":
    for res in run():
        report(res)
