"""The official surface: unimplemented operations answer 501 naming themselves; others 404."""

from __future__ import annotations

import pytest
from cognite.client import CogniteClient
from cognite.client.exceptions import CogniteAPIError
from starlette.routing import Route
from starlette.testclient import TestClient

from emulator import FunctionsEmulator
from emulator.coverage import main as coverage_main
from emulator.spec import operations
from emulator.surface import complete, served_in_project, template, unimplemented


def test_retrieve_of_an_unimplemented_resource_raises_501(sdk: CogniteClient) -> None:
    with pytest.raises(CogniteAPIError) as caught:
        sdk.sequences.retrieve(id=123)
    assert caught.value.code == 501
    assert (
        "POST /sequences/byids (getSequenceById) is not implemented by the emulator" in caught.value.message
    )


def test_path_parameter_operations_answer_501(sdk: CogniteClient) -> None:
    with pytest.raises(CogniteAPIError) as caught:
        sdk.three_d.models.retrieve(id=4567890123)
    assert caught.value.code == 501
    assert "GET /3d/models/{modelId} (get3DModel) is not implemented" in caught.value.message


def test_synthetic_query_names_its_operation(emu: FunctionsEmulator) -> None:
    answer = TestClient(emu.app).post(
        "/api/v1/projects/p/timeseries/synthetic/query", json={"items": [{"expression": "1"}]}
    )
    if answer.status_code != 501:
        pytest.skip("synthetic time series are implemented on this branch")
    assert answer.json() == {
        "error": {
            "code": 501,
            "message": "POST /timeseries/synthetic/query (querySyntheticTimeseries) is not implemented by the emulator",
        }
    }


def test_paths_outside_the_official_api_answer_404(emu: FunctionsEmulator) -> None:
    http = TestClient(emu.app)
    answer = http.get("/api/v1/projects/p/no-such-api/things")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == 404
    assert http.post("/api/v1/projects/p/sequences/nonsense/deeper", json={}).status_code == 404


def test_every_official_operation_is_routed(emu: FunctionsEmulator) -> None:
    """Each operation reaches either a real route or its 501 route: never 404 or 405."""
    http = TestClient(emu.app, raise_server_exceptions=False)
    have = served_in_project(emu.app.routes)
    missing = [op for op in operations() if (op.method, template(op.path)) not in have]
    assert len(missing) == len(operations()) - len(
        have & {(o.method, template(o.path)) for o in operations()}
    )
    for op in missing:
        path = op.path.replace("{", "").replace("}", "")  # parameters become plain text segments
        answer = http.request(op.method.upper(), f"/api/v1/projects/p{path}", json={})
        assert answer.status_code == 501, (op, answer.status_code, answer.text[:200])
        assert f"({op.operation_id})" in answer.json()["error"]["message"]


def test_a_route_serving_the_same_template_wins() -> None:
    async def mine(request: object) -> None:  # pragma: no cover - never called
        return None

    own = [
        Route("/sequences/byids", mine, methods=["POST"]),
        Route("/3d/models/{x:int}", mine, methods=["GET"]),
    ]
    names = {op.operation_id for op in unimplemented(own)}
    assert "getSequenceById" not in names and "get3DModel" not in names
    assert "listSequences" in names
    assert len(complete(own)) == len(own) + len(operations()) - 2


def test_a_handler_calling_an_unimplemented_api_fails_with_the_501_message(emu: FunctionsEmulator) -> None:
    def handle(client, data):  # type: ignore[no-untyped-def]
        return client.sequences.retrieve(id=1234567)

    fn = emu.deploy(function_handle=handle, external_id="seq-reader")
    call = fn.call(data={})
    assert call.status == "Failed"
    assert (
        "POST /sequences/byids (getSequenceById) is not implemented by the emulator" in call.error["message"]
    )


def test_docs_coverage_table_is_current() -> None:
    assert coverage_main(["--check"]) == 0, "run: python -m emulator.coverage"
