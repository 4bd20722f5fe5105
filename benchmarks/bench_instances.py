"""SDK data_modeling.instances.list of 100,000 nodes of a view with a filter, through the emulator
vs a canned Starlette app answering the same pages (1,000 nodes each, with cursors), in-process."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

from common import per_op, report, result
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator import FunctionsEmulator

N = 100_000
PAGE = 1000


def _schema(client: Any) -> Any:
    from cognite.client import data_modeling as dm

    client.data_modeling.spaces.apply(dm.SpaceApply("bench"))
    container = dm.ContainerId("bench", "Pump")
    client.data_modeling.containers.apply(
        dm.ContainerApply(
            "bench",
            "Pump",
            properties={"name": dm.ContainerProperty(dm.Text()), "flow": dm.ContainerProperty(dm.Float64())},
        )
    )
    view = dm.ViewId("bench", "Pump", "v1")
    client.data_modeling.views.apply(
        dm.ViewApply(
            "bench",
            "Pump",
            "v1",
            properties={
                "name": dm.MappedPropertyApply(container, "name"),
                "flow": dm.MappedPropertyApply(container, "flow"),
            },
        )
    )
    return view


def canned_app(pages: list[bytes]) -> Starlette:
    """Answers page k of the listing for cursor k (the same bytes the emulator would send)."""

    async def listing(request: Request) -> Any:
        raw = await request.body()
        body = json.loads(gzip.decompress(raw) if request.headers.get("content-encoding") == "gzip" else raw)
        index = int(body.get("cursor") or 0)
        return Response(pages[index], media_type="application/json")

    return Starlette(
        routes=[Route("/api/v1/projects/{project}/models/instances/list", listing, methods=["POST"])]
    )


def run(number: int = 1) -> list[dict[str, Any]]:
    from cognite.client import data_modeling as dm
    from cognite.client.data_classes import filters as f

    from emulator import transport

    emu = FunctionsEmulator(project="bench")
    client = emu.client()
    view = _schema(client)
    # Every second node matches the filter: 200,000 nodes, 100,000 listed.
    nodes = [
        dm.NodeApply(
            "bench",
            f"pump-{i:06d}",
            sources=[dm.NodeOrEdgeData(view, {"name": f"pump {i}", "flow": float(i % 2)})],
        )
        for i in range(2 * N)
    ]
    started = time.perf_counter()
    client.data_modeling.instances.apply(nodes)
    applied = time.perf_counter() - started
    flt = f.Equals(view.as_property_ref("flow"), 1.0)

    def emulated() -> int:
        return len(client.data_modeling.instances.list(sources=view, filter=flt, limit=-1))

    assert emulated() == N
    # The canned answer: the same nodes, as the SDK dumps them, in pages of 1,000 by cursor.
    recorded = _pages_from(client, view, flt)
    baseline = transport.in_process_client(canned_app(recorded), "bench")

    def canned() -> int:
        return len(baseline.data_modeling.instances.list(sources=view, filter=flt, limit=-1))

    assert canned() == N
    measured = per_op(emulated, number=number, repeat=3, warmup=1)
    reference = per_op(canned, number=number, repeat=3, warmup=1)
    emu.close()
    return [
        result(
            "instances.list 100k nodes, filter, in-process",
            measured,
            reference,
            1.5,
            nodes=N,
            apply_200k_s=round(applied, 1),
        )
    ]


def _pages_from(client: Any, view: Any, flt: Any) -> list[bytes]:
    """The listing's pages as JSON bytes, with cursors rewritten to page numbers."""
    nodes = client.data_modeling.instances.list(sources=view, filter=flt, limit=-1)
    raw = [n.dump(camel_case=True) for n in nodes]
    pages = []
    for k in range(0, len(raw), PAGE):
        more = k + PAGE < len(raw)
        pages.append(
            json.dumps(
                {"items": raw[k : k + PAGE], "nextCursor": str(k // PAGE + 1) if more else None}
            ).encode()
        )
    return pages


if __name__ == "__main__":
    for res in run():
        report(res)
