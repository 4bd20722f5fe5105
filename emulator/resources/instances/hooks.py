"""What applying instances does to other families: a CogniteTimeSeries node is a time series.

HOOK POINT (issue 22, item 5): the time-series family (emulator/resources/timeseries/, built on
its own branch) is to expose ``ensure_instance_series(part, instance_id, *, is_string, is_step,
now, ids)`` in its ``domain`` module. When that module is present, every applied node with data
in the ``cdf_cdm:CogniteTimeSeries`` container gets its series (so datapoints can be inserted by
``instance_id``); without it, nothing happens here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

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


def after_apply(store: Store, written: list[Instance], now: int, ids: Any = None) -> None:
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
        ensure(
            part,
            {"space": node.space, "externalId": node.external_id},
            is_string=values.get("type") == "string",
            is_step=bool(values.get("isStep", False)),
            now=now,
            ids=ids,
        )
