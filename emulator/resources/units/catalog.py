"""CDF's units catalog, as Cognite publishes it, and conversions between its units.

Source: github.com/cognitedata/units-catalog (Apache-2.0), files ``versions/v1/units.json`` and
``versions/v1/unitSystems.json`` at commit 21054c8b570b62ef9024f582e446c1e6bd88bea0 (2026-07-22),
vendored gzipped as ``emulator/data/units-catalog-*.json.gz``. That repository is the catalog
CDF's ``/units`` API serves. Its conversion rule: ``base = (value + offset) * multiplier``.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib import resources
from typing import Any

from emulator.errors import bad_request


def _read(name: str) -> Any:
    raw = resources.files("emulator").joinpath(f"data/units-catalog-{name}.json.gz").read_bytes()
    return json.loads(gzip.decompress(raw))


@cache
def units() -> tuple[dict[str, Any], ...]:
    """Every unit, in the catalog's order (read-only: callers copy before changing)."""
    return tuple(_read("units"))


@cache
def units_by_id() -> dict[str, dict[str, Any]]:
    return {unit["externalId"]: unit for unit in units()}


@cache
def unit_systems() -> tuple[dict[str, Any], ...]:
    return tuple(_read("unitSystems"))


def unit(external_id: str) -> dict[str, Any] | None:
    return units_by_id().get(external_id)


def converter(source: str | None, target: str) -> tuple[float, float]:
    """``(scale, shift)`` such that ``value_in_target = value * scale + shift``; 400 when the
    units are unknown or measure different quantities."""
    if source is None:
        raise bad_request("The time series has no unitExternalId, so its points cannot be converted")
    src, dst = unit(source), unit(target)
    if src is None or dst is None:
        raise bad_request(f"Unknown unit: {target if dst is None else source}")
    if src["quantity"] != dst["quantity"]:
        raise bad_request(f"Cannot convert from {source} ({src['quantity']}) to {target} ({dst['quantity']})")
    m_src, o_src = src["conversion"]["multiplier"], src["conversion"]["offset"]
    m_dst, o_dst = dst["conversion"]["multiplier"], dst["conversion"]["offset"]
    # target = (value + o_src) * m_src / m_dst - o_dst
    scale = m_src / m_dst
    return scale, o_src * scale - o_dst


def unit_in_system(source: str | None, system: str) -> str:
    """The unit of ``system`` for the quantity of ``source``."""
    if source is None:
        raise bad_request("The time series has no unitExternalId, so its points cannot be converted")
    src = unit(source)
    if src is None:
        raise bad_request(f"Unknown unit: {source}")
    for found in unit_systems():
        if found["name"] == system:
            for quantity in found["quantities"]:
                if quantity["name"] == src["quantity"]:
                    return str(quantity["unitExternalId"])
            raise bad_request(f"Unit system {system} has no unit for {src['quantity']}")
    raise bad_request(f"Unknown unit system: {system}")
