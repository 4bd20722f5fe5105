"""The Functions lifecycle through the real SDK: deploy, list, retrieve, delete, validation."""

from __future__ import annotations

import io
import zipfile

import pytest
from cognite.client import AsyncCogniteClient, CogniteClient
from cognite.client.exceptions import CogniteAPIError, CogniteNotFoundError

from emulator import FunctionsEmulator
from tests.conftest import fixture_folder


def make_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def create_from_zip(client: CogniteClient, files: dict[str, str], **kwargs):
    meta = client.files.upload_bytes(make_zip(files), name="code.zip")
    return client.functions.create(name=kwargs.pop("name", "fn"), file_id=meta.id, **kwargs)


# --- deployment -------------------------------------------------------------------------------------


def test_create_from_folder_is_ready_and_callable(client: CogniteClient) -> None:
    fn = client.functions.create(name="hello", folder=fixture_folder("hello"), external_id="hello")
    assert fn.status == "Ready" and fn.error is None
    assert fn.last_called is None
    assert fn.call(data={"name": "Ada"}).get_response() == {"greeting": "Hello, Ada!"}
    assert client.functions.retrieve(id=fn.id).last_called == 1767225600000


def test_create_from_folder_with_helper_module(client: CogniteClient) -> None:
    fn = client.functions.create(name="h", folder=fixture_folder("with_helper"), skip_folder_validation=True)
    assert fn.call(data={"text": "hi"}).get_response() == {"shout": "HI!"}


def test_create_from_function_handle(client: CogniteClient) -> None:
    def handle(data, secrets):
        return {"n": data["n"] * 2, "secret": secrets["api-key"]}

    fn = client.functions.create(name="double", function_handle=handle, secrets={"api-key": "s3cr3t"})
    assert fn.status == "Ready"
    assert fn.secrets == {"api-key": "***"}
    assert fn.call(data={"n": 21}).get_response() == {"n": 42, "secret": "s3cr3t"}


def test_create_from_file_id_with_nested_function_path(client: CogniteClient) -> None:
    fn = create_from_zip(
        client,
        {
            "pkg/__init__.py": "",
            "pkg/util.py": "X = 7\n",
            "pkg/main.py": "from pkg.util import X\n\ndef handle():\n    return X\n",
        },
        function_path="pkg/main.py",
    )
    assert fn.status == "Ready", fn.error
    assert fn.function_path == "pkg/main.py"
    assert fn.call().get_response() == 7


def test_created_function_carries_every_field(client: CogniteClient) -> None:
    fn = create_from_zip(
        client,
        {"handler.py": "def handle():\n    return 1\n"},
        name="full",
        external_id="full-xid",
        description="does it all",
        owner="me@example.com",
        env_vars={"MODE": "test"},
        cpu=0.5,
        memory=2.0,
        runtime="py311",
        metadata={"team": "a"},
        index_url="https://pypi.example/simple",
        extra_index_urls=["https://extra.example/simple"],
    )
    got = client.functions.retrieve(external_id="full-xid")
    assert got is not None
    for f in (fn, got):
        assert (f.name, f.description, f.owner, f.runtime) == (
            "full",
            "does it all",
            "me@example.com",
            "py311",
        )
        assert (f.cpu, f.memory, f.env_vars, f.metadata) == (0.5, 2.0, {"MODE": "test"}, {"team": "a"})
        assert f.created_time == 1767225600000


@pytest.mark.parametrize(
    ("files", "function_path", "expected"),
    [
        ({"other.py": "x = 1\n"}, "handler.py", "No file at functionPath"),
        ({"handler.py": "def handle(:\n"}, "handler.py", "SyntaxError"),
        (
            {"handler.py": "import not_a_module_anywhere\n\ndef handle():\n    pass\n"},
            "handler.py",
            "ModuleNotFoundError",
        ),
        ({"handler.py": "def other():\n    pass\n"}, "handler.py", "must define a function named 'handle'"),
        ({"handler.py": "handle = 3\n"}, "handler.py", "not callable"),
        ({"handler.py": "raise SystemExit(3)\n"}, "handler.py", "SystemExit"),
    ],
    ids=[
        "missing-file",
        "syntax-error",
        "import-error",
        "no-handle",
        "handle-not-callable",
        "exit",
    ],
)
def test_failed_deployments(
    client: CogniteClient, files: dict[str, str], function_path: str, expected: str
) -> None:
    fn = create_from_zip(client, files, function_path=function_path)
    assert fn.status == "Failed"
    assert fn.error is not None and expected in fn.error["message"] + (fn.error.get("trace") or "")
    assert client.functions.retrieve(id=fn.id).status == "Failed"
    with pytest.raises(CogniteAPIError) as err:
        client.functions.call(id=fn.id)
    assert err.value.code == 400 and "not ready" in err.value.message


def test_import_error_has_the_user_traceback(client: CogniteClient) -> None:
    fn = create_from_zip(client, {"handler.py": "def handle():\n    pass\n\n1 / 0\n"})
    assert fn.status == "Failed"
    assert "ZeroDivisionError" in fn.error["trace"] and "handler.py" in fn.error["trace"]


def test_not_a_zip_fails_deployment(client: CogniteClient) -> None:
    meta = client.files.upload_bytes(b"plain text", name="code.zip")
    fn = client.functions.create(name="bad", file_id=meta.id)
    assert fn.status == "Failed" and "not a zip" in fn.error["message"]


def test_redeploy_runs_new_code(client: CogniteClient) -> None:
    first = create_from_zip(client, {"handler.py": "def handle():\n    return 'v1'\n"}, external_id="app")
    assert first.call().get_response() == "v1"
    client.functions.delete(external_id="app")
    second = create_from_zip(client, {"handler.py": "def handle():\n    return 'v2'\n"}, external_id="app")
    assert second.call().get_response() == "v2"


# --- reading ----------------------------------------------------------------------------------------


@pytest.fixture
def three(emu: FunctionsEmulator, client: CogniteClient) -> list[int]:
    ids = []
    for i, (owner, meta) in enumerate([("ann", {"team": "x"}), ("bob", {"team": "y"}), ("ann", None)]):
        emu.clock.advance(seconds=10)
        fn = create_from_zip(client, {"handler.py": "def handle():\n    return 1\n"}, name=f"fn{i}",
                             external_id=f"job-{i}", owner=owner, metadata=meta)  # fmt: skip
        ids.append(fn.id)
    create_from_zip(client, {"handler.py": "broken("}, name="broken", external_id="other")
    return ids


def test_list_filters(client: CogniteClient, three: list[int]) -> None:
    assert len(client.functions.list()) == 4
    assert [f.id for f in client.functions.list(owner="ann")] == [three[0], three[2]]
    assert [f.name for f in client.functions.list(name="fn1")] == ["fn1"]
    assert len(client.functions.list(external_id_prefix="job-")) == 3
    assert [f.name for f in client.functions.list(status="Failed")] == ["broken"]
    assert [f.id for f in client.functions.list(metadata={"team": "y"})] == [three[1]]
    start = 1767225600000
    assert [
        f.id for f in client.functions.list(created_time={"min": start + 15_000, "max": start + 25_000})
    ] == [three[1]]
    fn0 = client.functions.retrieve(id=three[0])
    assert [f.id for f in client.functions.list(file_id=fn0.file_id)] == [three[0]]
    assert len(client.functions.list(limit=2)) == 2


def test_retrieve_by_id_and_external_id(client: CogniteClient, three: list[int]) -> None:
    assert client.functions.retrieve(id=three[1]).external_id == "job-1"
    assert client.functions.retrieve(external_id="job-2").id == three[2]
    assert client.functions.retrieve(id=987654) is None
    assert client.functions.retrieve(external_id="nope") is None


def test_retrieve_multiple_with_and_without_ignore_unknown(client: CogniteClient, three: list[int]) -> None:
    got = client.functions.retrieve_multiple(ids=three[:2], external_ids=["job-2"])
    assert sorted(f.id for f in got) == sorted(three)
    with pytest.raises(CogniteNotFoundError) as err:
        client.functions.retrieve_multiple(ids=[three[0], 987654], external_ids=["nope"])
    assert {"id": 987654} in err.value.not_found
    assert {"external_id": "nope"} in err.value.not_found
    got = client.functions.retrieve_multiple(
        ids=[three[0], 987654], external_ids=["nope"], ignore_unknown_ids=True
    )
    assert [f.id for f in got] == [three[0]]


def test_delete(client: CogniteClient, three: list[int]) -> None:
    client.functions.delete(id=three[0], external_id="job-1")
    assert sorted(f.id for f in client.functions.list()) != three
    assert client.functions.retrieve(id=three[0]) is None
    with pytest.raises(CogniteNotFoundError):
        client.functions.delete(id=three[0])


def test_limits_and_activation_status(client: CogniteClient) -> None:
    limits = client.functions.limits()
    assert limits.timeout_minutes == 9 and limits.response_size_mb == 1
    assert "py313" in limits.runtimes
    assert client.functions.status().status == "activated"
    assert client.functions.activate().status == "activated"


# --- validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "x" * 141}, "name"),
        ({"external_id": "x" * 256}, "externalId"),
        ({"description": "x" * 501}, "description"),
        ({"owner": "x" * 129}, "owner"),
        ({"secrets": {f"k{i}": "v" for i in range(31)}}, "secrets"),
        ({"secrets": {"Upper": "v"}}, "secrets"),
        ({"secrets": {"way-too-long-secret-key": "v"}}, "secrets"),
        ({"env_vars": {"BAD-KEY": "v"}}, "envVars"),
        ({"env_vars": {f"K{i}": "v" for i in range(101)}}, "envVars"),
        ({"cpu": 99.0}, "cpu"),
        ({"memory": 0.01}, "memory"),
        ({"runtime": "py27"}, "runtime"),
        ({"metadata": {"k" * 33: "v"}}, "metadata"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"function_path": "../escape.py"}, "functionPath"),
    ],
)
def test_create_validation(client: CogniteClient, kwargs: dict, message: str) -> None:
    meta = client.files.upload_bytes(make_zip({"handler.py": "def handle():\n    pass\n"}), name="c.zip")
    kwargs.setdefault("name", "fn")
    with pytest.raises(CogniteAPIError) as err:
        fn = client.functions.create(file_id=meta.id, **kwargs)
        assert fn.status == "Failed" and message in fn.error["message"]  # functionPath fails at deploy
        raise CogniteAPIError(message=fn.error["message"], code=400)
    assert err.value.code == 400 and message in err.value.message
    assert all(f.status == "Failed" for f in client.functions.list())


def test_duplicate_external_id_is_409(client: CogniteClient) -> None:
    create_from_zip(client, {"handler.py": "def handle():\n    pass\n"}, external_id="dup")
    with pytest.raises(CogniteAPIError) as err:
        create_from_zip(client, {"handler.py": "def handle():\n    pass\n"}, external_id="dup")
    assert err.value.code == 409 and err.value.duplicated == [{"externalId": "dup"}]


def test_unknown_file_id_is_400_missing(client: CogniteClient) -> None:
    # The SDK polls Files for an unknown id for 31 s before giving up; send the create directly.
    url = f"/api/v1/projects/{client.config.project}/functions"
    with pytest.raises(CogniteAPIError) as err:
        client.post(url, json={"items": [{"name": "fn", "fileId": 55555555}]})
    assert err.value.code == 400 and {"id": 55555555} in (err.value.missing or [])
    assert client.functions.list() == []


# --- async client -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_async_client_lifecycle(emu: FunctionsEmulator) -> None:
    aclient: AsyncCogniteClient = emu.async_client()
    fn = await aclient.functions.create(
        name="hello", folder=fixture_folder("hello"), skip_folder_validation=True
    )
    assert fn.status == "Ready"
    assert [f.id for f in await aclient.functions.list()] == [fn.id]
    assert (await aclient.functions.retrieve(id=fn.id)).name == "hello"
    call = await aclient.functions.call(id=fn.id, data={"name": "async"})
    assert call.status == "Completed"
    await aclient.functions.delete(id=fn.id)
    assert await aclient.functions.list() == []
