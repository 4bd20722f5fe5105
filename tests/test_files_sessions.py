"""Files (the part functions.create uses) and Sessions, through the real SDK."""

from __future__ import annotations

import pytest
from cognite.client import CogniteClient
from cognite.client.data_classes.iam import ClientCredentials
from cognite.client.exceptions import CogniteAPIError, CogniteNotFoundError

from emulator import FunctionsEmulator


def test_upload_bytes_marks_file_uploaded_and_downloads_back(client: CogniteClient) -> None:
    meta = client.files.upload_bytes(b"zip-bytes", name="code.zip", external_id="code")
    got = client.files.retrieve(id=meta.id)
    assert got is not None and got.uploaded is True and got.name == "code.zip"
    assert client.files.download_bytes(id=meta.id) == b"zip-bytes"
    assert client.files.download_bytes(external_id="code") == b"zip-bytes"


def test_duplicate_external_id_without_overwrite_is_409(client: CogniteClient) -> None:
    client.files.upload_bytes(b"a", name="a.zip", external_id="dup")
    with pytest.raises(CogniteAPIError) as err:
        client.files.upload_bytes(b"b", name="b.zip", external_id="dup", overwrite=False)
    assert err.value.code == 409
    assert err.value.duplicated == [{"externalId": "dup"}]


def test_overwrite_replaces_content(client: CogniteClient) -> None:
    first = client.files.upload_bytes(b"one", name="a.zip", external_id="same")
    second = client.files.upload_bytes(b"two", name="a.zip", external_id="same", overwrite=True)
    assert first.id == second.id
    assert client.files.download_bytes(id=first.id) == b"two"


@pytest.mark.parametrize("value", ["1", "0", "yes", ""])
def test_overwrite_must_be_a_boolean(client: CogniteClient, value: str) -> None:
    url = f"/api/v1/projects/{client.config.project}/files"
    with pytest.raises(CogniteAPIError) as err:
        client.post(url, json={"name": "a.zip", "externalId": "x"}, params={"overwrite": value})
    assert err.value.code == 400 and "overwrite" in err.value.message
    assert client.files.retrieve(external_id="x") is None


def test_retrieve_multiple_and_delete(client: CogniteClient) -> None:
    a = client.files.upload_bytes(b"a", name="a.zip")
    b = client.files.upload_bytes(b"b", name="b.zip")
    assert {f.id for f in client.files.retrieve_multiple(ids=[a.id, b.id])} == {a.id, b.id}
    with pytest.raises(CogniteNotFoundError) as err:
        client.files.retrieve_multiple(ids=[a.id, 424242])
    assert err.value.not_found == [{"id": 424242}]
    assert len(client.files.retrieve_multiple(ids=[a.id, 424242], ignore_unknown_ids=True)) == 1
    client.files.delete(id=a.id)
    assert client.files.retrieve(id=a.id) is None


@pytest.mark.parametrize(
    "kind", ["DEFAULT", "TOKEN_EXCHANGE", "ONESHOT_TOKEN_EXCHANGE", "CLIENT_CREDENTIALS"]
)
def test_create_each_session_type(client: CogniteClient, kind: str) -> None:
    creds = ClientCredentials("my-client", "my-secret") if kind == "CLIENT_CREDENTIALS" else None
    session = client.iam.sessions.create(creds, session_type=kind)  # type: ignore[arg-type]
    assert session.status == "READY" and session.nonce
    expected = {"DEFAULT": "TOKEN_EXCHANGE"}.get(kind, kind)
    assert session.type == expected
    got = client.iam.sessions.retrieve(session.id)
    assert got.id == session.id and got.creation_time == 1767225600000
    if kind == "CLIENT_CREDENTIALS":
        assert got.client_id == "my-client"


def test_list_filters_by_status_and_revoke(client: CogniteClient) -> None:
    keep = client.iam.sessions.create(session_type="TOKEN_EXCHANGE")
    gone = client.iam.sessions.create(session_type="TOKEN_EXCHANGE")
    revoked = client.iam.sessions.revoke(gone.id)
    assert revoked.status == "REVOKED"
    assert [s.id for s in client.iam.sessions.list(status="REVOKED")] == [gone.id]
    assert keep.id in [s.id for s in client.iam.sessions.list(status="READY")]
    assert len(client.iam.sessions.list(limit=-1)) == 2


def test_unknown_session_ids_are_reported_missing(client: CogniteClient) -> None:
    with pytest.raises(CogniteAPIError) as err:
        client.iam.sessions.retrieve([123456])
    assert err.value.code == 400


def _deploy_echo(emu: FunctionsEmulator) -> int:
    def handle(data):
        return data

    return emu.deploy(function_handle=handle, external_id="echo").id


def test_nonce_is_single_use(emu: FunctionsEmulator, client: CogniteClient) -> None:
    fn_id = _deploy_echo(emu)
    session = client.iam.sessions.create(session_type="ONESHOT_TOKEN_EXCHANGE")
    assert client.functions.call(id=fn_id, data={"a": 1}, nonce=session.nonce).status == "Completed"
    assert client.iam.sessions.retrieve(session.id).status == "ACTIVE"
    with pytest.raises(CogniteAPIError) as err:
        client.functions.call(id=fn_id, nonce=session.nonce)
    assert err.value.code == 400 and "already been used" in err.value.message


@pytest.mark.parametrize("bad", ["not-a-nonce", "revoked"])
def test_unknown_or_revoked_nonce_is_refused(emu: FunctionsEmulator, client: CogniteClient, bad: str) -> None:
    fn_id = _deploy_echo(emu)
    nonce = bad
    if bad == "revoked":
        session = client.iam.sessions.create(session_type="TOKEN_EXCHANGE")
        client.iam.sessions.revoke(session.id)
        nonce = session.nonce
    with pytest.raises(CogniteAPIError) as err:
        client.functions.call(id=fn_id, nonce=nonce)
    assert err.value.code == 400
    assert len(client.functions.calls.list(function_id=fn_id)) == 0
