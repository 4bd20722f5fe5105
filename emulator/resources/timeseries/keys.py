"""Identifiers of time series on the wire: ``{"id"}``, ``{"externalId"}`` or ``{"instanceId"}``."""

from __future__ import annotations

from typing import Any

from emulator.errors import bad_request
from emulator.validation import check_id, expect_object, get_str

IDENTIFIER_FIELDS = ("id", "externalId", "instanceId")


def parse_key(obj: dict[str, Any], where: str) -> tuple[str, Any]:
    """The one identifier in ``obj`` (other fields are the caller's business)."""
    given = [name for name in IDENTIFIER_FIELDS if name in obj]
    if len(given) != 1:
        raise bad_request(f"{where} must have exactly one of id, externalId or instanceId")
    name = given[0]
    if name == "id":
        return "id", check_id(obj["id"], f"{where}.id")
    if name == "externalId":
        return "externalId", get_str(obj, "externalId", where, required=True, min_len=1, max_len=255)
    instance = expect_object(obj["instanceId"], f"{where}.instanceId")
    space = get_str(instance, "space", f"{where}.instanceId", required=True, min_len=1, max_len=43)
    xid = get_str(instance, "externalId", f"{where}.instanceId", required=True, min_len=1, max_len=255)
    if set(instance) - {"space", "externalId"}:
        raise bad_request(f"{where}.instanceId may only have space and externalId")
    return "instanceId", (space, xid)
