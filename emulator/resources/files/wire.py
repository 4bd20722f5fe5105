"""Files on the wire: ``FileRecord`` (emulator/state.py, shared with the functions code) <-> JSON.

The functions code reads ``store.files[id].content``; every other field of a file lives in the
record's ``extra`` in its wire spelling, so the JSON is the record plus its identity and times.
"""

from __future__ import annotations

from typing import Any

from emulator.state import FileRecord

# Fields a client sets on a file (besides externalId and name), kept in FileRecord.extra.
PASSTHROUGH = (
    "directory", "source", "mimeType", "metadata", "assetIds", "dataSetId", "sourceCreatedTime",
    "sourceModifiedTime", "securityCategories", "labels", "geoLocation",
)  # fmt: skip
CREATE_FIELDS = ("externalId", "name", *PASSTHROUGH)
# What an update object may change (the official FileChange; the name cannot be changed).
UPDATABLE = ("externalId", *PASSTHROUGH)


def to_wire(record: FileRecord) -> dict[str, Any]:
    """The file as the API answers it (``FilesMetadata``)."""
    out: dict[str, Any] = {"id": record.id, "name": record.name}
    if record.external_id is not None:
        out["externalId"] = record.external_id
    out.update(record.extra)
    out["uploaded"] = record.uploaded
    if record.uploaded_time is not None:
        out["uploadedTime"] = record.uploaded_time
    out["createdTime"] = record.created_time
    out["lastUpdatedTime"] = record.last_updated_time
    return out


def apply_wire(record: FileRecord, wire: dict[str, Any]) -> None:
    """Write an updated wire shape back into the record (content and times are left alone)."""
    record.external_id = wire.get("externalId")
    record.extra = {k: wire[k] for k in PASSTHROUGH if wire.get(k) is not None}


def content_url(base_url: str, project: str, file_id: int) -> str:
    """Where the content of a file is PUT and GET: the emulator itself, never a cloud bucket."""
    return f"{base_url.rstrip('/')}/api/v1/projects/{project}/files/{file_id}/content"


def part_url(base_url: str, project: str, file_id: int, upload_id: str, part: int) -> str:
    """Where one part of a multipart upload is PUT."""
    return f"{content_url(base_url, project, file_id)}/parts/{upload_id}/{part}"
