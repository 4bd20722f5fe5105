"""End to end: a scheduled handler reads its extraction-pipeline config and RAW rows, writes its
results, and reports a pipeline run, driven by time travel."""

from __future__ import annotations

import pytest
from cognite.client.data_classes import ExtractionPipelineConfigWrite

from emulator import FunctionsEmulator

SEED = {
    "datasets": [{"externalId": "sensors", "name": "Sensors"}],
    "raw": {"landing": {"readings": {"r1": {"sensor": "a", "value": 3}, "r2": {"sensor": "b", "value": 12}}}},
    "extpipes": [
        {
            "externalId": "threshold-check",
            "name": "Threshold check",
            "dataSetExternalId": "sensors",
            "config": '{"threshold": 10, "target": "alerts"}',
        }
    ],
}


def handle(client, data, function_call_info):  # type: ignore[no-untyped-def]
    import json

    from cognite.client.data_classes import EventWrite, ExtractionPipelineRunWrite, RowWrite

    config = json.loads(client.extraction_pipelines.config.retrieve("threshold-check").config)
    try:
        rows = client.raw.rows.list("landing", "readings", limit=1000)
        alerts = [
            RowWrite(
                key=f"{function_call_info['scheduled_time']}-{row.key}", columns={"sensor": row["sensor"]}
            )
            for row in rows
            if row["value"] > config["threshold"]
        ]
        if alerts:
            client.raw.rows.insert("landing", config["target"], alerts, ensure_parent=True)
            at = function_call_info["scheduled_time"]
            client.events.create(  # one event per alert, as a real threshold check would write
                [EventWrite(external_id=a.key, type="alert", start_time=at, end_time=at) for a in alerts]
            )
        status, message = "success", f"{len(alerts)} alert(s)"
    except Exception as exc:  # report the failure to CDF, then fail the call too
        client.extraction_pipelines.runs.create(
            ExtractionPipelineRunWrite(
                extpipe_external_id="threshold-check", status="failure", message=str(exc)
            )
        )
        raise
    client.extraction_pipelines.runs.create(
        ExtractionPipelineRunWrite(extpipe_external_id="threshold-check", status=status, message=message)
    )
    return {"alerts": len(alerts)}


@pytest.mark.parametrize("transport", ["in-process", "loopback"])
def test_scheduled_handler_reads_config_and_rows_and_reports_runs(
    emu: FunctionsEmulator, transport: str
) -> None:
    emu.load(SEED)
    fn = emu.deploy(function_handle=handle, external_id="threshold-check")
    if transport == "in-process":
        client = emu.client()
        server = None
    else:
        server = emu.serve(port=0)
        client = server.client()
    try:
        client.functions.schedules.create(name="hourly", cron_expression="0 * * * *", function_id=fn.id)
        emu.clock.advance(hours=2)
        calls = client.functions.calls.list(function_id=fn.id, limit=None)
        assert sorted(c.status for c in calls) == ["Completed", "Completed"]
        assert len(client.raw.rows.list("landing", "alerts", limit=100)) == 2  # one alert per run
        events = client.events.list(type="alert", limit=None)
        assert sorted(e.start_time for e in events) == sorted(c.scheduled_time for c in calls)
        runs = client.extraction_pipelines.runs.list(external_id="threshold-check", limit=None)
        assert [(r.status, r.message) for r in runs] == [("success", "1 alert(s)")] * 2
        pipe = client.extraction_pipelines.retrieve(external_id="threshold-check")
        assert pipe is not None and pipe.last_success == pipe.last_seen == emu.clock.now_ms()

        # A config that makes the handler fail: the run is reported as a failure, the call Failed.
        client.extraction_pipelines.config.create(
            ExtractionPipelineConfigWrite(external_id="threshold-check", config='{"threshold": 10}')
        )
        emu.clock.advance(hours=1)
        latest = client.extraction_pipelines.runs.list(external_id="threshold-check", limit=1)[0]
        assert latest.status == "failure" and "target" in (latest.message or "")
        failed = [
            c for c in client.functions.calls.list(function_id=fn.id, limit=None) if c.status == "Failed"
        ]
        assert len(failed) == 1
        pipe = client.extraction_pipelines.retrieve(external_id="threshold-check")
        assert (
            pipe is not None
            and pipe.last_failure == emu.clock.now_ms()
            and pipe.last_message == latest.message
        )
    finally:
        if server is not None:
            server.stop()
