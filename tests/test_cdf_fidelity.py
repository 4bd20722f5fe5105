"""Functions as the SDK's own integration tests and the Cognite Toolkit expect them (issue 16).

Each test drives the real cognite-sdk, in-process and over a loopback server (``any_client``).
"""

from __future__ import annotations

import io
import zipfile

import pytest
from cognite.client import CogniteClient
from cognite.client.data_classes import FunctionSchedule, FunctionScheduleWrite
from cognite.client.exceptions import CogniteAPIError

from emulator import DeployTiming, FunctionsEmulator


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def _create(client: CogniteClient, files: dict[str, str], **kwargs: object):  # type: ignore[no-untyped-def]
    meta = client.files.upload_bytes(_zip(files), name="code.zip")
    return client.functions.create(name=str(kwargs.pop("name", "fn")), file_id=meta.id, **kwargs)  # type: ignore[arg-type]


def handle(data):  # type: ignore[no-untyped-def]
    return data


def test_created_schedule_is_what_was_written(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    fn = emu.deploy(function_handle=handle, external_id="target")
    written = FunctionScheduleWrite(name="s", cron_expression="0 * * * *", function_id=fn.id, data={"a": 1})
    created = any_client.functions.schedules.create(written)
    assert isinstance(created, FunctionSchedule)
    # CDF answers only what was posted: the SDK posts functionId alone, so no functionExternalId.
    assert created.function_id == fn.id and created.function_external_id is None
    assert created.as_write().dump() == {**written.dump(), "data": created.as_write().dump().get("data")}
    # Filtering on the function's external id still finds it (CDF resolves it to the function).
    listed = any_client.functions.schedules.list(function_external_id="target")
    assert [s.id for s in listed] == [created.id]


def test_every_response_carries_a_request_id(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    with pytest.raises(CogniteAPIError) as err:
        any_client.functions.call(id=123)  # 123 never exists: ids are large
    assert err.value.x_request_id is not None and err.value.x_request_id.startswith("emulator-")


def test_env_vars_absent_when_none_given(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    plain = _create(any_client, {"handler.py": "def handle():\n    return 1\n"}, name="plain")
    with_env = _create(
        any_client, {"handler.py": "def handle():\n    return 1\n"}, name="env", env_vars={"A": "1"}
    )
    raw = emu.client().get(f"/api/v1/projects/{emu.project}/functions/{plain.id}").json()
    assert "envVars" not in raw  # the Toolkit compares the field: {} would redeploy every time
    assert any_client.functions.retrieve(id=with_env.id).env_vars == {"A": "1"}


def test_failed_import_trace_starts_at_user_code(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    fn = _create(
        any_client, {"handler.py": "import helper\n\ndef handle():\n    pass\n", "helper.py": "1 / 0\n"}
    )
    assert fn.status == "Failed"
    trace = fn.error["trace"]
    first_frame = trace.split("File ", 2)[1]
    assert first_frame.split(",")[0].strip('"').endswith("handler.py"), trace
    assert "importlib" not in trace and "<frozen" not in trace
    assert "helper.py" in trace and "ZeroDivisionError" in trace


def test_handle_with_other_arguments_deploys_and_fails_at_call(
    emu: FunctionsEmulator, any_client: CogniteClient
) -> None:
    # The SDK refuses such a handle client-side for folder= and function_handle=; a zip uploaded
    # directly deploys on CDF and its calls fail, as here.
    fn = _create(any_client, {"handler.py": "def handle(data, token):\n    return token\n"})
    assert fn.status == "Ready"
    call = fn.call(data={})
    assert call.status == "Failed" and "token" in call.error["message"]
    optional = _create(
        any_client, {"handler.py": "def handle(data, scale=2):\n    return data['x'] * scale\n"}
    )
    assert optional.call(data={"x": 3}).get_response() == 6


def test_deployment_states_follow_the_clock(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    emu.context.settings.deploy_timing = DeployTiming(queued=10, deploying=30)
    fn = _create(any_client, {"handler.py": "def handle():\n    return 'ok'\n"})
    assert fn.status == "Queued"
    with pytest.raises(CogniteAPIError) as err:
        any_client.functions.call(id=fn.id)
    assert err.value.code == 400 and "not ready" in err.value.message
    emu.clock.advance(seconds=10)
    assert any_client.functions.retrieve(id=fn.id).status == "Deploying"
    emu.clock.advance(seconds=29)
    assert any_client.functions.retrieve(id=fn.id).status == "Deploying"
    emu.clock.advance(seconds=1)
    assert any_client.functions.retrieve(id=fn.id).status == "Ready"
    assert any_client.functions.call(id=fn.id).get_response() == "ok"
    broken = _create(any_client, {"handler.py": "def handle(:\n"}, name="broken")
    assert broken.status == "Queued" and broken.error is None
    emu.clock.advance(seconds=40)
    settled = any_client.functions.retrieve(id=broken.id)
    assert settled.status == "Failed" and "SyntaxError" in settled.error["message"]
    assert [f.status for f in any_client.functions.list(status="Ready")] == ["Ready"]


def test_deploy_timing_per_deployment(emu: FunctionsEmulator) -> None:
    fn = emu.deploy(function_handle=handle, deploy_timing=DeployTiming(queued=0, deploying=5))
    assert fn.status == "Deploying"
    emu.clock.advance(seconds=5)
    assert emu.client().functions.retrieve(id=fn.id).status == "Ready"
    assert emu.deploy(function_handle=handle, name="instant").status == "Ready"
    with pytest.raises(ValueError):
        DeployTiming(queued=float("nan"))


SCALE = 3


def test_function_handle_globals_are_caught(emu: FunctionsEmulator) -> None:
    def handle(data):  # type: ignore[no-untyped-def]
        return data["x"] * SCALE  # a module global: not in the source the SDK ships

    with pytest.warns(UserWarning, match="SCALE"):
        fn = emu.deploy(function_handle=handle, name="uses-global")
    call = fn.call(data={"x": 2})
    assert call.status == "Failed"
    assert "SCALE" in call.error["message"] and "function_handle" in call.error["message"]
