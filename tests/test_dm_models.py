"""Spaces, containers, views and data models through the real SDK (in-process and loopback)."""

from __future__ import annotations

import pytest
from cognite.client import CogniteClient
from cognite.client import data_modeling as dm
from cognite.client.exceptions import CogniteAPIError

from emulator import FunctionsEmulator
from tests.dm_helpers import PUMP, SITE, SPACE, dm_env, make_schema

__all__ = ["dm_env"]
Env = tuple[FunctionsEmulator, CogniteClient]


def test_schema_lifecycle(dm_env: Env) -> None:
    emu, client = dm_env
    make_schema(client)
    assert client.data_modeling.spaces.retrieve(SPACE).name == "Plant"
    container = client.data_modeling.containers.retrieve((SPACE, "Pump"))
    assert container.properties["name"].nullable is False
    assert container.properties["tags"].type.is_list is True
    assert container.indexes["byName"].state == "current"
    view = client.data_modeling.views.retrieve(PUMP)[0]
    assert view.properties["site"].source == SITE
    assert isinstance(view.properties["feeds"], dm.MultiEdgeConnection)
    assert view.used_for == "node" and view.writable
    site = client.data_modeling.views.retrieve(SITE)[0]
    assert isinstance(site.properties["pumps"], dm.MultiReverseDirectRelation)
    model = client.data_modeling.data_models.retrieve((SPACE, "PlantModel", "1"), inline_views=True)[0]
    assert sorted(v.external_id for v in model.views) == ["Pump", "Site"]
    assert isinstance(model.views[0], dm.View)

    # Updates keep createdTime; a second version lists once by default, twice with allVersions.
    emu.clock.advance(minutes=1)
    client.data_modeling.spaces.apply(dm.SpaceApply(SPACE, name="Renamed"))
    again = client.data_modeling.spaces.retrieve(SPACE)
    assert again.name == "Renamed" and again.created_time < again.last_updated_time
    client.data_modeling.views.apply(
        dm.ViewApply(
            SPACE,
            "Pump",
            "v2",
            properties={"name": dm.MappedPropertyApply(dm.ContainerId(SPACE, "Pump"), "name")},
        )
    )
    assert [
        v.version for v in client.data_modeling.views.list(space=SPACE, limit=-1) if v.external_id == "Pump"
    ] == ["v2"]
    assert len(client.data_modeling.views.list(space=SPACE, all_versions=True, limit=-1)) == 3

    client.data_modeling.data_models.delete((SPACE, "PlantModel", "1"))
    client.data_modeling.views.delete([PUMP, SITE, dm.ViewId(SPACE, "Pump", "v2")])
    client.data_modeling.containers.delete([(SPACE, "Pump"), (SPACE, "Site")])
    assert client.data_modeling.views.list(space=SPACE, limit=-1) == []
    assert client.data_modeling.spaces.delete(SPACE) == [SPACE]
    assert client.data_modeling.spaces.list(limit=-1) == []


def test_core_data_model_is_global(dm_env: Env) -> None:
    _, client = dm_env
    assert client.data_modeling.spaces.list(limit=-1) == []
    spaces = {s.space for s in client.data_modeling.spaces.list(include_global=True, limit=-1)}
    assert {"cdf_cdm", "cdf_cdm_3d", "cdf_cdm_units"} <= spaces
    views = {
        v.external_id for v in client.data_modeling.views.list(space="cdf_cdm", include_global=True, limit=-1)
    }
    assert {
        "CogniteAsset",
        "CogniteTimeSeries",
        "CogniteFile",
        "CogniteActivity",
        "CogniteEquipment",
    } <= views
    asset = client.data_modeling.views.retrieve(dm.ViewId("cdf_cdm", "CogniteAsset", "v1"))[0]
    assert asset.is_global and asset.properties["parent"].source == dm.ViewId("cdf_cdm", "CogniteAsset", "v1")
    core = client.data_modeling.data_models.retrieve(("cdf_cdm", "CogniteCore", "v1"))[0]
    assert len(core.views) == 33
    ts = client.data_modeling.containers.retrieve(("cdf_cdm", "CogniteTimeSeries"))
    assert ts.properties["type"].immutable and not ts.properties["type"].nullable


def test_paging_with_cursors(dm_env: Env) -> None:
    _, client = dm_env
    client.data_modeling.spaces.apply([dm.SpaceApply(f"s{i:02d}") for i in range(25)])
    assert len(client.data_modeling.spaces.list(limit=-1)) == 25  # pages of up to 1000 with cursors
    assert len(client.data_modeling.spaces.list(limit=7)) == 7
    assert len(client.data_modeling.containers.list(include_global=True, limit=None)) == 29


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: dm.SpaceApply("cdf_mine"), "reserved"),
        (
            lambda: dm.ContainerApply("nowhere", "C", properties={"a": dm.ContainerProperty(dm.Text())}),
            "spaces do not exist",
        ),
        (
            lambda: dm.ViewApply(
                SPACE, "V", "v1", properties={"a": dm.MappedPropertyApply(dm.ContainerId(SPACE, "Nope"), "a")}
            ),
            "containers do not exist",
        ),
        (
            lambda: dm.DataModelApply(SPACE, "M", "1", views=[dm.ViewId(SPACE, "Nope", "v1")]),
            "views do not exist",
        ),
        (
            lambda: dm.ContainerApply(SPACE, "Pump", properties={"flow": dm.ContainerProperty(dm.Text())}),
            "Changing the type of a container property is not allowed",
        ),
        (
            lambda: dm.ContainerApply(
                "cdf_cdm", "CogniteAsset", properties={"a": dm.ContainerProperty(dm.Text())}
            ),
            "system space",
        ),
    ],
)
def test_bad_schema_is_refused_and_changes_nothing(dm_env: Env, make, message: str) -> None:
    emu, client = dm_env
    make_schema(client)
    before = emu.state()
    item = make()
    api = {
        dm.SpaceApply: client.data_modeling.spaces,
        dm.ContainerApply: client.data_modeling.containers,
        dm.ViewApply: client.data_modeling.views,
        dm.DataModelApply: client.data_modeling.data_models,
    }[type(item)]
    with pytest.raises(CogniteAPIError) as err:
        api.apply(item)
    assert err.value.code == 400 and message in err.value.message
    assert emu.state() == before


def test_space_with_content_cannot_be_deleted(dm_env: Env) -> None:
    _, client = dm_env
    make_schema(client)
    with pytest.raises(CogniteAPIError) as err:
        client.data_modeling.spaces.delete(SPACE)
    assert err.value.code == 409


def test_schema_is_in_the_state_dump(dm_env: Env) -> None:
    emu, client = dm_env
    make_schema(client)
    dumped = emu.state()["projects"]["dm-project"]["parts"]["datamodeling.models"]
    assert {c["externalId"] for c in dumped["containers"]} == {"Pump", "Site"}


def test_views_implementing_each_other_are_refused(dm_env: Env) -> None:
    emu, client = dm_env
    make_schema(client)
    client.data_modeling.views.apply(dm.ViewApply(SPACE, "A", "v1", implements=[PUMP]))
    before = emu.state()
    with pytest.raises(CogniteAPIError) as err:
        client.data_modeling.views.apply(
            dm.ViewApply(SPACE, "Pump", "v1", implements=[dm.ViewId(SPACE, "A", "v1")])
        )
    assert err.value.code == 400 and "implements itself" in err.value.message
    assert emu.state() == before


def test_deleting_a_container_takes_its_data(dm_env: Env) -> None:
    _, client = dm_env
    make_schema(client)
    client.data_modeling.instances.apply(
        dm.NodeApply(SPACE, "n", sources=[dm.NodeOrEdgeData(SITE, {"name": "N"})])
    )
    with pytest.raises(CogniteAPIError) as err:
        client.data_modeling.spaces.delete(SPACE)
    assert err.value.code == 409
    client.data_modeling.containers.delete((SPACE, "Site"))
    node = client.data_modeling.instances.retrieve((SPACE, "n")).nodes[0]
    assert node.version == 2
    assert client.data_modeling.instances.list(filter=dm.filters.HasData(views=[SITE]), limit=-1) == []
