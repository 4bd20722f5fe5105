"""Sessions: create (client credentials, token exchange, one-shot token exchange), list, byids, revoke.

Each session has a single-use nonce. Calls and schedules bind it with :func:`bind_nonce`; a nonce that
is unknown, already used, or whose session is revoked is refused with 400 in CDF's error shape.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import bad_request, not_found
from emulator.resources.common import emulator_of, store_of
from emulator.resources.paging import page
from emulator.state import SessionRecord, Store
from emulator.validation import (
    check_id,
    expect_object,
    get_items,
    get_str,
    read_json,
    reject_unknown,
)

SESSION_LIFETIME_MS = 24 * 3600 * 1000
STATUSES = ("READY", "ACTIVE", "CANCELLED", "EXPIRED", "REVOKED", "ACCESS_LOST")


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


def create_session(emu: Any, store: Store, kind: str, client_id: str | None = None) -> SessionRecord:
    """Create a READY session with a fresh nonce (used by the route and by emulator helpers)."""
    now = emu.clock.now_ms()
    record = SessionRecord(
        id=emu.backend.new_id(),
        type=kind,
        status="READY",
        nonce=secrets.token_urlsafe(24),
        creation_time=now,
        expiration_time=now + SESSION_LIFETIME_MS,
        client_id=client_id,
    )
    with emu.backend.lock:
        store.sessions[record.id] = record
        store.nonces[record.nonce] = record.id
    return record


def bind_nonce(emu: Any, store: Store, nonce: Any) -> SessionRecord:
    """Consume a session's nonce once; the session becomes ACTIVE. Refuse bad nonces with 400."""
    if not isinstance(nonce, str) or not nonce:
        raise bad_request("nonce must be a non-empty string from POST /sessions")
    with emu.backend.lock:
        record = store.session_by_nonce(nonce)
        if record is None:
            raise bad_request("Could not bind session: the nonce is unknown in this project")
        if record.status in ("REVOKED", "CANCELLED", "EXPIRED", "ACCESS_LOST"):
            raise bad_request(f"Could not bind session: session {record.id} is {record.status}")
        if record.nonce_used:
            raise bad_request("Could not bind session: the nonce has already been used")
        record.nonce_used = True
        record.status = "ACTIVE"
        return record


def release_nonce(emu: Any, record: SessionRecord) -> None:
    """Undo a bind whose request was refused afterwards (so the client's retry can use the nonce)."""
    with emu.backend.lock:
        if record.status == "ACTIVE":
            record.nonce_used = False
            record.status = "READY"


def _session_kind(item: dict[str, Any], where: str) -> tuple[str, str | None]:
    if "clientId" in item or "clientSecret" in item:
        reject_unknown(item, ("clientId", "clientSecret"), where)
        client_id = get_str(item, "clientId", where, required=True, min_len=1, max_len=512)
        get_str(item, "clientSecret", where, required=True, min_len=1, max_len=4096)
        return "CLIENT_CREDENTIALS", client_id
    for flag, kind in (
        ("tokenExchange", "TOKEN_EXCHANGE"),
        ("oneshotTokenExchange", "ONESHOT_TOKEN_EXCHANGE"),
    ):
        if flag in item:
            reject_unknown(item, (flag,), where)
            if item[flag] is not True:
                raise bad_request(f"{where}.{flag} must be true")
            return kind, None
    raise bad_request(
        f"{where} must have clientId and clientSecret, tokenExchange: true or oneshotTokenExchange: true"
    )


async def create(request: Request) -> Response:
    emu, store = emulator_of(request), store_of(request)
    body = await read_json(request)
    reject_unknown(expect_object(body, ""), ("items",), "")
    items = get_items(body, max_items=1)
    kind, client_id = _session_kind(expect_object(items[0], "items[0]"), "items[0]")
    record = create_session(emu, store, kind, client_id)
    return JSONResponse({"items": [session_json(record, with_nonce=True)]})


async def list_sessions(request: Request) -> Response:
    store = store_of(request)
    status = request.query_params.get("status")
    if status is not None and status not in STATUSES:
        raise bad_request(f"status must be one of {', '.join(STATUSES)} (uppercase), got {status[:40]!r}")
    records = [s for s in list(store.sessions.values()) if status is None or s.status == status]
    items, cursor = page(request, records, max_limit=1000)
    out: dict[str, Any] = {"items": [session_json(s) for s in items]}
    if cursor:
        out["nextCursor"] = cursor
    return JSONResponse(out)


def _resolve_ids(store: Store, items: list[Any]) -> list[SessionRecord]:
    ids = []
    for i, item in enumerate(items):
        obj = expect_object(item, f"items[{i}]")
        reject_unknown(obj, ("id",), f"items[{i}]")
        ids.append(check_id(obj.get("id"), f"items[{i}].id"))
    missing = [{"id": i} for i in ids if i not in store.sessions]
    if missing:
        raise not_found(missing, "Sessions not found")
    return [store.sessions[i] for i in dict.fromkeys(ids)]


async def by_ids(request: Request) -> Response:
    body = await read_json(request)
    reject_unknown(expect_object(body, ""), ("items",), "")
    records = _resolve_ids(store_of(request), get_items(body, max_items=1000))
    return JSONResponse({"items": [session_json(s) for s in records]})


async def revoke(request: Request) -> Response:
    emu = emulator_of(request)
    body = await read_json(request)
    reject_unknown(expect_object(body, ""), ("items",), "")
    with emu.backend.lock:
        records = _resolve_ids(store_of(request), get_items(body, max_items=1000))
        for record in records:
            record.status = "REVOKED"
    return JSONResponse({"items": [session_json(s) for s in records]})


routes = [
    Route("/sessions", create, methods=["POST"]),
    Route("/sessions", list_sessions, methods=["GET"]),
    Route("/sessions/byids", by_ids, methods=["POST"]),
    Route("/sessions/revoke", revoke, methods=["POST"]),
]
