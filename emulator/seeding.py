"""Bulk seeding: load a JSON or YAML fixture of CDF resources into an emulator.

A fixture holds resources as the API takes them (camelCase), per family::

    project: my-project            # optional: the emulator's default project otherwise
    datasets:
      - {externalId: sensors, name: Sensors}
    raw:
      config:                      # database
        settings:                  # table
          threshold: {value: 42}   # row key -> columns
        empty-table: {}
    extpipes:
      - externalId: sensor-sync
        name: Sensor sync
        dataSetExternalId: sensors # or dataSetId
        config: "threshold: 42"    # optional: the first config revision
        runs: [{status: success}]  # optional: reported runs, oldest first
    groups:
      - {name: readers, sourceId: aad-readers, capabilities: []}
    projects:                      # optional: more projects, each a fixture of its own
      other-project: {datasets: [...]}

Everything goes through the emulator's own API (an in-process client), so a fixture is checked
exactly as the same calls from the SDK would be, and a bad one raises the API's error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from emulator.context import Context

if TYPE_CHECKING:
    from cognite.client import CogniteClient

SECTIONS = ("project", "datasets", "raw", "extpipes", "groups", "projects")


class FixtureError(ValueError):
    """A fixture that is not shaped as documented (the API's own errors pass through as they are)."""


def read_fixture(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A fixture from a mapping, a .json file or a .yaml/.yml file (YAML needs pyyaml)."""
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source)
    text = path.read_text()
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - pyyaml is installed in the test environment
            raise FixtureError(
                "YAML fixtures need pyyaml (pip install pyyaml); JSON works without it"
            ) from None
        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise FixtureError(f"{path}: a fixture is a mapping of sections ({', '.join(SECTIONS)})")
    return data


def load(ctx: Context, source: str | Path | Mapping[str, Any], project: str | None = None) -> dict[str, int]:
    """Load a fixture; returns how many resources of each kind were made (all projects together)."""
    data = read_fixture(source)
    counts: dict[str, int] = {}
    _load_project(ctx, data, project or data.get("project") or ctx.settings.project, counts)
    for name, nested in (data.get("projects") or {}).items():
        if not isinstance(nested, dict):
            raise FixtureError(f"projects.{name} must be a mapping of sections")
        _load_project(ctx, nested, str(name), counts)
    return counts


def _load_project(ctx: Context, data: Mapping[str, Any], project: str, counts: dict[str, int]) -> None:
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise FixtureError(
            f"unknown fixture section(s): {', '.join(sorted(unknown))}; known: {', '.join(SECTIONS)}"
        )
    client = ctx.clients.client(project)
    base = f"/api/v1/projects/{project}"
    groups = _list(data, "groups")
    if groups:
        client.post(f"{base}/groups", json={"items": groups})
        _count(counts, "groups", len(groups))
    datasets = _list(data, "datasets")
    for start in range(0, len(datasets), 10):  # CDF takes at most 10 data sets per request
        client.post(f"{base}/datasets", json={"items": datasets[start : start + 10]})
    _count(counts, "datasets", len(datasets))
    _load_raw(client, base, data.get("raw") or {}, counts)
    for pipeline in _list(data, "extpipes"):
        _load_pipeline(client, base, dict(pipeline), counts)


def _load_raw(client: CogniteClient, base: str, raw: Any, counts: dict[str, int]) -> None:
    if not isinstance(raw, dict):
        raise FixtureError("raw must map database -> table -> row key -> columns")
    for db_name, tables in raw.items():
        db = quote(str(db_name), safe="")
        if not isinstance(tables, dict) or not tables:
            client.post(f"{base}/raw/dbs", json={"items": [{"name": db_name}]})
            continue
        for table_name, rows in tables.items():
            table = quote(str(table_name), safe="")
            if not isinstance(rows, dict):
                raise FixtureError(f"raw.{db_name}.{table_name} must map row key -> columns")
            if not rows:
                params = {"ensureParent": True}
                client.post(
                    f"{base}/raw/dbs/{db}/tables", json={"items": [{"name": table_name}]}, params=params
                )
                continue
            items = [{"key": str(key), "columns": columns} for key, columns in rows.items()]
            client.post(
                f"{base}/raw/dbs/{db}/tables/{table}/rows",
                json={"items": items},
                params={"ensureParent": True},
            )
            _count(counts, "raw rows", len(items))


def _load_pipeline(
    client: CogniteClient, base: str, pipeline: dict[str, Any], counts: dict[str, int]
) -> None:
    config = pipeline.pop("config", None)
    runs = pipeline.pop("runs", None) or []
    data_set = pipeline.pop("dataSetExternalId", None)
    if data_set is not None:
        found = client.post(f"{base}/datasets/byids", json={"items": [{"externalId": data_set}]}).json()
        pipeline["dataSetId"] = found["items"][0]["id"]
    client.post(f"{base}/extpipes", json={"items": [pipeline]})
    _count(counts, "extpipes", 1)
    xid = pipeline.get("externalId")
    if config is not None:
        text = config if isinstance(config, str) else json.dumps(config)
        client.post(f"{base}/extpipes/config", json={"externalId": xid, "config": text})
    if runs:
        client.post(f"{base}/extpipes/runs", json={"items": [{"externalId": xid, **run} for run in runs]})
        _count(counts, "extpipe runs", len(runs))


def _list(data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise FixtureError(f"{key} must be a list of objects")
    return value


def _count(counts: dict[str, int], kind: str, n: int) -> None:
    counts[kind] = counts.get(kind, 0) + n
