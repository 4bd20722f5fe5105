"""What applying instances does to other families: a CogniteTimeSeries node is a time series.

The time-series family (emulator/resources/timeseries/) exposes ``ensure_instance_series(part,
(space, externalId), *, is_string, is_step, now, ids, unit_external_id)`` in its ``domain``
module. Every applied node with data in the ``cdf_cdm:CogniteTimeSeries`` container gets its
series there (so datapoints can be inserted and read by ``instance_id``). The family is looked
up by name, so this family works (without that link) where the time-series family is absent.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from emulator.ids import IdGenerator
from emulator.resources.instances.domain import Instance
from emulator.state import Store

TIMESERIES_CONTAINER = ("cdf_cdm", "CogniteTimeSeries")


def _timeseries_hook() -> tuple[Any, Callable[..., Any]] | None:
    try:
        domain = importlib.import_module("emulator.resources.timeseries.domain")
    except ImportError:
        return None
    ensure = getattr(domain, "ensure_instance_series", None)
    kinds = getattr(domain, "PARTS", ())
    if ensure is None or not kinds:
        return None
    return kinds[0], ensure


def after_apply(store: Store, written: list[Instance], now: int, ids: IdGenerator) -> None:
    """Tell the time-series family about the CogniteTimeSeries nodes just written."""
    series = [i for i in written if i.kind == "node" and TIMESERIES_CONTAINER in i.data]
    if not series:
        return
    hook = _timeseries_hook()
    if hook is None:
        return
    kind, ensure = hook
    part = store.part(kind)
    for node in series:
        values = node.data[TIMESERIES_CONTAINER]
        unit = values.get("unit")
        ensure(
            part,
            (node.space, node.external_id),
            is_string=values.get("type") == "string",
            is_step=bool(values.get("isStep", False)),
            now=now,
            ids=ids,
            unit_external_id=unit["externalId"] if isinstance(unit, dict) else None,
        )
