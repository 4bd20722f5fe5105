"""Bad input never breaks the emulator: each case answers 4xx in CDF's error shape, state unchanged."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from emulator import FunctionsEmulator, Limits

P = "/api/v1/projects/robust"


def handle(data):
    return data


@pytest.fixture(scope="module")
def env():
    emu = FunctionsEmulator(project="robust", raise_server_exceptions=False)
    fn = emu.deploy(function_handle=handle, external_id="fn")
    emu.client().functions.call(id=fn.id, data={"a": 1})
    emu.client().functions.schedules.create(name="s", cron_expression="0 * * * *", function_id=fn.id)
    yield emu, TestClient(emu.app, raise_server_exceptions=False), fn.id
    emu.close()


def _snapshot(emu: FunctionsEmulator) -> str:
    state = emu.state()
    for project in state["projects"].values():  # sessions are created by the SDK's own calls
        project.pop("sessions", None)
    return json.dumps(state, sort_keys=True)


def _assert_refused(emu, response, *statuses: int) -> None:
    assert response.status_code in (statuses or range(400, 500)), (response.status_code, response.text[:200])
    error = response.json()["error"]
    assert error["code"] == response.status_code and isinstance(error["message"], str) and error["message"]


JSON = {"content-type": "application/json"}

CASES = [
    ("malformed json", "POST", "/functions/list", b"{not json", JSON),
    ("truncated json", "POST", "/functions/byids", b'{"items": [{"id": 1}', JSON),
    ("wrong content type", "POST", "/functions/list", b"<xml/>", {"content-type": "application/xml"}),
    (
        "broken gzip",
        "POST",
        "/functions/list",
        b"\x1f\x8b\x08\x00garbage",
        {**JSON, "content-encoding": "gzip"},
    ),
    ("unknown encoding", "POST", "/functions/list", b"{}", {**JSON, "content-encoding": "br"}),
    ("body is a list", "POST", "/functions/byids", b"[1, 2]", JSON),
    ("id zero", "POST", "/functions/byids", b'{"items": [{"id": 0}]}', JSON),
    ("id negative", "POST", "/functions/byids", b'{"items": [{"id": -5}]}', JSON),
    ("id over 2^53", "POST", "/functions/byids", b'{"items": [{"id": 9007199254740993}]}', JSON),
    ("id is a string", "POST", "/functions/byids", b'{"items": [{"id": "1"}]}', JSON),
    ("id is a bool", "POST", "/functions/byids", b'{"items": [{"id": true}]}', JSON),
    ("id is a float", "POST", "/functions/byids", b'{"items": [{"id": 1.5}]}', JSON),
    ("path id zero", "GET", "/functions/0", b"", {}),
    ("path id huge", "GET", "/functions/99999999999999999999", b"", {}),
    ("path id text", "GET", "/functions/abc", b"", {}),
    (
        "external id too long",
        "POST",
        "/functions/byids",
        json.dumps({"items": [{"externalId": "x" * 256}]}).encode(),
        JSON,
    ),
    (
        "name too long",
        "POST",
        "/functions",
        json.dumps({"items": [{"name": "x" * 141, "fileId": 1}]}).encode(),
        JSON,
    ),
    ("lone surrogate", "POST", "/functions", b'{"items": [{"name": "\\ud800", "fileId": 999}]}', JSON),
    (
        "nul in name",
        "POST",
        "/functions/schedules",
        b'{"items": [{"name": "a\\u0000b", "cronExpression": "* * * *", "functionId": 1, "nonce": "x"}]}',
        JSON,
    ),
    ("unknown field", "POST", "/functions/list", b'{"filter": {}, "bogus": 1}', JSON),
    ("unknown nested field", "POST", "/functions/list", b'{"filter": {"bogus": 1}}', JSON),
    ("wrong type limit", "POST", "/functions/list", b'{"limit": "ten"}', JSON),
    ("negative limit", "GET", "/functions?limit=-1", b"", {}),
    ("empty items", "POST", "/functions/byids", b'{"items": []}', JSON),
    (
        "too many items",
        "POST",
        "/functions/byids",
        json.dumps({"items": [{"id": i} for i in range(1, 12)]}).encode(),
        JSON,
    ),
    ("duplicate ids", "POST", "/functions/byids", b'{"items": [{"id": 1}, {"id": 1}]}', JSON),
    ("items not a list", "POST", "/sessions", b'{"items": {"tokenExchange": true}}', JSON),
    (
        "two sessions at once",
        "POST",
        "/sessions",
        b'{"items": [{"tokenExchange": true}, {"tokenExchange": true}]}',
        JSON,
    ),
    ("session type unknown", "POST", "/sessions", b'{"items": [{"magic": true}]}', JSON),
    ("status lowercase", "GET", "/sessions?status=ready", b"", {}),
    ("bad cursor", "GET", "/functions/1/calls?cursor=%%%", b"", {}),
    ("call without nonce", "POST", "/functions/1/call", b'{"data": {}}', JSON),
    ("call data not object", "POST", "/functions/1/call", b'{"data": [1], "nonce": "x"}', JSON),
    (
        "bad cron",
        "POST",
        "/functions/schedules",
        b'{"items": [{"name": "s", "cronExpression": "@reboot", "functionId": 1, "nonce": "x"}]}',
        JSON,
    ),
    ("unknown route", "GET", "/nothing/here", b"", {}),
    ("wrong method", "DELETE", "/functions", b"", {}),
]


@pytest.mark.parametrize(("name", "method", "path", "body", "headers"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_4xx_and_changes_nothing(env, name, method, path, body, headers) -> None:
    emu, http, _ = env
    before = _snapshot(emu)
    response = http.request(method, P + path, content=body, headers=headers)
    _assert_refused(emu, response)
    assert _snapshot(emu) == before


def test_body_over_the_size_limit(env) -> None:
    emu, http, _ = env
    before = _snapshot(emu)
    big = b'{"filter": {"name": "' + b"x" * (21 * 1024 * 1024) + b'"}}'
    _assert_refused(emu, http.post(P + "/functions/list", content=big, headers=JSON), 413)
    bomb = gzip.compress(b'{"filter": {"name": "' + b"x" * (60 * 1024 * 1024) + b'"}}')
    _assert_refused(
        emu, http.post(P + "/functions/list", content=bomb, headers={**JSON, "content-encoding": "gzip"}), 413
    )
    assert _snapshot(emu) == before


def test_unicode_edge_cases_round_trip(env) -> None:
    emu, http, fn_id = env
    for text in ("emoji 😀", "rtl \u202e abc", "combining e\u0301", "zero width \u200b", "\u0000 nul"):
        answer = http.post(P + "/functions/list", json={"filter": {"name": text}})
        assert answer.status_code == 200 and answer.json() == {"items": []}
    data = {"s": "😀\u202e\u0000", "k\u00e9y": ["\u200b"]}
    call = emu.client().functions.call(id=fn_id, data=data)
    assert call.get_response() == data


def _zip(entries: dict[str, bytes], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in entries.items():
            zf.writestr(name, content)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, "/etc/passwd")
    return buffer.getvalue()


HANDLER = b"def handle():\n    return 1\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a zip", "not a zip"),
        (_zip({"handler.py": HANDLER, "../escape.py": b"x = 1"}), "Unsafe path"),
        (_zip({"handler.py": HANDLER, "/abs/escape.py": b"x = 1"}), "Unsafe path"),
        (_zip({"handler.py": HANDLER, "a/../../escape.py": b"x = 1"}), "Unsafe path"),
        (_zip({"handler.py": HANDLER}, symlink="link.py"), "Symbolic links"),
        (_zip({"handler.py": HANDLER, "big.bin": b"\0" * 200_000}), "unpacks to"),
    ],
    ids=["not-a-zip", "dotdot", "absolute", "nested-dotdot", "symlink", "too-big"],
)
def test_zip_safety(content: bytes, message: str, tmp_path: Path) -> None:
    emu = FunctionsEmulator(limits=Limits(max_unpacked_bytes=100_000))
    client = emu.client()
    meta = client.files.upload_bytes(content, name="code.zip")
    fn = client.functions.create(name="unsafe", file_id=meta.id)
    assert fn.status == "Failed" and message in fn.error["message"]
    workdir = emu.workdir
    assert not (workdir.parent / "escape.py").exists() and not (workdir / "escape.py").exists()
    assert not Path("/abs/escape.py").exists()
    assert list((workdir / "functions").glob("*")) == []  # nothing left behind
    ok = emu.deploy(function_handle=handle)
    assert client.functions.call(id=ok.id, data={"still": "serving"}).get_response() == {"still": "serving"}
    emu.close()
