"""Groups of one project, and who the requester is (token inspection, the user profile)."""

from __future__ import annotations

import base64
import json
from typing import Any, ClassVar

from emulator.errors import bad_request, not_found
from emulator.ids import IdGenerator
from emulator.resources.table import Record, Table

DEFAULT_SUBJECT = "emulator-user"


class Groups:
    """The project's access groups (``client.iam.groups``): name, capabilities, membership."""

    name: ClassVar[str] = "groups"

    def __init__(self) -> None:
        self.table = Table("Groups")

    def create(self, items: list[Record], ids: IdGenerator, now: int) -> list[Record]:
        # Group names need not be unique in CDF; only ids identify a group.
        with self.table.lock:
            made = self.table.create([{**item, "isDeleted": False} for item in items], ids, now)
        return [wire(g) for g in made]

    def all(self) -> list[Record]:
        return [wire(g) for g in sorted(self.table.records(), key=lambda g: g["createdTime"])]

    def delete(self, group_ids: list[int]) -> None:
        with self.table.lock:
            missing = [{"id": i} for i in group_ids if i not in self.table.by_id]
            if missing:
                raise not_found(missing, "Groups not found")
            for group_id in group_ids:
                self.table.remove(group_id)

    def ids(self) -> list[int]:
        return sorted(self.table.by_id)

    def dump(self) -> dict[str, Any]:
        return {"groups": self.table.dump()}

    def load(self, data: dict[str, Any]) -> None:
        self.table.load(data.get("groups", []))


def wire(group: Record) -> Record:
    """Groups carry no created/updated times on the wire."""
    return {k: v for k, v in group.items() if k not in ("createdTime", "lastUpdatedTime")}


def check_group(item: Any, where: str) -> Record:
    if not isinstance(item, dict):
        raise bad_request(f"{where} must be an object")
    unknown = set(item) - {"name", "sourceId", "capabilities", "metadata", "members"}
    if unknown:
        raise bad_request(f"{where}: Unrecognized field(s): {', '.join(sorted(unknown))}")
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request(f"{where}.name must be a non-empty string")
    if "sourceId" in item and not isinstance(item["sourceId"], str):
        raise bad_request(f"{where}.sourceId must be a string")
    if "sourceId" in item and "members" in item:
        raise bad_request(
            f"{where}: give sourceId (managed externally) or members (managed in CDF), not both"
        )
    capabilities = item.get("capabilities", [])
    if not isinstance(capabilities, list) or not all(isinstance(c, dict) and c for c in capabilities):
        raise bad_request(f"{where}.capabilities must be a list of capability objects")
    if "metadata" in item and not (
        isinstance(item["metadata"], dict) and all(isinstance(v, str) for v in item["metadata"].values())
    ):
        raise bad_request(f"{where}.metadata must be an object of strings")
    members = item.get("members")
    if members not in (None, "allUserAccounts") and (not isinstance(members, list) or len(members) > 100):
        raise bad_request(f"{where}.members must be allUserAccounts or a list of at most 100 principals")
    return dict(item)


def subject_of(authorization: str | None) -> str:
    """The principal of a request: the ``sub`` claim of a JWT bearer token (read, not verified),
    else the emulator's one user."""
    token = (authorization or "")[7:].strip() if (authorization or "").lower().startswith("bearer ") else ""
    parts = token.split(".")
    if len(parts) == 3:
        try:
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except (ValueError, UnicodeDecodeError):
            return DEFAULT_SUBJECT
        if isinstance(claims, dict) and isinstance(claims.get("sub"), str) and claims["sub"]:
            return str(claims["sub"])
    return DEFAULT_SUBJECT


def profile(subject: str, now: int) -> Record:
    """The requester's user profile (``GET /profiles/me``)."""
    return {
        "userIdentifier": subject,
        "givenName": "Emulator",
        "surname": "User",
        "displayName": "Emulator User" if subject == DEFAULT_SUBJECT else subject,
        "email": f"{subject}@emulator.invalid" if "@" not in subject else subject,
        "jobTitle": "Developer",
        "identityType": "USER",
        "lastUpdatedTime": now,
    }


PARTS = (Groups,)
