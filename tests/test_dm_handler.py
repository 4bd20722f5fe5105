"""A function that reads instances of a view, writes instances and a datapoint to a
CogniteTimeSeries, run hourly on a schedule with time travel."""

from __future__ import annotations

import importlib.util

import pytest
from cognite.client import CogniteClient
from cognite.client import data_modeling as dm
from cognite.client.data_classes.data_modeling.cdm.v1 import CogniteTimeSeriesApply

from emulator import FunctionsEmulator
from tests.dm_helpers import PUMP, SPACE, make_schema, pump

HAS_TIMESERIES = importlib.util.find_spec("emulator.resources.timeseries") is not None


def handle(client, data, function_call_info):
    from cognite.client import data_modeling as dm

    view = dm.ViewId("plant", "Pump", "v1")
    pumps = client.data_modeling.instances.list(sources=view, limit=-1)
    total = sum(
        p.properties[view].get("flow") or 0.0 for p in pumps if not p.external_id.startswith("report")
    )
    now = function_call_info["scheduled_time"]
    hour = len([p for p in pumps if p.external_id.startswith("report")])
    client.data_modeling.instances.apply(
        dm.NodeApply(
            "plant",
            f"report{hour}",
            sources=[dm.NodeOrEdgeData(view, {"name": f"report {hour}", "flow": total})],
        )
    )
    if data.get("datapoints"):
        client.time_series.data.insert([(now, total)], instance_id=dm.NodeId("plant", "total-flow"))
    return {"pumps": len(pumps), "total": total}


def test_scheduled_handler_reads_and_writes_instances(emu: FunctionsEmulator, client: CogniteClient) -> None:
    make_schema(client)
    client.data_modeling.instances.apply([pump("a", flow=1.0), pump("b", flow=2.5)])
    if HAS_TIMESERIES:
        client.data_modeling.instances.apply(
            CogniteTimeSeriesApply(SPACE, "total-flow", is_step=False, time_series_type="numeric")
        )
    fn = emu.deploy(function_handle=handle, external_id="flow-report")
    client.functions.schedules.create(
        name="hourly", cron_expression="0 * * * *", function_id=fn.id, data={"datapoints": HAS_TIMESERIES}
    )
    calls = emu.clock.advance(hours=3)
    assert [c.status for c in calls] == ["Completed"] * 3, [c.error for c in calls]
    assert [c.get_response()["pumps"] for c in calls] == [2, 3, 4]
    reports = client.data_modeling.instances.retrieve(
        [(SPACE, f"report{i}") for i in range(3)], sources=PUMP
    ).nodes
    assert [r.properties[PUMP]["flow"] for r in reports] == [3.5, 3.5, 3.5]
    assert reports[1].created_time - reports[0].created_time == 3_600_000
    if not HAS_TIMESERIES:
        pytest.skip("the time-series family is not on this branch: datapoints by instance_id not checked")
    points = client.time_series.data.retrieve(instance_id=dm.NodeId(SPACE, "total-flow"), start=0, end="now")
    assert list(points.value) == [3.5, 3.5, 3.5]
