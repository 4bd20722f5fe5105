"""Files: metadata, content (single PUT or multipart), filters, updates, deletion.

File records stay where the functions code reads them (``Store.files``, ``FileRecord`` in
emulator/state.py); this family's own state is the multipart uploads in progress. Every change to
the files of a project happens under the ``FileUploads`` part's lock, so externalId uniqueness and
multi-item requests are all-or-nothing.
"""

from __future__ import annotations

import base64
import copy
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar

from emulator.errors import CogniteAPIError, bad_request, not_found
from emulator.ids import IdGenerator
from emulator.resources.assets.domain import Assets
from emulator.resources.classic import Predicate, all_of, common_predicates, shares_any
from emulator.resources.files.wire import PASSTHROUGH, UPDATABLE, apply_wire, to_wire
from emulator.resources.table import Record, apply_change
from emulator.spec import check_schema
from emulator.state import FileRecord, Store
from emulator.validation import parse_identifier

MAX_PARTS = 250
MIN_PART_BYTES = 5 * 1024 * 1024  # every part but the last, as the cloud stores behind CDF demand


@dataclass
class Upload:
    """A multipart upload in progress: its file, how many parts, the parts received so far."""

    file_id: int
    parts: int
    chunks: dict[int, bytes] = field(default_factory=dict)


class FileUploads:
    """The Files family's state per project: the lock for file changes and open multipart uploads."""

    name: ClassVar[str] = "file_uploads"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.uploads: dict[str, Upload] = {}

    def dump(self) -> dict[str, Any]:
        return {
            uid: {
                "fileId": up.file_id,
                "parts": up.parts,
                "chunks": {str(i): base64.b64encode(c).decode() for i, c in up.chunks.items()},
            }
            for uid, up in self.uploads.items()
        }

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            for uid, item in data.items():
                chunks = {int(i): base64.b64decode(c) for i, c in item.get("chunks", {}).items()}
                self.uploads[uid] = Upload(int(item["fileId"]), int(item["parts"]), chunks)


PARTS = (FileUploads,)


# --- lookups ------------------------------------------------------------------------------------


def by_external_id(store: Store, external_id: str) -> FileRecord | None:
    return store.file_by_external_id(external_id)


def lookup(store: Store, key: tuple[str, Any]) -> FileRecord | None:
    kind, value = key
    return store.files.get(value) if kind == "id" else by_external_id(store, value)


def resolve(store: Store, items: list[Any], *, ignore_unknown: bool = False) -> list[FileRecord]:
    """The files named by ``[{"id"} | {"externalId"}]``, in order, each once (400 ``missing``)."""
    keys = [parse_identifier(item, f"items[{i}]") for i, item in enumerate(items)]
    found: dict[int, FileRecord] = {}
    missing: list[dict[str, Any]] = []
    for key in keys:
        record = lookup(store, key)
        if record is None:
            missing.append({key[0]: key[1]})
        else:
            found.setdefault(record.id, record)
    if missing and not ignore_unknown:
        raise not_found(missing, "Files not found")
    return list(found.values())


def get(store: Store, file_id: int) -> FileRecord:
    record = store.files.get(file_id)
    if record is None:
        raise not_found([{"id": file_id}], "File not found")
    return record


# --- writing ------------------------------------------------------------------------------------


def create(
    store: Store, part: FileUploads, body: dict[str, Any], *, overwrite: bool, ids: IdGenerator, now: int
) -> FileRecord:
    """A new file (no content yet); with ``overwrite`` an existing externalId keeps its id."""
    extra = {k: copy.deepcopy(body[k]) for k in PASSTHROUGH if body.get(k) is not None}
    external_id = body.get("externalId")
    with part.lock:
        existing = by_external_id(store, external_id) if external_id else None
        if existing is not None and not overwrite:
            raise CogniteAPIError(409, "Duplicate external ids", duplicated=[{"externalId": external_id}])
        if existing is not None:
            existing.name, existing.extra, existing.content = body["name"], extra, None
            existing.uploaded_time, existing.last_updated_time = None, now
            return existing
        record = FileRecord(ids.new(), body["name"], external_id, now, now, extra)
        store.files[record.id] = record
        return record


def put_content(store: Store, part: FileUploads, file_id: int, content: bytes, now: int) -> None:
    with part.lock:
        record = get(store, file_id)
        record.content, record.uploaded_time, record.last_updated_time = content, now, now


def update(store: Store, part: FileUploads, items: list[dict[str, Any]], now: int) -> list[FileRecord]:
    """Apply update objects; all are checked before any is applied."""
    with part.lock:
        targets = resolve(store, [{k: v for k, v in i.items() if k != "update"} for i in items])
        if len(targets) != len(items):
            raise bad_request("Files: the same file appears twice in one update")
        results = []
        for i, (item, record) in enumerate(zip(items, targets, strict=True)):
            wire = to_wire(record)
            for name, change in item["update"].items():
                if name not in UPDATABLE:
                    raise bad_request(f"items[{i}].update: field {name!r} cannot be updated")
                apply_change(wire, name, change, f"items[{i}].update.{name}")
            check_schema(
                "ExternalFilesMetadata", {k: v for k, v in wire.items() if k in UPDATABLE or k == "name"}
            )
            results.append(wire)
        taken = {r.external_id: r.id for r in store.files.values() if r.external_id is not None}
        seen: set[str] = set()
        for record, wire in zip(targets, results, strict=True):
            xid = wire.get("externalId")
            if xid is None:
                continue
            if xid in seen or taken.get(xid, record.id) != record.id:
                raise CogniteAPIError(409, "Duplicate external ids", duplicated=[{"externalId": xid}])
            seen.add(xid)
        for record, wire in zip(targets, results, strict=True):
            apply_wire(record, wire)
            record.last_updated_time = now
        return targets


def delete(store: Store, part: FileUploads, items: list[Any], *, ignore_unknown: bool) -> None:
    with part.lock:
        for record in resolve(store, items, ignore_unknown=ignore_unknown):
            store.files.pop(record.id, None)
            for uid in [u for u, up in part.uploads.items() if up.file_id == record.id]:
                del part.uploads[uid]


# --- multipart uploads --------------------------------------------------------------------------


def start_multipart(part: FileUploads, record: FileRecord, parts: int) -> str:
    """Open a multipart upload of ``parts`` parts for a file; returns its uploadId."""
    upload_id = secrets.token_urlsafe(24)
    with part.lock:
        part.uploads[upload_id] = Upload(record.id, parts)
    return upload_id


def put_part(part: FileUploads, file_id: int, upload_id: str, index: int, content: bytes) -> None:
    with part.lock:
        upload = part.uploads.get(upload_id)
        if upload is None or upload.file_id != file_id:
            raise not_found([{"id": file_id}], f"No multipart upload {upload_id[:40]!r} for this file")
        if not 0 <= index < upload.parts:
            raise bad_request(f"Part {index} is outside the {upload.parts} parts of this upload")
        upload.chunks[index] = content


def complete_multipart(store: Store, part: FileUploads, record: FileRecord, upload_id: str, now: int) -> None:
    """Join the parts (all received; every one but the last at least 5 MiB) into the content."""
    with part.lock:
        upload = part.uploads.get(upload_id)
        if upload is None or upload.file_id != record.id:
            raise bad_request(f"uploadId {upload_id[:40]!r} is not an open upload of file {record.id}")
        missing = [i for i in range(upload.parts) if i not in upload.chunks]
        if missing:
            raise bad_request(f"Parts {missing[:10]} of this upload were not uploaded")
        small = [i for i in range(upload.parts - 1) if len(upload.chunks[i]) < MIN_PART_BYTES]
        if small:
            raise bad_request(f"Parts {small[:10]} are smaller than 5 MiB (only the last part may be)")
        content = b"".join(upload.chunks[i] for i in range(upload.parts))
        del part.uploads[upload_id]
        put_content(store, part, record.id, content, now)


# --- filters ------------------------------------------------------------------------------------


def predicate(flt: dict[str, Any], assets: Assets) -> Predicate:
    """A file filter (the official ``FileFilter.filter``) as a test on wire records."""
    checks = common_predicates(flt)
    if "directoryPrefix" in flt:
        prefix = flt["directoryPrefix"]
        checks.append(lambda r: str(r.get("directory") or "\0").startswith(prefix))
    if "uploaded" in flt:
        uploaded: bool = flt["uploaded"]
        checks.append(lambda r: r["uploaded"] is uploaded)
    wanted: set[int] | None = None
    if "assetIds" in flt:
        wanted = set(flt["assetIds"])
    if "assetExternalIds" in flt:
        wanted = (wanted or set()) | assets.ids_of_external(flt["assetExternalIds"])
    if wanted is not None:
        checks.append(shares_any("assetIds", wanted))
    if "rootAssetIds" in flt:
        roots = {a["id"] for a in assets.table.resolve(flt["rootAssetIds"], where="rootAssetIds")}
        checks.append(lambda r: any(assets.root_of(a) in roots for a in r.get("assetIds") or ()))
    if "assetSubtreeIds" in flt:
        checks.append(shares_any("assetIds", assets.subtree_ids(flt["assetSubtreeIds"])))
    if "geoLocation" in flt:
        raise bad_request("Filtering files by geoLocation is not supported by the emulator")
    return all_of(checks)


def matching(store: Store, flt: dict[str, Any], assets: Assets) -> list[Record]:
    test = predicate(flt, assets)
    return [w for w in (to_wire(r) for r in list(store.files.values())) if test(w)]
