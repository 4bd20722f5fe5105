"""A project's RAW store: databases -> tables -> rows, under one lock.

Rows are ordered by key. A list cursor names the key to continue from and the key its slice stops
before, so the cursors that ``GET .../cursors`` hands out split a table into disjoint slices that
the SDK reads in parallel (``partitions=``) and that together return every row once.
"""

from __future__ import annotations

import base64
import bisect
import copy
import json
import math
import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar

from emulator.errors import CogniteAPIError, bad_request

MAX_DB_NAME = 32
MAX_TABLE_NAME = 64
MAX_KEY = 1024


@dataclass
class Row:
    columns: dict[str, Any]
    last_updated: int


@dataclass
class Table:
    created: int
    rows: dict[str, Row] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)  # sorted, for slices and cursors


@dataclass
class Database:
    created: int
    tables: dict[str, Table] = field(default_factory=dict)


def not_found(message: str, missing: list[dict[str, Any]] | None = None) -> CogniteAPIError:
    return CogniteAPIError(404, message, missing=missing)


class Raw:
    """Every RAW database of one project."""

    name: ClassVar[str] = "raw"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.dbs: dict[str, Database] = {}

    # --- databases and tables -----------------------------------------------------------------
    def create_dbs(self, names: list[str], now: int) -> list[dict[str, Any]]:
        with self.lock:
            taken = [{"name": n} for n in names if n in self.dbs]
            if taken or len(set(names)) != len(names):
                raise CogniteAPIError(400, "Databases already created", duplicated=taken or None)
            for name in names:
                self.dbs[name] = Database(now)
            return [{"name": n, "createdTime": now} for n in names]

    def delete_dbs(self, names: list[str], recursive: bool) -> None:
        with self.lock:
            missing = [{"name": n} for n in names if n not in self.dbs]
            if missing:
                raise not_found("Databases not found", missing)
            full = [n for n in names if self.dbs[n].tables]
            if full and not recursive:
                raise bad_request(f"Database {full[0]!r} is not empty: delete it with recursive=true")
            for name in names:
                del self.dbs[name]

    def db(self, name: str, *, create_at: int | None = None) -> Database:
        found = self.dbs.get(name)
        if found is None:
            if create_at is None:
                raise not_found(f"Database {name!r} not found", [{"name": name}])
            found = self.dbs[name] = Database(create_at)
        return found

    def create_tables(
        self, db_name: str, names: list[str], now: int, ensure_parent: bool
    ) -> list[dict[str, Any]]:
        with self.lock:
            db = self.db(db_name, create_at=now if ensure_parent else None)
            taken = [{"name": n} for n in names if n in db.tables]
            if taken or len(set(names)) != len(names):
                raise CogniteAPIError(400, "Tables already created", duplicated=taken or None)
            for name in names:
                db.tables[name] = Table(now)
            return [{"name": n, "createdTime": now} for n in names]

    def delete_tables(self, db_name: str, names: list[str]) -> None:
        with self.lock:
            db = self.db(db_name)
            missing = [{"name": n} for n in names if n not in db.tables]
            if missing:
                raise not_found("Tables not found", missing)
            for name in names:
                del db.tables[name]

    def table(self, db_name: str, table_name: str, *, create_at: int | None = None) -> Table:
        db = self.db(db_name, create_at=create_at)
        found = db.tables.get(table_name)
        if found is None:
            if create_at is None:
                raise not_found(
                    f"Table {table_name!r} not found in database {db_name!r}", [{"name": table_name}]
                )
            found = db.tables[table_name] = Table(create_at)
        return found

    def list_dbs(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"name": n, "createdTime": d.created} for n, d in sorted(self.dbs.items())]

    def list_tables(self, db_name: str) -> list[dict[str, Any]]:
        with self.lock:
            db = self.db(db_name)
            return [{"name": n, "createdTime": t.created} for n, t in sorted(db.tables.items())]

    # --- rows ---------------------------------------------------------------------------------
    def insert(
        self,
        db_name: str,
        table_name: str,
        rows: list[tuple[str, dict[str, Any]]],
        now: int,
        ensure_parent: bool,
    ) -> None:
        """Insert or replace rows: a row's columns are replaced whole, as CDF does."""
        with self.lock:
            table = self.table(db_name, table_name, create_at=now if ensure_parent else None)
            for key, columns in rows:
                if key not in table.rows:
                    bisect.insort(table.keys, key)
                table.rows[key] = Row(copy.deepcopy(columns), now)

    def delete_rows(self, db_name: str, table_name: str, keys: list[str]) -> None:
        """Deleting a key that does not exist is not an error in CDF."""
        with self.lock:
            table = self.table(db_name, table_name)
            for key in keys:
                if table.rows.pop(key, None) is not None:
                    table.keys.pop(bisect.bisect_left(table.keys, key))

    def row(self, db_name: str, table_name: str, key: str) -> dict[str, Any]:
        with self.lock:
            found = self.table(db_name, table_name).rows.get(key)
            if found is None:
                raise not_found(f"Row {key!r} not found", [{"key": key}])
            return row_json(key, found, None)

    def rows(
        self,
        db_name: str,
        table_name: str,
        *,
        limit: int,
        cursor: str | None,
        columns: list[str] | None,
        time_range: TimeRange,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of rows (key order) and the cursor of the next page, if any. A cursor carries
        the time range it was made for (the SDK's parallel reads send only the cursor)."""
        if cursor is not None:
            start, stop, time_range = decode_cursor(cursor)
        else:
            start, stop = "", None
        with self.lock:
            table = self.table(db_name, table_name)
            index = bisect.bisect_left(table.keys, start)
            page: list[dict[str, Any]] = []
            while index < len(table.keys):
                key = table.keys[index]
                if stop is not None and key >= stop:
                    return page, None
                row = table.rows[key]
                if _in(row.last_updated, time_range):
                    if len(page) == limit:
                        return page, encode_cursor(key, stop, time_range)
                    page.append(row_json(key, row, columns))
                index += 1
            return page, None

    def cursors(
        self, db_name: str, table_name: str, count: int, time_range: tuple[int | None, int | None]
    ) -> list[str]:
        """``count`` cursors whose slices hold about as many matching rows each."""
        with self.lock:
            table = self.table(db_name, table_name)
            keys = [k for k in table.keys if _in(table.rows[k].last_updated, time_range)]
        if not keys:
            return [encode_cursor("", None, time_range)]
        count = min(count, len(keys))
        starts = [keys[(i * len(keys)) // count] for i in range(count)]
        starts[0] = ""
        stops = [*starts[1:], None]
        return [encode_cursor(start, stop, time_range) for start, stop in zip(starts, stops, strict=True)]

    # --- state --------------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {
                "databases": {
                    name: {
                        "createdTime": db.created,
                        "tables": {
                            t_name: {
                                "createdTime": t.created,
                                "rows": [row_json(k, t.rows[k], None) for k in t.keys],
                            }
                            for t_name, t in db.tables.items()
                        },
                    }
                    for name, db in self.dbs.items()
                }
            }

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            for name, db in (data.get("databases") or {}).items():
                target = self.dbs.setdefault(name, Database(int(db.get("createdTime", 0))))
                for t_name, t in (db.get("tables") or {}).items():
                    table = target.tables.setdefault(t_name, Table(int(t.get("createdTime", 0))))
                    for row in t.get("rows") or []:
                        key = str(row["key"])
                        if key not in table.rows:
                            bisect.insort(table.keys, key)
                        table.rows[key] = Row(
                            dict(row.get("columns") or {}), int(row.get("lastUpdatedTime", 0))
                        )


def _in(value: int, time_range: tuple[int | None, int | None]) -> bool:
    """minLastUpdatedTime is exclusive, maxLastUpdatedTime inclusive (as the SDK documents)."""
    low, high = time_range
    return (low is None or value > low) and (high is None or value <= high)


def row_json(key: str, row: Row, columns: list[str] | None) -> dict[str, Any]:
    cols = row.columns if columns is None else {c: row.columns[c] for c in columns if c in row.columns}
    return {"key": key, "columns": copy.deepcopy(cols), "lastUpdatedTime": row.last_updated}


TimeRange = tuple[int | None, int | None]


def encode_cursor(start: str, stop: str | None, time_range: TimeRange) -> str:
    data = ["raw", start, stop, *time_range]
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str | None, TimeRange]:
    try:
        tag, start, stop, low, high = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if tag != "raw" or not isinstance(start, str) or not (stop is None or isinstance(stop, str)):
            raise ValueError
        if not all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in (low, high)):
            raise ValueError
        return start, stop, (low, high)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise bad_request(f"Invalid cursor: {cursor[:40]!r}") from None


def check_columns(value: Any, where: str, depth: int = 0) -> None:
    """Columns hold any JSON, but no NaN or Infinity (not JSON), nested at most 100 deep."""
    if depth > 100:
        raise bad_request(f"{where} is nested too deeply")
    if isinstance(value, float) and not math.isfinite(value):
        raise bad_request(f"{where}: NaN and Infinity are not JSON")
    if isinstance(value, dict):
        for k, v in value.items():
            check_columns(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_columns(v, f"{where}[{i}]", depth + 1)


PARTS = (Raw,)
