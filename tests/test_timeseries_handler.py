"""A handler's view: a scheduled function reads the last hour of a sensor, computes its
time-weighted average with the datapoints API and writes it to a new time series, hourly, over a
simulated day (emu.clock.advance); its writes are checked with the SDK."""

from __future__ import annotations

import pytest
from cognite.client.data_classes import TimeSeriesWrite

from emulator import FunctionsEmulator
from tests.ts_kit import T0

HOUR = 3_600_000
MINUTE = 60_000


def handle(client, data, function_call_info):
    # Deployed from its source alone: everything it uses is imported or defined in here.
    from cognite.client.data_classes import TimeSeriesWrite

    # The emulated time of this run; the SDK's own "now" would be the wall clock.
    end = function_call_info["scheduled_time"]
    start = end - 3_600_000
    got = client.time_series.data.retrieve(
        external_id=data["source"], start=start, end=end, aggregates="average", granularity="1h"
    )
    if not client.time_series.retrieve(external_id=data["target"]):
        client.time_series.create(TimeSeriesWrite(external_id=data["target"], name="hourly average"))
    client.time_series.data.insert([(start, got.average[0])], external_id=data["target"])
    return {"hour": start, "average": got.average[0]}


@pytest.mark.parametrize("transport", ["in-process", "loopback"])
def test_hourly_average_over_a_simulated_day(transport: str) -> None:
    with FunctionsEmulator(project="handler-ts", start="2026-01-01T00:00:00Z") as emu:
        server = emu.serve() if transport == "loopback" else None
        client = server.client() if server is not None else emu.client()
        client.time_series.create(TimeSeriesWrite(external_id="sensor", name="sensor"))
        # One point a minute for the whole day: value = minutes since midnight.
        client.time_series.data.insert(
            [(T0 + i * MINUTE, float(i)) for i in range(24 * 60)], external_id="sensor"
        )
        fn = emu.deploy(function_handle=handle, external_id="hourly")
        client.functions.schedules.create(
            name="hourly", cron_expression="0 * * * *", function_id=fn.id,
            data={"source": "sensor", "target": "sensor-hourly"},
        )  # fmt: skip
        calls = emu.clock.advance(days=1)
        assert len(calls) == 24
        written = client.time_series.data.retrieve(external_id="sensor-hourly", start=T0, end=T0 + 25 * HOUR)
        assert written.timestamp == [T0 + h * HOUR for h in range(24)]
        # A linear ramp averages to its middle: 60h + 30 for each full hour; the last hour ends
        # with the series at 23:59, so its average is that of [1380, 1439].
        assert written.value[:23] == [pytest.approx(60 * h + 30) for h in range(23)]
        assert written.value[23] == pytest.approx((1380 + 1439) / 2)
        if server is not None:
            server.stop()
