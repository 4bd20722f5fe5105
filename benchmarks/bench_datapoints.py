"""Insert then retrieve 1,000,000 numeric datapoints through the SDK in-process, against the SDK
talking to a canned app over the same transport.

The canned app answers inserts with ``{}`` and replays, byte for byte, the protobuf answers the
emulator gave to the same ``/timeseries/data/list`` requests (recorded on a first run), so the
baseline is exactly the SDK's own cost (JSON encoding of inserts, protobuf parsing, its request
splitting) plus the transport; the ratio is what the emulator adds on top.
"""

from __future__ import annotations

import gzip
import itertools
import json
from typing import Any

from common import per_op, report, result
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator import FunctionsEmulator

N = 1_000_000
T0 = 1_767_225_600_000
POINTS = [(T0 + i * 1000, float(i % 1000)) for i in range(N)]
START, END = T0, T0 + N * 1000


def _key(body: bytes) -> str:
    if body[:2] == b"\x1f\x8b":  # the SDK gzips request bodies
        body = gzip.decompress(body)
    return json.dumps(json.loads(body), sort_keys=True)


class Recorder:
    """ASGI wrapper around the emulator that keeps the answers to datapoint list requests."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.answers: dict[str, bytes] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/timeseries/data/list"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent: list[bytes] = []

        async def replay() -> Any:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.body":
                sent.append(message.get("body", b""))
            await send(message)

        await self.app(scope, replay, capture)
        self.answers[_key(body)] = b"".join(sent)


def canned_app(answers: dict[str, bytes]) -> Starlette:
    async def insert(request: Request) -> Response:
        await request.body()
        return JSONResponse({})

    async def retrieve(request: Request) -> Response:
        return Response(answers[_key(await request.body())], media_type="application/protobuf")

    prefix = "/api/v1/projects/{project}/timeseries/data"
    return Starlette(
        routes=[Route(prefix, insert, methods=["POST"]), Route(prefix + "/list", retrieve, methods=["POST"])]
    )


def run(repeat: int = 3) -> list[dict[str, Any]]:
    from cognite.client.data_classes import TimeSeriesWrite

    from emulator import transport

    emu = FunctionsEmulator(project="bench", start="2026-01-01T00:00:00Z")
    recorder = Recorder(emu.app)
    client = transport.in_process_client(recorder, "bench")
    client.time_series.create(TimeSeriesWrite(external_id="read"))
    client.time_series.data.insert(POINTS, external_id="read")
    names = itertools.count()

    def insert() -> None:
        xid = f"w{next(names)}"  # a fresh series each time: what is measured is the first write
        client.time_series.create(TimeSeriesWrite(external_id=xid))
        client.time_series.data.insert(POINTS, external_id=xid)

    def retrieve() -> None:
        got = client.time_series.data.retrieve_arrays(external_id="read", start=START, end=END)
        assert len(got) == N

    retrieve()  # record the answers the canned app will replay
    baseline = transport.in_process_client(canned_app(recorder.answers), "bench")

    def canned_insert() -> None:
        baseline.time_series.data.insert(POINTS, external_id="read")

    def canned_retrieve() -> None:
        got = baseline.time_series.data.retrieve_arrays(external_id="read", start=START, end=END)
        assert len(got) == N

    measured_insert = per_op(insert, number=1, repeat=repeat, warmup=1)
    canned_insert_s = per_op(canned_insert, number=1, repeat=repeat, warmup=1)
    measured_retrieve = per_op(retrieve, number=1, repeat=repeat, warmup=1)
    canned_retrieve_s = per_op(canned_retrieve, number=1, repeat=repeat, warmup=1)
    emu.close()
    return [
        result("datapoints insert 1M in-process vs canned", measured_insert, canned_insert_s, 1.5, points=N),
        result(
            "datapoints retrieve 1M in-process vs canned", measured_retrieve, canned_retrieve_s, 1.5, points=N
        ),
    ]


if __name__ == "__main__":
    for res in run():
        report(res)
