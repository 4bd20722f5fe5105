"""The dev server refuses cross-site and DNS-rebinding requests (emulator/guard.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulator import FunctionsEmulator
from emulator.server import EmulatorServer
from tests.test_cli import Cli


def handle():
    return 1


@pytest.fixture
def served() -> Iterator[tuple[FunctionsEmulator, EmulatorServer]]:
    emu = FunctionsEmulator(project="p")
    emu.deploy(function_handle=handle, external_id="fn")
    with emu.serve() as server:
        yield emu, server
    emu.close()


def _functions(emu: FunctionsEmulator) -> list[str]:
    return [f.external_id for f in emu.client().functions.list()]


def test_a_cross_site_form_post_is_refused(served) -> None:
    emu, server = served
    form = {"content-type": "application/x-www-form-urlencoded", "origin": "https://evil.example"}
    answer = httpx.post(f"{server.base_url}/_emulator/reset", content=b"a=1", headers=form, timeout=30)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == 403
    bodiless = httpx.post(f"{server.base_url}/_emulator/reset", headers={"origin": "null"}, timeout=30)
    assert bodiless.status_code == 403
    fetch = {"sec-fetch-site": "cross-site"}
    assert httpx.post(f"{server.base_url}/_emulator/reset", headers=fetch, timeout=30).status_code == 403
    assert _functions(emu) == ["fn"]


def test_a_post_without_a_json_content_type_is_refused(served) -> None:
    emu, server = served
    fn_id = emu.client().functions.retrieve(external_id="fn").id
    for headers in ({"content-type": "text/plain"}, {}):
        answer = httpx.post(
            f"{server.base_url}/api/v1/projects/p/functions/delete",
            content=b'{"items": [{"id": %d}]}' % fn_id,
            headers=headers,
            timeout=30,
        )
        assert answer.status_code == 415 and answer.json()["error"]["code"] == 415
    assert _functions(emu) == ["fn"]


def test_a_rebound_host_is_refused(served) -> None:
    _emu, server = served
    for host in ("evil.example", f"evil.example:{server.port}", "127.0.0.1.evil.example"):
        answer = httpx.get(f"{server.base_url}/_emulator/state", headers={"host": host}, timeout=30)
        assert answer.status_code == 421, host
    for host in ("localhost", f"localhost:{server.port}", "127.0.0.1", "app.localhost", "[::1]:80"):
        assert httpx.get(f"{server.base_url}/_emulator/clock", headers={"host": host}, timeout=30).is_success


def test_same_origin_and_the_sdks_pass(served) -> None:
    _emu, server = served
    own = {"origin": server.base_url}
    answer = httpx.post(
        f"{server.base_url}/_emulator/clock/advance", json={"seconds": 1}, headers=own, timeout=30
    )
    assert answer.status_code == 200
    client = server.client()
    fn = client.functions.retrieve(external_id="fn")
    assert fn.call().get_response() == 1
    client.files.upload_bytes(b"x", name="x.bin", external_id="x", mime_type="application/octet-stream")
    assert client.files.download_bytes(external_id="x") == b"x"


def test_allowed_hosts_and_origins() -> None:
    emu = FunctionsEmulator()
    with emu.serve(allow_hosts=["emulator.test"], allow_origins=["http://localhost:3000"]) as server:
        url = f"{server.base_url}/_emulator/clock/advance"
        assert httpx.post(
            url, json={"seconds": 1}, headers={"host": "emulator.test:1"}, timeout=30
        ).is_success
        page = {"origin": "http://localhost:3000"}
        assert httpx.post(url, json={"seconds": 1}, headers=page, timeout=30).is_success
        page = {"origin": "http://localhost:3001"}
        assert httpx.post(url, json={"seconds": 1}, headers=page, timeout=30).status_code == 403
    emu.close()


def test_cli_allow_host() -> None:
    with Cli("--allow-host", "emulator.test") as cli:
        clock = f"{cli.url}/_emulator/clock"
        assert httpx.get(clock, headers={"host": "emulator.test"}, timeout=30).is_success
        assert httpx.get(clock, headers={"host": "evil.example"}, timeout=30).status_code == 421
        cli.stop()


def test_facades_are_refused_in_their_own_shapes(served) -> None:
    emu, server = served
    emu.roma.register_task("inst", "t")
    emu.globus  # noqa: B018 - the facade must exist before its routes answer
    rebound = {"host": "evil.example"}
    roma = httpx.get(
        f"{server.base_url}/v2/roma-project/fdi/instances/inst/tasks", headers=rebound, timeout=30
    )
    assert (
        roma.status_code == 421
        and roma.json()["code"] == 421
        and set(roma.json()["reason"])
        == {
            "error_code",
            "error_msg",
        }
    )
    form = {"content-type": "text/plain"}
    timer = httpx.post(f"{server.base_url}/globus-timer/jobs/", content=b"{}", headers=form, timeout=30)
    assert timer.status_code == 415 and timer.json()["error"]["status"] == 415
    datapoints = {"content-type": "application/protobuf"}  # datapoint insertion's other body type
    answer = httpx.post(
        f"{server.base_url}/api/v1/projects/p/timeseries/data",
        content=b"\x00",
        headers=datapoints,
        timeout=30,
    )
    assert answer.status_code != 415
