"""Token inspection, the requester's profile and groups, through the real SDK over both transports."""

from __future__ import annotations

import pytest
from cognite.client import CogniteClient
from cognite.client.data_classes import GroupWrite
from cognite.client.data_classes.capabilities import ExtractionConfigsAcl, FunctionsAcl, RawAcl
from cognite.client.exceptions import CogniteAPIError, CogniteNotFoundError

from emulator import FunctionsEmulator


def test_token_inspect_names_the_project_and_grants_everything(sdk: CogniteClient) -> None:
    token = sdk.iam.token.inspect()
    assert token.subject == "emulator-user"
    assert "test-project" in [p.url_name for p in token.projects]
    acls = {type(c.capability).__name__ for c in token.capabilities}
    assert {"RawAcl", "FunctionsAcl", "ExtractionPipelinesAcl", "ExtractionConfigsAcl", "DataSetsAcl"} <= acls
    wanted = [
        RawAcl([RawAcl.Action.Read, RawAcl.Action.Write], RawAcl.Scope.All()),
        FunctionsAcl([FunctionsAcl.Action.Read, FunctionsAcl.Action.Write], FunctionsAcl.Scope.All()),
        ExtractionConfigsAcl([ExtractionConfigsAcl.Action.Read], ExtractionConfigsAcl.Scope.All()),
    ]
    assert sdk.iam.verify_capabilities(wanted) == []


def test_token_inspect_lists_the_groups_of_the_project(sdk: CogniteClient) -> None:
    group = sdk.iam.groups.create(GroupWrite(name="deployers", source_id="aad-group-1", capabilities=[]))
    project = next(p for p in sdk.iam.token.inspect().projects if p.url_name == "test-project")
    assert project.groups == [group.id]


def test_strict_auth_lists_only_the_bound_projects(emu: FunctionsEmulator) -> None:
    strict = FunctionsEmulator(project="a", auth="strict")
    try:
        strict.auth.bind("tok-a", ["a"])
        strict.backend.store("b")  # another project exists, but the token is not bound to it
        with strict.serve() as server:  # the emulator's own clients carry an every-project token
            client = server.client("a", token="tok-a")
            assert [p.url_name for p in client.iam.token.inspect().projects] == ["a"]
    finally:
        strict.close()


def test_subject_is_the_sub_claim_of_a_jwt(emu: FunctionsEmulator) -> None:
    import base64
    import json

    from starlette.testclient import TestClient

    claims = base64.urlsafe_b64encode(json.dumps({"sub": "svc-42"}).encode()).decode().rstrip("=")
    answer = TestClient(emu.app).get(
        "/api/v1/token/inspect", headers={"Authorization": f"Bearer h.{claims}.s"}
    )
    assert answer.json()["subject"] == "svc-42"


def test_profiles_me(sdk: CogniteClient) -> None:
    me = sdk.iam.user_profiles.me()
    assert me.user_identifier == "emulator-user"
    assert me.display_name == "Emulator User"
    assert me.last_updated_time == 1767225600000


def test_groups_list_create_delete(sdk: CogniteClient) -> None:
    assert len(sdk.iam.groups.list(all=True)) == 0
    made = sdk.iam.groups.create(
        [
            GroupWrite(
                name="readers",
                source_id="src-1",
                capabilities=[RawAcl([RawAcl.Action.Read], RawAcl.Scope.All())],
                metadata={"team": "a"},
            ),
            GroupWrite(name="in-cdf", members="allUserAccounts", capabilities=[]),
        ]
    )
    assert all(g.id > 10**6 for g in made)
    listed = sdk.iam.groups.list(all=True)
    assert [g.name for g in listed] == ["readers", "in-cdf"]
    assert isinstance(listed[0].capabilities[0], RawAcl)
    assert listed[0].metadata == {"team": "a"}
    sdk.iam.groups.delete(made[0].id)
    assert [g.name for g in sdk.iam.groups.list()] == ["in-cdf"]
    with pytest.raises(CogniteNotFoundError):
        sdk.iam.groups.delete(made[0].id)


def test_groups_refuse_bad_input(sdk: CogniteClient) -> None:
    with pytest.raises(CogniteAPIError) as caught:
        sdk.post(f"/api/v1/projects/{sdk.config.project}/groups", json={"items": [{"name": ""}]})
    assert caught.value.code == 400
    with pytest.raises(CogniteAPIError):
        sdk.post(f"/api/v1/projects/{sdk.config.project}/groups/delete", json={"items": ["x"]})
    assert len(sdk.iam.groups.list()) == 0


def test_groups_are_shared_with_a_handler(emu: FunctionsEmulator, client: CogniteClient) -> None:
    def handle(client, data):  # type: ignore[no-untyped-def]
        from cognite.client.data_classes import GroupWrite

        return client.iam.groups.create(GroupWrite(name=data["name"], capabilities=[])).id

    fn = emu.deploy(function_handle=handle)
    group_id = fn.call(data={"name": "from-handler"}).get_response()
    assert [g.id for g in client.iam.groups.list()] == [group_id]


def test_token_inspect_matches_the_spec_with_its_capability_oneof_read_as_anyof(
    emu: FunctionsEmulator,
) -> None:
    import copy

    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
    from starlette.testclient import TestClient

    from emulator.spec import full_spec

    spec = copy.deepcopy(full_spec())
    capability = spec["components"]["schemas"]["Capability"]
    capability["anyOf"] = capability.pop("oneOf")
    registry = Registry().with_resource("urn:cdf", Resource(contents=spec, specification=DRAFT202012))
    validator = Draft202012Validator(
        {"$ref": "urn:cdf#/components/schemas/TokenInspectionResponse"}, registry=registry
    )
    body = TestClient(emu.app).get("/api/v1/token/inspect").json()
    assert list(validator.iter_errors(body)) == []
    assert len(body["capabilities"]) > 30
