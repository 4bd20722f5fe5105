"""The unit nodes of ``cdf_cdm_units``: CDF's units catalog as CogniteUnit nodes.

CDF has one node per unit of its catalog in the system space ``cdf_cdm_units`` (a
CogniteTimeSeries points at one with its ``unit`` property). The catalog is the one the units
family vendors (emulator/data/units-catalog-units.json.gz, from cognitedata/units-catalog);
when it is not there, the space has no nodes. They are the same in every project: made when a
project's instances are first used, read-only, and left out of state dumps.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

from emulator.resources.instances.record import Instance

UNITS_SPACE = "cdf_cdm_units"
CATALOG = Path(__file__).resolve().parent.parent.parent / "data" / "units-catalog-units.json.gz"
UNIT = ("cdf_cdm", "CogniteUnit")
DESCRIBABLE = ("cdf_cdm", "CogniteDescribable")
CREATED = 1724420993904  # the Core Data Model's createdTime


@cache
def _catalog() -> tuple[dict[str, Any], ...]:
    if not CATALOG.exists():
        return ()
    return tuple(json.loads(gzip.decompress(CATALOG.read_bytes())))


def unit_nodes() -> list[Instance]:
    """Fresh Instance objects, one per unit (callers own them)."""
    out = []
    for unit in _catalog():
        describable = {
            "name": unit["name"],
            "description": unit.get("longName"),
            "aliases": unit.get("aliasNames"),
        }
        cognite_unit = {k: unit.get(k) for k in ("quantity", "source", "sourceReference", "symbol")}
        data = {
            DESCRIBABLE: {k: v for k, v in describable.items() if v is not None},
            UNIT: {k: v for k, v in cognite_unit.items() if v is not None},
        }
        out.append(Instance("node", UNITS_SPACE, unit["externalId"], 1, CREATED, CREATED, 0, data=data))
    return out
