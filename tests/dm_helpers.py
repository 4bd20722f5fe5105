"""Shared setup of the data-modeling tests: a client over both transports, and a small schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cognite.client import CogniteClient
from cognite.client import data_modeling as dm

from emulator import FunctionsEmulator

SPACE = "plant"
PUMP = dm.ViewId(SPACE, "Pump", "v1")
SITE = dm.ViewId(SPACE, "Site", "v1")
FEEDS = dm.DirectRelationReference(SPACE, "feeds")


@pytest.fixture(params=["in-process", "loopback"])
def dm_env(request: pytest.FixtureRequest) -> Iterator[tuple[FunctionsEmulator, CogniteClient]]:
    """The emulator and a client that reaches it in-process or over a loopback server."""
    emulator = FunctionsEmulator(project="dm-project", start="2026-01-01T00:00:00Z")
    try:
        if request.param == "in-process":
            yield emulator, emulator.client()
        else:
            with emulator.serve(port=0) as server:
                yield emulator, server.client()
    finally:
        emulator.close()


def make_schema(client: CogniteClient) -> None:
    """A space, two containers, views with a direct relation, a reverse relation and an edge
    connection, and a data model listing them."""
    client.data_modeling.spaces.apply(dm.SpaceApply(SPACE, name="Plant"))
    client.data_modeling.containers.apply(
        [
            dm.ContainerApply(
                SPACE,
                "Site",
                properties={"name": dm.ContainerProperty(dm.Text(), nullable=False)},
            ),
            dm.ContainerApply(
                SPACE,
                "Pump",
                properties={
                    "name": dm.ContainerProperty(dm.Text(), nullable=False),
                    "flow": dm.ContainerProperty(dm.Float64()),
                    "running": dm.ContainerProperty(dm.Boolean(), default_value=True),
                    "installed": dm.ContainerProperty(dm.Timestamp()),
                    "tags": dm.ContainerProperty(dm.Text(is_list=True)),
                    "site": dm.ContainerProperty(dm.DirectRelation()),
                    "serial": dm.ContainerProperty(dm.Text(), immutable=True),
                },
                indexes={"byName": dm.BTreeIndexApply(["name"], cursorable=True)},
            ),
        ]
    )
    client.data_modeling.views.apply(
        [
            dm.ViewApply(
                SPACE,
                "Site",
                "v1",
                properties={
                    "name": dm.MappedPropertyApply(dm.ContainerId(SPACE, "Site"), "name"),
                    "pumps": dm.MultiReverseDirectRelationApply(PUMP, dm.PropertyId(PUMP, "site")),
                },
            ),
            dm.ViewApply(
                SPACE,
                "Pump",
                "v1",
                properties={
                    "name": dm.MappedPropertyApply(dm.ContainerId(SPACE, "Pump"), "name"),
                    "flow": dm.MappedPropertyApply(dm.ContainerId(SPACE, "Pump"), "flow"),
                    "running": dm.MappedPropertyApply(dm.ContainerId(SPACE, "Pump"), "running"),
                    "installed": dm.MappedPropertyApply(dm.ContainerId(SPACE, "Pump"), "installed"),
                    "tags": dm.MappedPropertyApply(dm.ContainerId(SPACE, "Pump"), "tags"),
                    "serial": dm.MappedPropertyApply(dm.ContainerId(SPACE, "Pump"), "serial"),
                    "site": dm.MappedPropertyApply(dm.ContainerId(SPACE, "Pump"), "site", source=SITE),
                    "feeds": dm.MultiEdgeConnectionApply(FEEDS, PUMP),
                },
            ),
        ]
    )
    client.data_modeling.data_models.apply(dm.DataModelApply(SPACE, "PlantModel", "1", views=[SITE, PUMP]))


def pump(xid: str, **values: object) -> dm.NodeApply:
    return dm.NodeApply(SPACE, xid, sources=[dm.NodeOrEdgeData(PUMP, {"name": xid, **values})])


def feeds(start: str, end: str) -> dm.EdgeApply:
    return dm.EdgeApply(
        SPACE, f"{start}->{end}", type=FEEDS, start_node=(SPACE, start), end_node=(SPACE, end)
    )
