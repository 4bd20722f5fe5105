"""Sessions on the wire: CDF's JSON of a session (the nonce only in the create answer)."""

from __future__ import annotations

from typing import Any

from emulator.state import SessionRecord


def session_json(record: SessionRecord, *, with_nonce: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": record.id, "type": record.type, "status": record.status}
    if with_nonce:
        out["nonce"] = record.nonce
    else:
        out["creationTime"] = record.creation_time
        out["expirationTime"] = record.expiration_time
    if record.client_id is not None:
        out["clientId"] = record.client_id
    return out
