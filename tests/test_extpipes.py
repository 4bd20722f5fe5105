"""Extraction pipelines, configs and runs through the real SDK, in-process and over loopback."""

from __future__ import annotations

import pytest
from cognite.client import CogniteClient
from cognite.client.data_classes import (
    DataSetWrite,
    ExtractionPipelineConfigWrite,
    ExtractionPipelineRunWrite,
    ExtractionPipelineUpdate,
    ExtractionPipelineWrite,
)
from cognite.client.data_classes.extractionpipelines import ExtractionPipelineContact
from cognite.client.exceptions import CogniteAPIError, CogniteDuplicatedError, CogniteNotFoundError

from emulator import FunctionsEmulator


@pytest.fixture
def data_set_id(sdk: CogniteClient) -> int:
    return sdk.data_sets.create(DataSetWrite(external_id="extractors")).id


def _pipeline(sdk: CogniteClient, data_set_id: int, xid: str = "pipe", **fields: object) -> int:
    made = sdk.extraction_pipelines.create(
        ExtractionPipelineWrite(external_id=xid, name=f"Pipeline {xid}", data_set_id=data_set_id, **fields)  # type: ignore[arg-type]
    )
    return made.id


def test_crud(sdk: CogniteClient, data_set_id: int) -> None:
    pipe_id = _pipeline(
        sdk,
        data_set_id,
        schedule="Continuous",
        metadata={"team": "ops"},
        contacts=[
            ExtractionPipelineContact(
                name="Ann", email="ann@example.com", role="owner", send_notification=True
            )
        ],
    )
    got = sdk.extraction_pipelines.retrieve(id=pipe_id)
    assert got is not None and got.external_id == "pipe" and got.schedule == "Continuous"
    assert got.contacts[0].email == "ann@example.com"  # type: ignore[index]
    assert sdk.extraction_pipelines.retrieve(external_id="pipe").id == pipe_id  # type: ignore[union-attr]
    assert sdk.extraction_pipelines.retrieve(id=1234) is None
    assert (
        len(sdk.extraction_pipelines.retrieve_multiple(external_ids=["pipe", "x"], ignore_unknown_ids=True))
        == 1
    )
    assert [p.id for p in sdk.extraction_pipelines.list()] == [pipe_id]
    sdk.extraction_pipelines.update(
        ExtractionPipelineUpdate(external_id="pipe").description.set("d").metadata.add({"k": "v"})
    )
    got = sdk.extraction_pipelines.retrieve(id=pipe_id)
    assert got is not None and got.description == "d" and got.metadata == {"team": "ops", "k": "v"}
    with pytest.raises(CogniteDuplicatedError):
        _pipeline(sdk, data_set_id)
    sdk.extraction_pipelines.delete(external_id="pipe")
    assert sdk.extraction_pipelines.list() == []
    with pytest.raises(CogniteNotFoundError):
        sdk.extraction_pipelines.delete(external_id="pipe")


def test_a_pipeline_needs_an_existing_data_set(sdk: CogniteClient) -> None:
    with pytest.raises(CogniteNotFoundError):
        sdk.extraction_pipelines.create(
            ExtractionPipelineWrite(external_id="p", name="p", data_set_id=123456789)
        )
    with pytest.raises(CogniteAPIError) as caught:
        sdk.post(f"/api/v1/projects/{sdk.config.project}/extpipes", json={"items": [{"externalId": "p"}]})
    assert caught.value.code == 400
    assert sdk.extraction_pipelines.list() == []


def test_list_filters(sdk: CogniteClient, data_set_id: int) -> None:
    for xid in ("a-1", "a-2", "b-1"):
        _pipeline(sdk, data_set_id, xid, source="sap" if xid.startswith("a") else "pi")
    project = sdk.config.project
    found = sdk.post(
        f"/api/v1/projects/{project}/extpipes/list", json={"filter": {"externalIdPrefix": "a-"}, "limit": 10}
    ).json()["items"]
    assert sorted(p["externalId"] for p in found) == ["a-1", "a-2"]
    found = sdk.post(
        f"/api/v1/projects/{project}/extpipes/list",
        json={"filter": {"source": "pi", "dataSetIds": [{"externalId": "extractors"}]}},
    ).json()["items"]
    assert [p["externalId"] for p in found] == ["b-1"]


def test_config_revisions(emu: FunctionsEmulator, sdk: CogniteClient, data_set_id: int) -> None:
    _pipeline(sdk, data_set_id)
    with pytest.raises(CogniteAPIError):
        sdk.extraction_pipelines.config.retrieve("pipe")  # no config yet
    first = sdk.extraction_pipelines.config.create(
        ExtractionPipelineConfigWrite(external_id="pipe", config="threshold: 1\n", description="v1")
    )
    assert first.revision == 1
    t1 = emu.clock.now_ms()
    emu.clock.advance(seconds=10)
    sdk.extraction_pipelines.config.create(
        ExtractionPipelineConfigWrite(external_id="pipe", config="threshold: 2\n")
    )
    latest = sdk.extraction_pipelines.config.retrieve("pipe")
    assert latest.revision == 2 and latest.config == "threshold: 2\n"
    assert sdk.extraction_pipelines.config.retrieve("pipe", revision=1).config == "threshold: 1\n"
    assert sdk.extraction_pipelines.config.retrieve("pipe", active_at_time=t1).revision == 1
    assert [r.revision for r in sdk.extraction_pipelines.config.list("pipe")] == [2, 1]
    reverted = sdk.extraction_pipelines.config.revert("pipe", 1)
    assert reverted.revision == 3 and reverted.config == "threshold: 1\n"
    with pytest.raises(CogniteNotFoundError):
        sdk.extraction_pipelines.config.retrieve("no-such-pipe")


def test_runs_move_last_success_failure_seen(
    emu: FunctionsEmulator, sdk: CogniteClient, data_set_id: int
) -> None:
    pipe_id = _pipeline(sdk, data_set_id)
    t0 = emu.clock.now_ms()
    sdk.extraction_pipelines.runs.create(
        ExtractionPipelineRunWrite(extpipe_external_id="pipe", status="success")
    )
    emu.clock.advance(seconds=60)
    sdk.extraction_pipelines.runs.create(
        ExtractionPipelineRunWrite(extpipe_external_id="pipe", status="failure", message="source down")
    )
    emu.clock.advance(seconds=60)
    sdk.extraction_pipelines.runs.create(
        ExtractionPipelineRunWrite(extpipe_external_id="pipe", status="seen")
    )
    pipe = sdk.extraction_pipelines.retrieve(id=pipe_id)
    assert pipe is not None
    assert (pipe.last_success, pipe.last_failure, pipe.last_seen) == (t0, t0 + 60_000, t0 + 120_000)
    assert pipe.last_message == "source down"
    # A late report of an older run never moves a field backwards.
    sdk.extraction_pipelines.runs.create(
        ExtractionPipelineRunWrite(extpipe_external_id="pipe", status="success", created_time=t0 - 5)
    )
    assert sdk.extraction_pipelines.retrieve(id=pipe_id).last_success == t0  # type: ignore[union-attr]
    runs = sdk.extraction_pipelines.runs.list(external_id="pipe", limit=None)
    assert [r.status for r in runs] == ["seen", "failure", "success", "success"]
    failures = sdk.extraction_pipelines.runs.list(external_id="pipe", statuses="failure")
    assert [r.message for r in failures] == ["source down"]
    assert len(sdk.extraction_pipelines.runs.list(external_id="pipe", message_substring="down")) == 1
    assert len(sdk.extraction_pipelines.runs.list(external_id="pipe", limit=2)) == 2
    with pytest.raises(CogniteNotFoundError):
        sdk.extraction_pipelines.runs.create(
            ExtractionPipelineRunWrite(extpipe_external_id="nope", status="seen")
        )
    with pytest.raises(CogniteAPIError):
        sdk.extraction_pipelines.runs.create(
            ExtractionPipelineRunWrite(extpipe_external_id="pipe", status="great")
        )


def test_many_runs_page(sdk: CogniteClient, data_set_id: int) -> None:
    _pipeline(sdk, data_set_id)
    sdk.extraction_pipelines.runs.create(
        [ExtractionPipelineRunWrite(extpipe_external_id="pipe", status="seen") for _ in range(250)]
    )
    assert len(sdk.extraction_pipelines.runs.list(external_id="pipe", limit=None)) == 250
    assert len(sdk.extraction_pipelines.runs.list(external_id="pipe", statuses=["seen"], limit=None)) == 250


@pytest.mark.parametrize("schedule", ["On trigger", "@daily", "@every 15m", "0 */2 * * *"])
def test_schedules_of_the_spec_pattern_are_kept(sdk: CogniteClient, data_set_id: int, schedule: str) -> None:
    pipe_id = _pipeline(sdk, data_set_id, schedule=schedule)
    assert sdk.extraction_pipelines.retrieve(id=pipe_id).schedule == schedule  # type: ignore[union-attr]


@pytest.mark.parametrize("schedule", ["every tuesday-ish", "@fortnightly", "* *"])
def test_a_schedule_outside_the_spec_pattern_is_a_400(
    sdk: CogniteClient, data_set_id: int, schedule: str
) -> None:
    with pytest.raises(CogniteAPIError) as refused:
        _pipeline(sdk, data_set_id, schedule=schedule)
    assert refused.value.code == 400 and "schedule" in refused.value.message
