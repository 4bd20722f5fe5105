"""Each function its own modules (issue 14): no sharing by name, no global swap, under concurrency."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from cognite.client import CogniteClient

from emulator import FunctionsEmulator
from tests.test_functions import create_from_zip

HANDLER = (
    "import utils\n"
    "from common.names import who\n"
    "def handle(data):\n"
    "    import lazy  # imported inside handle(), on the first call\n"
    "    return [utils.NAME, who(), lazy.NAME, data['i']]\n"
)


def _files(name: str) -> dict[str, str]:
    return {
        "handler.py": HANDLER,
        "utils.py": f"NAME = {name!r}\n",
        "lazy.py": f"NAME = 'lazy-{name}'\n",
        "common/__init__.py": "",
        "common/names.py": f"def who():\n    return 'common-{name}'\n",
    }


def test_same_named_helpers_called_concurrently(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    fns = {name: create_from_zip(any_client, _files(name), external_id=name) for name in ("a", "b")}
    assert all(fn.status == "Ready" for fn in fns.values()), [fn.error for fn in fns.values()]

    def call(job: tuple[str, int]) -> tuple[str, int, object]:
        name, i = job
        return name, i, fns[name].call(data={"i": i}).get_response()

    jobs = [(name, i) for i in range(200) for name in fns]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, jobs))
    for name, i, response in results:
        assert response == [name, f"common-{name}", f"lazy-{name}", i]
    assert "utils" not in sys.modules and "common" not in sys.modules  # nothing leaks by its own name


def test_parallel_deployments_each_run_their_own_code(
    emu: FunctionsEmulator, any_client: CogniteClient
) -> None:
    names = [f"f{i}" for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        fns = list(pool.map(lambda n: create_from_zip(any_client, _files(n), external_id=n), names))
    assert [fn.status for fn in fns] == ["Ready"] * 8, [fn.error for fn in fns]
    for name, fn in zip(names, fns, strict=True):
        assert fn.call(data={"i": 0}).get_response() == [name, f"common-{name}", f"lazy-{name}", 0]


def test_redeploy_under_the_same_external_id_runs_the_new_code(
    emu: FunctionsEmulator, any_client: CogniteClient
) -> None:
    first = create_from_zip(any_client, _files("v1"), external_id="app")
    assert first.call(data={"i": 1}).get_response()[0] == "v1"
    any_client.functions.delete(external_id="app")
    second = create_from_zip(any_client, _files("v2"), external_id="app")
    assert second.call(data={"i": 2}).get_response() == ["v2", "common-v2", "lazy-v2", 2]


def test_code_two_folders_deep_without_init(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    files = {
        "a/b/handler.py": "from a.b import helper\ndef handle():\n    return helper.VALUE\n",
        "a/b/helper.py": "VALUE = 'deep'\n",
    }
    fn = create_from_zip(any_client, files, function_path="a/b/handler.py")
    assert fn.status == "Ready", fn.error
    assert fn.call().get_response() == "deep"


def test_a_function_never_sees_the_test_process_module_of_the_same_name(
    emu: FunctionsEmulator, any_client: CogniteClient
) -> None:
    # "json" is the standard library's; a function's own json.py wins inside the function only.
    fn = create_from_zip(
        any_client,
        {
            "handler.py": "import json\ndef handle():\n    return json.MINE\n",
            "json.py": "MINE = 'own json'\n",
        },
    )
    assert fn.call().get_response() == "own json"
    assert not hasattr(sys.modules["json"], "MINE")
