"""Overriding one API with your own fake, keeping the rest of the emulator."""

from __future__ import annotations

from typing import Any

import pytest
from cognite.client import CogniteClient
from cognite.client.exceptions import CogniteAPIError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emulator import FunctionsEmulator


def synthetic_app() -> Starlette:
    async def query(request: Request) -> JSONResponse:
        body = await request.json()
        items = [
            {"isString": False, "datapoints": [{"timestamp": 0, "value": float(len(item["expression"]))}]}
            for item in body["items"]
        ]
        return JSONResponse({"items": items, "project": request.scope["cdf_project"]})

    return Starlette(routes=[Route("/timeseries/synthetic/query", query, methods=["POST"])])


def test_an_asgi_app_answers_its_prefix(emu: FunctionsEmulator, sdk: CogniteClient) -> None:
    with pytest.raises(CogniteAPIError) as before:
        sdk.time_series.data.synthetic.query(expressions="1+1", start=0, end=1)
    assert before.value.code == 501
    emu.override("/timeseries/synthetic", synthetic_app())
    result = sdk.time_series.data.synthetic.query(expressions="1+1", start=0, end=1)
    assert list(result.value) == [3.0]
    sdk.raw.rows.insert(
        "db", "t", {"k": {"a": 1}}, ensure_parent=True
    )  # everything else is still the emulator's
    assert sdk.raw.rows.retrieve("db", "t", "k") is not None
    emu.override("/timeseries/synthetic", None)
    with pytest.raises(CogniteAPIError):
        sdk.time_series.data.synthetic.query(expressions="1+1", start=0, end=1)


def test_a_callable_answers_with_json(sdk: CogniteClient) -> None:
    seen: list[str] = []

    def fake_sequences(request: Request) -> Any:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("/byids"):
            return {"items": [{"id": 5_000_001, "columns": [], "createdTime": 0, "lastUpdatedTime": 0}]}
        return 404, {"error": {"code": 404, "message": "not here"}}

    emu = FunctionsEmulator(overrides={"/sequences": fake_sequences})
    try:
        client = emu.client()
        assert client.sequences.retrieve(id=5_000_001).id == 5_000_001  # type: ignore[union-attr]
        with pytest.raises(CogniteAPIError) as caught:
            client.get(f"/api/v1/projects/{client.config.project}/sequences/other")
        assert caught.value.code == 404
        assert seen[0] == f"POST /api/v1/projects/{client.config.project}/sequences/byids"
        # Whole segments only: /sequencesX is not /sequences.
        with pytest.raises(CogniteAPIError) as missing:
            client.get(f"/api/v1/projects/{client.config.project}/sequencesX")
        assert missing.value.code == 404 and len(seen) == 2
    finally:
        emu.close()


def test_an_async_callable_and_a_handler_using_the_fake(emu: FunctionsEmulator) -> None:
    async def fake(request: Request) -> Any:
        return {
            "items": [{"id": 5_000_002, "columns": [], "createdTime": 0, "lastUpdatedTime": 0, "name": "seq"}]
        }

    emu.override("/sequences", fake)

    def handle(client, data):  # type: ignore[no-untyped-def]
        return client.sequences.retrieve(id=5_000_002).name

    assert emu.deploy(function_handle=handle).call().get_response() == "seq"


def test_bad_overrides_are_refused(emu: FunctionsEmulator) -> None:
    with pytest.raises(ValueError):
        emu.override("timeseries", synthetic_app())
    with pytest.raises(TypeError):
        emu.override("/timeseries", "not callable")  # type: ignore[arg-type]
