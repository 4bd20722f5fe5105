"""The in-process wiring into cognite-sdk: the one place that relies on SDK internals."""

from __future__ import annotations

import asyncio

import pytest
from cognite.client import AsyncCogniteClient, CogniteClient

from emulator import FunctionsEmulator
from emulator.transport import check_sdk_seam


def test_sdk_seam_is_intact() -> None:
    # Fails with a message naming the SDK version if a new cognite-sdk moves the internals we wire.
    check_sdk_seam()


def test_client_is_real_sdk_client_bound_to_project(emu: FunctionsEmulator) -> None:
    client = emu.client()
    assert isinstance(client, CogniteClient)
    assert client.config.project == "test-project"
    assert emu.client(project="other").config.project == "other"
    assert isinstance(emu.async_client(), AsyncCogniteClient)


def test_projects_are_separate(emu: FunctionsEmulator) -> None:
    emu.deploy(function_handle=_noop_handle, external_id="only-in-a", project="a")
    assert [f.external_id for f in emu.client("a").functions.list()] == ["only-in-a"]
    assert list(emu.client("b").functions.list()) == []


def test_two_emulators_never_share_state() -> None:
    with FunctionsEmulator() as one, FunctionsEmulator() as two:
        one.deploy(function_handle=_noop_handle, external_id="x")
        assert len(one.client().functions.list()) == 1
        assert len(two.client().functions.list()) == 0


def test_other_clients_in_the_process_are_untouched(emu: FunctionsEmulator) -> None:
    from cognite.client import ClientConfig
    from cognite.client.credentials import Token

    emu.client()
    plain = CogniteClient(ClientConfig(client_name="x", project="p", credentials=Token("t"),
                                       base_url="http://127.0.0.1:9"))  # fmt: skip
    api = plain._CogniteClient__async_client.functions  # type: ignore[attr-defined]
    assert api._http_client._httpx_async_client is None


def test_sync_and_async_clients_share_one_emulator(emu: FunctionsEmulator) -> None:
    emu.deploy(function_handle=_noop_handle, external_id="shared")

    async def main() -> list[str | None]:
        fns = await emu.async_client().functions.list()
        return [f.external_id for f in fns]

    assert asyncio.run(main()) == ["shared"]
    assert emu.client().functions.retrieve(external_id="shared") is not None


@pytest.mark.parametrize("gzip_disabled", [False, True])
def test_plain_and_gzip_bodies(emu: FunctionsEmulator, gzip_disabled: bool) -> None:
    from cognite.client import global_config

    saved = global_config.disable_gzip
    global_config.disable_gzip = gzip_disabled
    try:
        emu.deploy(function_handle=_noop_handle, external_id="g")
        res = emu.client().functions.retrieve_multiple(external_ids=["g"])
        assert [f.external_id for f in res] == ["g"]
    finally:
        global_config.disable_gzip = saved


def _noop_handle():
    return None


def handle():
    return None


_noop_handle = handle  # deploy(function_handle=...) needs a function named "handle"
