"""Table: the records of one classic CDF resource type (assets, events, data sets, time series, ...).

Records are kept as wire-shaped dicts (camelCase, as the API answers them), so a family's wire layer
is usually just a copy. The rules every classic resource shares live here once: externalId
uniqueness (409 with ``duplicated``), lookups by id or externalId (400 with ``missing``, or skipped
with ``ignoreUnknownIds``), update objects (``set``/``setNull``/``add``/``remove``), deletion, and
stable cursor pages. Every change happens under the table's own lock.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from emulator.errors import CogniteAPIError, bad_request, not_found
from emulator.ids import IdGenerator
from emulator.resources.paging import decode_cursor, encode_cursor
from emulator.validation import parse_identifier

Record = dict[str, Any]


class Table:
    """Records of one resource type in one project, by id and by externalId."""

    def __init__(self, kind: str) -> None:
        self.kind = kind  # used in error messages: "Assets not found"
        self.lock = threading.RLock()
        self.by_id: dict[int, Record] = {}
        self.by_xid: dict[str, int] = {}

    # --- reading ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.by_id)

    def records(self) -> list[Record]:
        """A snapshot of every record (safe to iterate while others write)."""
        return list(self.by_id.values())

    def get(self, key: tuple[str, Any]) -> Record | None:
        kind, value = key
        if kind == "id":
            return self.by_id.get(value)
        if kind == "externalId":
            found = self.by_xid.get(value)
            return self.by_id.get(found) if found is not None else None
        return None

    def resolve(
        self, items: Iterable[Any], *, ignore_unknown: bool = False, where: str = "items"
    ) -> list[Record]:
        """The records named by ``[{"id": ..} | {"externalId": ..}]``, in request order, each once."""
        keys = [parse_identifier(item, f"{where}[{i}]") for i, item in enumerate(items)]
        found: dict[int, Record] = {}
        missing: list[dict[str, Any]] = []
        for key in keys:
            record = self.get(key)
            if record is None:
                missing.append({key[0]: key[1]})
            else:
                found.setdefault(record["id"], record)
        if missing and not ignore_unknown:
            raise not_found(missing, f"{self.kind} not found")
        return list(found.values())

    # --- writing ------------------------------------------------------------------------------
    def create(self, items: list[Record], ids: IdGenerator, now: int) -> list[Record]:
        """Insert new records (each gets ``id``, ``createdTime``, ``lastUpdatedTime``); all or none."""
        with self.lock:
            self._check_new_external_ids([item.get("externalId") for item in items])
            made = []
            for item in items:
                record = {"id": ids.new(), **item, "createdTime": now, "lastUpdatedTime": now}
                self._put(record)
                made.append(record)
            return made

    def _check_new_external_ids(self, xids: list[Any], replacing: dict[str, int] | None = None) -> None:
        seen: set[str] = set()
        duplicated: list[dict[str, Any]] = []
        for xid in xids:
            if xid is None:
                continue
            owner = self.by_xid.get(xid)
            taken = owner is not None and (replacing is None or replacing.get(xid) != owner)
            if xid in seen or taken:
                duplicated.append({"externalId": xid})
            seen.add(xid)
        if duplicated:
            raise CogniteAPIError(409, f"{self.kind}: externalId already exists", duplicated=duplicated)

    def _put(self, record: Record) -> None:
        self.by_id[record["id"]] = record
        if record.get("externalId") is not None:
            self.by_xid[record["externalId"]] = record["id"]

    def update(
        self,
        items: list[Any],
        now: int,
        *,
        allowed: Iterable[str],
        check: Callable[[Record], None] | None = None,
    ) -> list[Record]:
        """Apply CDF update objects ``{id|externalId, update: {field: {set|setNull|add|remove}}}``.

        All items are checked before any is applied (a bad item changes nothing); ``check`` may
        refuse the result of an item (raise a CogniteAPIError). ``allowed`` names updatable fields.
        """
        allowed = set(allowed)
        with self.lock:
            targets = self.resolve([_identifier_of(item, i) for i, item in enumerate(items)])
            if len(targets) != len(items):
                raise bad_request(f"{self.kind}: the same resource appears twice in one update")
            results: list[Record] = []
            for i, (item, record) in enumerate(zip(items, targets, strict=True)):
                update = item.get("update")
                if not isinstance(update, dict):
                    raise bad_request(f"items[{i}].update must be an object")
                new = copy.deepcopy(record)
                for name, change in update.items():
                    if name not in allowed:
                        raise bad_request(f"items[{i}].update: field {name!r} cannot be updated")
                    apply_change(new, name, change, f"items[{i}].update.{name}")
                if check is not None:
                    check(new)
                new["lastUpdatedTime"] = now
                results.append(new)
            current = {r["externalId"]: r["id"] for r in targets if r.get("externalId") is not None}
            self._check_new_external_ids([r.get("externalId") for r in results], replacing=current)
            for old, new in zip(targets, results, strict=True):
                if old.get("externalId") is not None:
                    self.by_xid.pop(old["externalId"], None)
                self._put(new)
            return results

    def delete(self, items: Iterable[Any], *, ignore_unknown: bool = False) -> list[Record]:
        with self.lock:
            records = self.resolve(items, ignore_unknown=ignore_unknown)
            for record in records:
                self.remove(record["id"])
            return records

    def remove(self, record_id: int) -> Record | None:
        with self.lock:
            record = self.by_id.pop(record_id, None)
            if record is not None and record.get("externalId") is not None:
                self.by_xid.pop(record["externalId"], None)
            return record

    def clear(self) -> None:
        with self.lock:
            self.by_id.clear()
            self.by_xid.clear()

    # --- state files ----------------------------------------------------------------------------
    def dump(self) -> list[Record]:
        return copy.deepcopy(self.records())

    def load(self, records: Iterable[Record]) -> None:
        with self.lock:
            for record in records:
                if not isinstance(record, dict) or not isinstance(record.get("id"), int):
                    raise ValueError(f"{self.kind}: a record without an integer id")
                self._put(copy.deepcopy(record))


def _identifier_of(item: Any, index: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise bad_request(f"items[{index}] must be an object")
    return {k: item[k] for k in ("id", "externalId") if k in item} or {"id": None}


def apply_change(record: Record, name: str, change: Any, where: str) -> None:
    """One field of an update object: ``{"set": v}``, ``{"setNull": true}``, or for maps and lists
    ``{"add": ..., "remove": ...}`` (maps: add is an object, remove a list of keys)."""
    if not isinstance(change, dict) or not change:
        raise bad_request(f"{where} must be an object with set, setNull, add or remove")
    if "set" in change:
        if len(change) != 1:
            raise bad_request(f"{where}: set cannot be combined with other operations")
        if change["set"] is None:
            raise bad_request(f"{where}.set must not be null (use setNull)")
        record[name] = copy.deepcopy(change["set"])
        return
    if "setNull" in change:
        if change["setNull"] is not True or len(change) != 1:
            raise bad_request(f"{where}: setNull must be true and alone")
        record.pop(name, None)
        return
    unknown = set(change) - {"add", "remove"}
    if unknown:
        raise bad_request(f"{where}: unknown operation(s) {', '.join(sorted(unknown))}")
    add, remove = change.get("add"), change.get("remove")
    current = record.get(name)
    if isinstance(add, dict) or isinstance(current, dict):
        merged = dict(current or {})
        if remove is not None:
            if not isinstance(remove, list):
                raise bad_request(f"{where}.remove must be a list of keys")
            for key in remove:
                merged.pop(key, None) if isinstance(key, str) else None
        if add is not None:
            if not isinstance(add, dict):
                raise bad_request(f"{where}.add must be an object")
            merged.update(copy.deepcopy(add))
        record[name] = merged
        return
    values = list(current or [])
    if remove is not None:
        if not isinstance(remove, list):
            raise bad_request(f"{where}.remove must be a list")
        values = [v for v in values if v not in remove]
    if add is not None:
        if not isinstance(add, list):
            raise bad_request(f"{where}.add must be a list")
        values.extend(v for v in copy.deepcopy(add) if v not in values)
    record[name] = values


def cursor_page(
    records: Iterable[Record], limit: int, cursor: Any, *, key: str = "id"
) -> tuple[list[Record], str | None]:
    """A page of ``records`` ordered by ``key`` (an integer field), continuing after ``cursor``."""
    ordered = sorted(records, key=lambda r: r[key])
    if cursor is not None:
        after = decode_cursor(cursor)
        ordered = [r for r in ordered if r[key] > after]
    chunk = ordered[:limit]
    more = len(ordered) > limit
    return chunk, (encode_cursor(chunk[-1][key]) if more and chunk else None)


def partition(records: Iterable[Record], partition_spec: Any) -> Iterator[Record]:
    """The records of one ``partitions`` slice ("m/n", 1-based), as the SDK asks for parallel reads."""
    if partition_spec is None:
        yield from records
        return
    if not isinstance(partition_spec, str) or "/" not in partition_spec:
        raise bad_request("partition must look like 'm/n'")
    m_text, _, n_text = partition_spec.partition("/")
    try:
        m, n = int(m_text), int(n_text)
    except ValueError:
        raise bad_request("partition must look like 'm/n'") from None
    if not (1 <= m <= n <= 1000):
        raise bad_request("partition must be m/n with 1 <= m <= n <= 1000")
    for record in records:
        if record["id"] % n == m - 1:
            yield record
