"""Generate emulator/data/cdm.json.gz, the Core Data Model every emulated project has.

Source: the CogniteCore v1 data model as CDF itself answers ``GET /models/datamodels`` with
``inlineViews=true``, recorded in Cognite's public repository cognitedata/pygen at
tests/data/models/CogniteCore/model.yaml. Views are taken as they are; the containers (which
that dump does not list on their own) are rebuilt from the views' mapped properties: every
property a view maps names its container, its identifier there and the container-level
definition (type, nullable, immutable, autoIncrement, defaultValue).

Usage: python scripts/gen_cdm.py path/to/model.yaml [commit]
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parent.parent / "emulator" / "data" / "cdm.json.gz"
CONTAINER_FIELDS = ("type", "nullable", "immutable", "autoIncrement", "defaultValue", "name", "description")


def _clean(value: Any) -> Any:
    """Drop null fields (the dump writes name: null where the API leaves the key out)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _container_type(view_type: dict[str, Any]) -> dict[str, Any]:
    # A view's direct relation type carries the view it points to ("source"); the container's
    # type keeps only the container hint.
    return {k: v for k, v in view_type.items() if k != "source"}


def build(model: dict[str, Any], origin: str) -> dict[str, Any]:
    created, updated = model["createdTime"], model["lastUpdatedTime"]
    views = [_clean(v) for v in model["views"]]
    for view in views:
        for prop in view["properties"].values():
            if "container" in prop:
                prop["container"]["type"] = "container"  # the API's references carry their type
                prop.setdefault("constraintState", {})
            through = prop.get("through", {}).get("source")
            for ref in (
                prop.get("source"),
                prop.get("type", {}).get("source"),
                prop.get("edgeSource"),
                through,
            ):
                if isinstance(ref, dict):
                    ref.setdefault("type", "view" if "version" in ref else "container")
    containers: dict[tuple[str, str], dict[str, Any]] = {}
    used_for: dict[tuple[str, str], set[str]] = {}
    for view in views:
        for prop in view["properties"].values():
            if "container" not in prop:
                continue
            ref = prop["container"]
            key = (ref["space"], ref["externalId"])
            container = containers.setdefault(
                key,
                {
                    "space": key[0],
                    "externalId": key[1],
                    "properties": {},
                    "constraints": {},
                    "indexes": {},
                    "isGlobal": True,
                    "createdTime": created,
                    "lastUpdatedTime": updated,
                },
            )
            definition = {f: prop[f] for f in CONTAINER_FIELDS if f in prop}
            definition["type"] = _container_type(prop["type"])
            definition["constraintState"] = {}
            container["properties"].setdefault(prop["containerPropertyIdentifier"], definition)
            used_for.setdefault(key, set()).add(view["usedFor"])
    for key, container in containers.items():
        kinds = used_for[key]
        container["usedFor"] = kinds.pop() if len(kinds) == 1 else "all"
    spaces = sorted({v["space"] for v in views} | {k[0] for k in containers} | {"cdf_cdm_units"})
    data_model = _clean({k: v for k, v in model.items() if k != "views"})
    data_model["views"] = [
        {"space": v["space"], "externalId": v["externalId"], "version": v["version"], "type": "view"}
        for v in views
    ]
    return {
        "source": origin,
        "spaces": [
            {"space": s, "isGlobal": True, "createdTime": created, "lastUpdatedTime": updated} for s in spaces
        ],
        "containers": sorted(containers.values(), key=lambda c: (c["space"], c["externalId"])),
        "views": views,
        "dataModels": [data_model],
    }


def main() -> None:
    path = Path(sys.argv[1])
    commit = sys.argv[2] if len(sys.argv) > 2 else "unknown"
    origin = f"github.com/cognitedata/pygen@{commit}:tests/data/models/CogniteCore/model.yaml"
    data = build(yaml.safe_load(path.read_text()), origin)
    OUT.write_bytes(gzip.compress(json.dumps(data, sort_keys=True).encode(), mtime=0))
    print(
        f"{OUT}: {len(data['spaces'])} spaces, {len(data['containers'])} containers, {len(data['views'])} views"
    )


if __name__ == "__main__":
    main()
