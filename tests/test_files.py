"""Files through the real SDK: upload (single and multipart), download, list/filter/search, update."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cognite.client import CogniteClient
from cognite.client.data_classes import (
    AssetWrite,
    FileMetadataFilter,
    FileMetadataUpdate,
    FileMetadataWrite,
    LabelDefinitionWrite,
)
from cognite.client.exceptions import CogniteAPIError, CogniteNotFoundError
from starlette.testclient import TestClient

from emulator import FunctionsEmulator

MIB = 1024 * 1024


def test_upload_path_uses_multipart_and_downloads_back(sdk: CogniteClient, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n1,2\n")
    meta = sdk.files.upload(path, external_id="report", mime_type="text/csv", metadata={"k": "v"})
    assert meta.name == "report.csv"  # the metadata of the init call: not uploaded yet
    got = sdk.files.retrieve(external_id="report")
    assert got is not None and got.uploaded and got.uploaded_time is not None and got.metadata == {"k": "v"}
    assert sdk.files.download_bytes(external_id="report") == b"a,b\n1,2\n"


def test_multipart_session_joins_parts_in_order(sdk: CogniteClient) -> None:
    first, second = b"x" * (5 * MIB), b"tail"
    with sdk.files.multipart_upload_session("big.bin", parts=2, external_id="big") as session:
        session.upload_part(1, second)
        session.upload_part(0, first)
    assert sdk.files.download_bytes(external_id="big") == first + second


def test_multipart_refuses_small_inner_parts(sdk: CogniteClient) -> None:
    session_of = sdk.files.multipart_upload_session
    with (
        pytest.raises(CogniteAPIError) as err,
        session_of("small.bin", parts=2, external_id="small") as session,
    ):
        session.upload_part(0, b"too small")
        session.upload_part(1, b"end")
    assert err.value.code == 400 and "5 MiB" in err.value.message
    assert sdk.files.retrieve(external_id="small").uploaded is False  # type: ignore[union-attr]


def test_upload_content_to_a_file_created_first(sdk: CogniteClient, tmp_path: Path) -> None:
    sdk.files.create(FileMetadataWrite(external_id="later", name="later.txt"))
    assert sdk.files.retrieve(external_id="later").uploaded is False  # type: ignore[union-attr]
    path = tmp_path / "later.txt"
    path.write_bytes(b"content")
    sdk.files.upload_content(path, external_id="later")
    assert sdk.files.download_bytes(external_id="later") == b"content"


def test_download_to_a_directory(sdk: CogniteClient, tmp_path: Path) -> None:
    meta = sdk.files.upload_bytes(b"hello", name="hello.txt")
    sdk.files.download(tmp_path, id=meta.id)
    assert (tmp_path / "hello.txt").read_bytes() == b"hello"


def test_list_and_filters(sdk: CogniteClient) -> None:
    asset = sdk.assets.create(AssetWrite(external_id="pump", name="Pump"))
    sdk.files.upload_bytes(
        b"1",
        name="a.pdf",
        external_id="doc-a",
        mime_type="application/pdf",
        directory="/manuals/pumps",
        asset_ids=[asset.id],
        source="sap",
    )
    sdk.files.upload_bytes(
        b"2", name="b.txt", external_id="doc-b", mime_type="text/plain", metadata={"x": "1"}
    )
    sdk.files.create(FileMetadataWrite(name="c.txt", external_id="other"))
    assert len(sdk.files.list(limit=None)) == 3
    assert sdk.files.list(mime_type="application/pdf").as_external_ids() == ["doc-a"]
    assert sdk.files.list(external_id_prefix="doc-", limit=None).as_external_ids() == ["doc-a", "doc-b"]
    assert sdk.files.list(directory_prefix="/manuals").as_external_ids() == ["doc-a"]
    assert sdk.files.list(asset_ids=[asset.id]).as_external_ids() == ["doc-a"]
    assert sdk.files.list(asset_subtree_external_ids=["pump"]).as_external_ids() == ["doc-a"]
    assert sdk.files.list(metadata={"x": "1"}).as_external_ids() == ["doc-b"]
    assert sdk.files.list(uploaded=False).as_external_ids() == ["other"]
    assert sdk.files.list(source="sap").as_external_ids() == ["doc-a"]
    assert len(sdk.files.list(limit=None, partitions=3)) == 3
    pages = list(sdk.files(chunk_size=2))
    assert [len(p) for p in pages] == [2, 1]
    assert sdk.files.aggregate_count(filter=FileMetadataFilter(uploaded=True)) == 2
    assert sdk.files.search(name="a.pdf")[0].external_id == "doc-a"


def test_update_set_add_remove_set_null(sdk: CogniteClient) -> None:
    sdk.labels.create(LabelDefinitionWrite(external_id="PUMP", name="Pump"))
    meta = sdk.files.upload_bytes(b"1", name="a.txt", external_id="a", source="old", metadata={"k": "v"})
    upd = (
        FileMetadataUpdate(id=meta.id)
        .source.set("new")
        .metadata.add({"n": "1"})
        .metadata.remove(["k"])
        .labels.add(["PUMP"])
        .directory.set("/d")
    )
    got = sdk.files.update(upd)
    assert got.source == "new" and got.metadata == {"n": "1"} and got.directory == "/d"
    assert [label.external_id for label in got.labels] == ["PUMP"]
    got = sdk.files.update(FileMetadataUpdate(external_id="a").source.set(None).external_id.set("b"))
    assert got.source is None and got.external_id == "b"
    assert sdk.files.download_bytes(external_id="b") == b"1"  # the content survives metadata updates


def test_update_to_a_taken_external_id_is_409_and_changes_nothing(sdk: CogniteClient) -> None:
    sdk.files.upload_bytes(b"1", name="a.txt", external_id="a")
    sdk.files.upload_bytes(b"2", name="b.txt", external_id="b")
    with pytest.raises(CogniteAPIError) as err:
        sdk.files.update(FileMetadataUpdate(external_id="a").external_id.set("b"))
    assert err.value.code == 409
    assert sdk.files.retrieve(external_id="a") is not None


def test_unknown_ids(sdk: CogniteClient) -> None:
    with pytest.raises(CogniteNotFoundError):
        sdk.files.retrieve_multiple(ids=[42])
    assert sdk.files.retrieve(id=42) is None
    with pytest.raises(CogniteNotFoundError):
        sdk.files.delete(id=42)
    with pytest.raises(CogniteAPIError):
        sdk.files.download_bytes(id=42)


def test_functions_create_still_uploads_its_zip_through_files(emu: FunctionsEmulator, tmp_path: Path) -> None:
    folder = tmp_path / "fn"
    folder.mkdir()
    (folder / "handler.py").write_text("def handle(data):\n    return {'ok': data}\n")
    client = emu.client()
    fn = client.functions.create(name="f", folder=str(folder))
    assert fn.status == "Ready"
    assert client.functions.call(id=fn.id, data={"a": 1}).get_response() == {"ok": {"a": 1}}
    assert any(f.id == fn.file_id for f in client.files.list(limit=None))


BAD = [
    ("/files", {"name": "x", "sourceCreatedTime": float("nan")}),
    ("/files", {"name": 5}),
    ("/files", {"name": "x", "unknownField": 1}),
    ("/files/list", {"filter": {"uploaded": "yes"}}),
    ("/files/list", {"limit": 0}),
    ("/files/byids", {"items": [{"id": 42}]}),
    ("/files/update", {"items": [{"id": 42, "update": {"source": {"set": "x"}}}]}),
    ("/files/update", {"items": [{"externalId": "keep", "update": {"name": {"set": "x"}}}]}),
    ("/files/delete", {"items": [{"externalId": "nope"}]}),
    ("/files/downloadlink", {"items": [{"externalId": "nope"}]}),
    ("/files/completemultipartupload", {"externalId": "keep", "uploadId": "nope"}),
    ("/files/search", {"search": {"name": 3}}),
    ("/files/initmultipartupload?parts=0", {"name": "x"}),
]


@pytest.mark.parametrize(
    ("path", "body"), BAD, ids=[f"{p} {json.dumps(b, default=str)[:40]}" for p, b in BAD]
)
def test_bad_input_is_a_4xx_and_changes_nothing(emu: FunctionsEmulator, path: str, body: object) -> None:
    emu.client().files.upload_bytes(b"keep", name="keep.txt", external_id="keep")
    before = json.dumps(emu.state(), sort_keys=True)
    raw = json.dumps(body).encode()  # NaN goes on the wire as JSON's NaN token, as a careless client would
    answer = TestClient(emu.app).post(
        f"/api/v1/projects/test-project{path}", content=raw, headers={"content-type": "application/json"}
    )
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["error"]["code"] == answer.status_code
    assert json.dumps(emu.state(), sort_keys=True) == before


def test_duplicated_external_id_in_create_is_409(sdk: CogniteClient) -> None:
    sdk.files.upload_bytes(b"1", name="a", external_id="same")
    with pytest.raises(CogniteAPIError) as err:
        sdk.files.upload_bytes(b"2", name="b", external_id="same")
    assert err.value.code == 409 and err.value.duplicated == [{"externalId": "same"}]
