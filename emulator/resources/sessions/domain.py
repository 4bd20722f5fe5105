"""Sessions: create with a single-use nonce, bind it (calls and schedules), release, revoke.

A nonce that is unknown, already used, or whose session is revoked is refused with 400 in CDF's
error shape. Rules run under the backend's lock.
"""

from __future__ import annotations

import secrets
from typing import Any

from emulator.changes import CHANGES
from emulator.context import Context
from emulator.errors import bad_request, not_found
from emulator.state import SessionRecord, Store

SESSION_LIFETIME_MS = 24 * 3600 * 1000
STATUSES = ("READY", "ACTIVE", "CANCELLED", "EXPIRED", "REVOKED", "ACCESS_LOST")


def create_session(ctx: Context, store: Store, kind: str, client_id: str | None = None) -> SessionRecord:
    """Create a READY session with a fresh nonce (used by the route and by emulator helpers)."""
    now = ctx.clock.now_ms()
    record = SessionRecord(
        id=ctx.ids.new(),
        type=kind,
        status="READY",
        nonce=secrets.token_urlsafe(24),
        creation_time=now,
        expiration_time=now + SESSION_LIFETIME_MS,
        client_id=client_id,
    )
    with ctx.backend.lock:
        store.sessions[record.id] = record
        store.nonces[record.nonce] = record.id
    return record


def bind_nonce(ctx: Context, store: Store, nonce: Any) -> SessionRecord:
    """Consume a session's nonce once; the session becomes ACTIVE. Refuse bad nonces with 400."""
    if not isinstance(nonce, str) or not nonce:
        raise bad_request("nonce must be a non-empty string from POST /sessions")
    with ctx.backend.lock:
        record = store.session_by_nonce(nonce)
        if record is None:
            raise bad_request("Could not bind session: the nonce is unknown in this project")
        if record.status in ("REVOKED", "CANCELLED", "EXPIRED", "ACCESS_LOST"):
            raise bad_request(f"Could not bind session: session {record.id} is {record.status}")
        if record.nonce_used:
            raise bad_request("Could not bind session: the nonce has already been used")
        record.nonce_used = True
        record.status = "ACTIVE"
        CHANGES.bump()
        return record


def release_nonce(ctx: Context, record: SessionRecord) -> None:
    """Undo a bind whose request was refused afterwards (so the client's retry can use the nonce)."""
    with ctx.backend.lock:
        if record.status == "ACTIVE":
            record.nonce_used = False
            record.status = "READY"
            CHANGES.bump()


def by_ids(store: Store, ids: list[int]) -> list[SessionRecord]:
    """The sessions with these ids, in order without repeats; 400 ``missing`` for unknown ones."""
    missing = [{"id": i} for i in ids if i not in store.sessions]
    if missing:
        raise not_found(missing, "Sessions not found")
    return [store.sessions[i] for i in dict.fromkeys(ids)]


def revoke(ctx: Context, store: Store, ids: list[int]) -> list[SessionRecord]:
    with ctx.backend.lock:
        records = by_ids(store, ids)
        for record in records:
            record.status = "REVOKED"
        CHANGES.bump()
    return records


def listed(store: Store, status: str | None) -> list[SessionRecord]:
    if status is not None and status not in STATUSES:
        raise bad_request(f"status must be one of {', '.join(STATUSES)} (uppercase), got {status[:40]!r}")
    return [s for s in list(store.sessions.values()) if status is None or s.status == status]
