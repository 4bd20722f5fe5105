"""Strict auth covers every route: CDF API, OpenAPI, admin API, state dump, dashboard, facades, file URLs.

Each route is tried without a token, with an unknown token, with a project token and with the admin
token, in-process and over a loopback server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cognite.client.exceptions import CogniteAPIError, CogniteProjectAccessError
from starlette.testclient import TestClient

from emulator import FunctionsEmulator

ADMIN = "admin-secret-token"
A = "token-a"  # project a only
EVERY = "token-every"  # every project


def handle(data, secrets):
    return {"seen": sorted(secrets)}


def bearer(token: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"} if token else {}


@pytest.fixture(params=["in-process", "server"])
def env(request: pytest.FixtureRequest) -> Iterator[tuple[FunctionsEmulator, Any]]:
    emu = FunctionsEmulator(project="a", auth="strict", admin_token=ADMIN)
    emu.auth.bind(A, ["a"])
    emu.auth.allow(EVERY)
    emu.deploy(
        function_handle=handle,
        external_id="fn",
        secrets={"apikey": "s3cr3t"},
        index_url="https://user:hunter2@pypi.example/simple",
        extra_index_urls=["https://tok3n@extra.example/simple"],
    )
    if request.param == "in-process":
        yield emu, TestClient(emu.app)
    else:
        with emu.serve() as server, httpx.Client(base_url=server.base_url, timeout=30) as http:
            yield emu, http
    emu.close()


CDF_ROUTES = [
    ("GET", "/api/v1/projects/a/functions", None),
    ("POST", "/api/v1/projects/a/functions/list", {}),
    ("GET", "/api/v1/projects/a/openapi.json", None),
    ("POST", "/api/v1/projects/a/functions/schedules/list", {}),
    # the resource families after Functions: the same rules, from the same middleware
    ("GET", "/api/v1/projects/a/assets", None),
    ("POST", "/api/v1/projects/a/files/list", {}),
    ("POST", "/api/v1/projects/a/timeseries/list", {}),
    ("GET", "/api/v1/projects/a/raw/dbs", None),
    ("POST", "/api/v1/projects/a/datasets/list", {}),
    ("POST", "/api/v1/projects/a/models/instances/list", {}),
]
ADMIN_ROUTES = [
    ("GET", "/_emulator/clock", None),
    ("POST", "/_emulator/clock/advance", {"seconds": 1}),
    ("GET", "/_emulator/state", None),
    ("GET", "/_emulator/faults", None),
    ("DELETE", "/_emulator/faults", None),
    ("GET", "/_emulator/roma/tasks", None),
    ("GET", "/_emulator/ui", None),
    ("GET", "/_emulator/ui/api/summary", None),
    ("GET", "/_emulator/ui/api/projects", None),
    ("POST", "/_emulator/seed?project=seeded", {"datasets": [{"externalId": "d"}]}),
    ("POST", "/_emulator/reset", {}),  # last: it forgets the deployed function
]


def _status(http: Any, method: str, path: str, body: Any, token: str | None) -> int:
    answer = http.request(method, path, json=body, headers=bearer(token))
    if answer.status_code in (401, 403):
        error = answer.json()["error"]  # CDF's shape, or the Timer service's under /globus-timer
        assert error.get("status", error["code"]) == answer.status_code
    return int(answer.status_code)


@pytest.mark.parametrize(("method", "path", "body"), CDF_ROUTES, ids=[r[1] for r in CDF_ROUTES])
def test_cdf_routes(env, method: str, path: str, body: Any) -> None:
    _, http = env
    assert _status(http, method, path, body, None) == 401
    assert _status(http, method, path, body, "made-up") == 401
    assert _status(http, method, path, body, A) == 200
    assert _status(http, method, path, body, EVERY) == 200
    assert _status(http, method, path, body, ADMIN) == 200
    assert _status(http, method, path.replace("/projects/a/", "/projects/b/"), body, A) == 403
    assert _status(http, method, path.replace("/projects/a/", "/projects/b/"), body, EVERY) == 200


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES, ids=[r[1] for r in ADMIN_ROUTES])
def test_admin_routes_need_the_admin_token(env, method: str, path: str, body: Any) -> None:
    emu, http = env
    for token, status in (
        (None, 401),
        ("made-up", 401),
        (A, 403),
        (EVERY, 403),
        (emu.auth.client_token, 403),
    ):
        assert _status(http, method, path, body, token) == status, token
    assert emu.client().functions.retrieve(external_id="fn") is not None  # nothing happened
    assert _status(http, method, path, body, ADMIN) in (200, 201)


def test_the_dashboard_page_takes_the_admin_token_in_the_query(env) -> None:
    _, http = env
    assert http.get("/_emulator/ui?token=made-up").status_code == 401
    assert http.get(f"/_emulator/ui?token={A}").status_code == 403
    page = http.get(f"/_emulator/ui?token={ADMIN}")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert http.get(f"/_emulator/ui/api/summary?token={ADMIN}").json()["project"] == "a"
    assert http.get(f"/_emulator/state?token={ADMIN}").status_code == 401  # only the dashboard


def test_the_sdk_with_tokens(env) -> None:
    emu, _ = env
    client = emu.client()  # the emulator's own client token reaches every project
    fn = client.functions.retrieve(external_id="fn")
    assert fn.call(data={}).get_response() == {"seen": ["apikey"]}
    assert emu.client("b").functions.list() == []


def test_file_urls_are_signed_capabilities(env) -> None:
    emu, http = env
    client = emu.client()
    client.files.upload_bytes(b"payload", name="f.bin", external_id="f")  # the SDK PUTs to the signed URL
    assert client.files.download_bytes(external_id="f") == b"payload"  # and GETs without a token
    file_id = client.files.retrieve(external_id="f").id
    link = client.files.retrieve_download_urls(id=file_id)[file_id]
    url = httpx.URL(link)
    assert url.params.get("sig")
    path = url.path
    assert http.get(f"{path}?sig={url.params['sig']}").content == b"payload"
    assert http.get(path).status_code == 401
    assert http.get(f"{path}?sig={'0' * 32}").status_code == 401
    assert (
        http.put(path, content=b"x", headers={"content-type": "application/octet-stream"}).status_code == 401
    )


def test_multipart_part_urls_are_signed_too(env) -> None:
    emu, http = env
    client = emu.client()
    with client.files.multipart_upload_session("big.bin", parts=2, external_id="big") as session:
        session.upload_part(0, b"x" * (5 * 1024 * 1024))  # the SDK PUTs to the signed part URLs
        session.upload_part(1, b"tail")
    assert client.files.download_bytes(external_id="big").endswith(b"tail")
    file_id = client.files.retrieve(external_id="big").id
    part = f"/api/v1/projects/a/files/{file_id}/content/parts/some-upload/0"
    assert (
        http.put(part, content=b"x", headers={"content-type": "application/octet-stream"}).status_code == 401
    )


def test_state_dump_masks_secrets_unless_the_admin_asks(env) -> None:
    emu, http = env
    masked = http.get("/_emulator/state", headers=bearer(ADMIN)).json()
    fn = masked["projects"]["a"]["functions"][0]
    assert fn["secrets"] == {"apikey": "***"}
    assert fn["index_url"] == "https://user:***@pypi.example/simple"
    assert fn["extra_index_urls"] == ["https://***@extra.example/simple"]
    assert "s3cr3t" not in str(masked) and "hunter2" not in str(masked) and "tok3n" not in str(masked)
    full = http.get("/_emulator/state?secrets=true", headers=bearer(ADMIN)).json()
    fn = full["projects"]["a"]["functions"][0]
    assert fn["secrets"] == {"apikey": "s3cr3t"} and "hunter2" in fn["index_url"]
    assert emu.state()["projects"]["a"]["functions"][0]["secrets"] == {"apikey": "***"}
    assert emu.state(secrets=True)["projects"]["a"]["functions"][0]["secrets"] == {"apikey": "s3cr3t"}


def test_open_mode_masks_too_and_never_reveals_without_the_admin_token() -> None:
    emu = FunctionsEmulator()
    emu.deploy(function_handle=handle, secrets={"apikey": "s3cr3t"})
    http = TestClient(emu.app)
    assert http.get("/_emulator/state").json()["projects"][emu.project]["functions"][0]["secrets"] == {
        "apikey": "***"
    }
    assert http.get("/_emulator/state?secrets=true").status_code == 403
    emu.close()
    emu = FunctionsEmulator(admin_token=ADMIN)
    emu.deploy(function_handle=handle, secrets={"apikey": "s3cr3t"})
    answer = TestClient(emu.app).get("/_emulator/state?secrets=true", headers=bearer(ADMIN))
    assert answer.json()["projects"][emu.project]["functions"][0]["secrets"] == {"apikey": "s3cr3t"}
    emu.close()


def test_facades(env) -> None:
    emu, http = env
    pytest.importorskip("globus_sdk")
    pytest.importorskip("huaweicloudsdkroma")
    assert emu.globus_timer_client().list_jobs()["jobs"] == []  # the emulator's own client token
    for token, status in ((None, 401), ("made-up", 401), (A, 200), (ADMIN, 200)):
        assert _status(http, "GET", "/globus-timer/jobs/", None, token) == status
    emu.roma.register_task("inst", "t")
    roma_path = "/v2/roma-project/fdi/instances/inst/tasks/t/dispatches"
    refused = http.get(roma_path)
    assert (
        refused.status_code == 401 and refused.json()["reason"]["error_code"] == "APIG.0301"
    )  # ROMA's shape
    signed = {"authorization": "SDK-HMAC-SHA256 Access=made-up, SignedHeaders=host, Signature=00"}
    assert http.get(roma_path, headers=signed).status_code == 401
    signed["authorization"] = signed["authorization"].replace("made-up", A)
    assert http.get(roma_path, headers=signed).status_code == 404  # through: the task has no schedule yet


def test_sdk_refused_with_an_unknown_token() -> None:
    emu = FunctionsEmulator(auth="strict")
    emu.auth.bind(A, ["a"])
    with emu.serve() as server:
        with pytest.raises(CogniteProjectAccessError, match="401"):  # the SDK's own type for a 401
            server.client("a", token="made-up").functions.list()
        with pytest.raises(CogniteAPIError) as err:
            server.client("b", token=A).functions.list()
        assert err.value.code == 403
        assert server.client("a", token=A).functions.list() == []
        assert server.client("a", token=emu.auth.admin_token).functions.list() == []
        assert emu.auth.admin_token and emu.auth.admin_token != emu.auth.client_token
    with pytest.raises(ValueError, match="admin"):
        FunctionsEmulator(auth="strict", admin_token=ADMIN).auth.bind(ADMIN, ["a"])
    emu.close()


def test_a_process_isolated_handler_reaches_the_emulator_with_its_token() -> None:
    from tests.conftest import fixture_folder

    emu = FunctionsEmulator(project="a", auth="strict", isolation="process", timeout=60)
    try:
        emu.deploy(folder=fixture_folder("hello"), external_id="hello")
        caller = emu.deploy(folder=fixture_folder("uses_client"), external_id="caller")
        call = emu.client().functions.call(id=caller.id, data={"call": "hello", "payload": {"name": "p"}})
        assert call.status == "Completed", call.error
        assert call.get_response()["inner"]["response"] == {"greeting": "Hello, p!"}
    finally:
        emu.close()


def test_cli_admin_token_and_every_project_tokens() -> None:
    from tests.test_cli import Cli, client_for, run_cli

    with Cli("--auth", "strict", "--token", "tok-a=a", "--token", "tok-all=*", "--admin-token", ADMIN) as cli:
        assert client_for(cli.url, "zzz", token="tok-all").functions.list() == []
        with pytest.raises(CogniteProjectAccessError):
            client_for(cli.url, "a", token="made-up").functions.list()
        assert httpx.get(f"{cli.url}/_emulator/clock", headers=bearer("tok-a"), timeout=30).status_code == 403
        assert httpx.get(f"{cli.url}/_emulator/clock", headers=bearer(ADMIN), timeout=30).is_success
        cli.stop()
    with Cli("--auth", "strict") as cli:  # a random admin token, printed
        line = ""
        while "admin token" not in line:  # printed after the URL
            line = cli.proc.stdout.readline()
            assert line, "the CLI did not print its admin token"
        printed = line.rsplit(" ", 1)[1].strip()
        assert httpx.get(f"{cli.url}/_emulator/state", headers=bearer(printed), timeout=30).is_success
        assert httpx.get(f"{cli.url}/_emulator/state", timeout=30).status_code == 401
        cli.stop()
    proc = run_cli("serve", "--admin-token", "x")
    assert proc.returncode == 2 and "--admin-token needs --auth strict" in proc.stderr
    proc = run_cli("serve", "--auth", "strict", "--admin-token", "x", "--token", "x=a")
    assert proc.returncode == 2 and "must differ" in proc.stderr
