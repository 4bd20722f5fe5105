"""Cursor pagination shared by the list endpoints.

A cursor is the opaque encoding of the last id already returned, so pages stay stable while new
records are added (they sort after the cursor).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, TypeVar

from starlette.requests import Request

from emulator.errors import bad_request
from emulator.validation import get_limit, query_limit

T = TypeVar("T")


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: Any) -> int:
    if not isinstance(cursor, str) or not cursor or len(cursor) > 200:
        raise bad_request("cursor must be a cursor string from a previous page")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "after":
            raise ValueError
        return int(value)
    except ValueError:
        raise bad_request(f"Invalid cursor: {cursor[:40]!r}") from None


def slice_page(records: Sequence[T], limit: int, cursor: Any) -> tuple[list[T], str | None]:
    """Records must carry an increasing ``id``; returns the page and the next cursor (or None)."""
    ordered = sorted(records, key=lambda r: r.id)  # type: ignore[attr-defined]
    if cursor is not None:
        after = decode_cursor(cursor)
        ordered = [r for r in ordered if r.id > after]  # type: ignore[attr-defined]
    chunk = ordered[:limit]
    more = len(ordered) > limit
    return chunk, (encode_cursor(chunk[-1].id) if more and chunk else None)  # type: ignore[attr-defined]


def page(request: Request, records: Sequence[T], *, max_limit: int = 1000) -> tuple[list[T], str | None]:
    """Paginate from ``limit`` and ``cursor`` query parameters."""
    limit = query_limit(request, maximum=max_limit)
    return slice_page(records, limit, request.query_params.get("cursor"))


def page_body(
    body: dict[str, Any], records: Sequence[T], *, max_limit: int = 10000
) -> tuple[list[T], str | None]:
    """Paginate from ``limit`` and ``cursor`` in a JSON body."""
    limit = get_limit(body, maximum=max_limit)
    return slice_page(records, limit, body.get("cursor"))
