"""requirements="install": a virtual environment per function (uv), cached, on the declared runtime's
Python, through the real SDK. These tests need the package index; they skip when it is unreachable."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest
from cognite.client import CogniteClient

from emulator import FunctionsEmulator
from emulator.build.cache import READY
from tests.build_kit import PACKAGE, VERSION, folder, package_index, python_of  # noqa: F401

pytestmark = [
    pytest.mark.usefixtures("package_index"),
    pytest.mark.functions_emulator(requirements="install", isolation="process", timeout=60),
]

USES_PACKAGE = f"""
import sys
import {PACKAGE}

def handle(data):
    return {{"taken": list({PACKAGE}.take(2, data["items"])), "python": list(sys.version_info[:3]),
             "executable": sys.executable}}
"""


def _envs(cache: Path) -> list[Path]:
    return sorted(p for p in cache.iterdir() if (p / READY).is_file())


def test_a_package_from_the_index_is_installed_for_the_function_and_cached(
    any_client: CogniteClient, build_cache: Path
) -> None:
    # skip_folder_validation: the SDK imports the handler in this Python first, as it would for a
    # user whose machine lacks the function's packages.
    files = {"handler.py": USES_PACKAGE, "requirements.txt": f"{PACKAGE}=={VERSION}\n"}
    with pytest.raises(ImportError):
        __import__(PACKAGE)  # not in the test environment: only the function's has it
    before = set(_envs(build_cache))
    started = time.perf_counter()
    first = any_client.functions.create(
        name="first",
        folder=folder(files),
        runtime=f"py3{sys.version_info.minor}",
        skip_folder_validation=True,
    )
    first_seconds = time.perf_counter() - started
    started = time.perf_counter()
    second = any_client.functions.create(
        name="second",
        folder=folder(files),
        runtime=f"py3{sys.version_info.minor}",
        skip_folder_validation=True,
    )
    second_seconds = time.perf_counter() - started
    print(f"\n[build timings] first deployment {first_seconds:.2f} s, second (cached) {second_seconds:.2f} s")
    for fn in (first, second):
        fn = any_client.functions.retrieve(id=fn.id)
        assert fn.status == "Ready", fn.error
        call = any_client.functions.call(id=fn.id, data={"items": [1, 2, 3]})
        assert call.status == "Completed", call.error
        response = call.get_response()
        assert response["taken"] == [1, 2] and response["executable"] != sys.executable
    built = set(_envs(build_cache)) - before
    assert len(built) <= 1  # the second deployment reused the first one's environment
    env = next(iter(built or set(_envs(build_cache))))
    assert json.loads((env / READY).read_text())["requirements"] == f"{PACKAGE}=={VERSION}\n"


def test_a_version_that_does_not_exist_fails_with_the_installers_output(any_client: CogniteClient) -> None:
    files = {"handler.py": USES_PACKAGE, "requirements.txt": f"{PACKAGE}==0.0.424242\n"}
    fn = any_client.functions.create(
        name="missing-version", folder=folder(files), skip_folder_validation=True
    )
    fn = any_client.functions.retrieve(id=fn.id)
    assert fn.status == "Failed"
    assert fn.error["message"].startswith("Failed to install the requirements (uv exited with ")
    assert f"{PACKAGE}==0.0.424242" in fn.error["trace"]  # uv's resolver explains it


@pytest.mark.parametrize("runtime", ["py310", "py312", "py313"])
def test_the_declared_runtime_runs_the_call(emu: FunctionsEmulator, runtime: str) -> None:
    if python_of(runtime) is None:
        pytest.skip(f"no interpreter for {runtime} on this machine")
    files = {"handler.py": USES_PACKAGE, "requirements.txt": f"{PACKAGE}=={VERSION}\n"}
    fn = emu.deploy(folder=folder(files), runtime=runtime)
    assert fn.status == "Ready", fn.error
    minor = int(runtime[3:])
    assert fn.runtime_version.startswith(f"Python 3.{minor}.")
    call = emu.client().functions.call(id=fn.id, data={"items": [5, 6, 7]})
    assert call.status == "Completed", call.error
    assert call.get_response()["python"][:2] == [3, minor]
    assert fn.runtime_version == "Python {}.{}.{}".format(*call.get_response()["python"])


def test_concurrent_deployments_of_one_environment_build_it_once(
    emu: FunctionsEmulator, build_cache: Path
) -> None:
    files = {"handler.py": USES_PACKAGE, "requirements.txt": f"{PACKAGE}=={VERSION}\n# concurrent\nsix\n"}
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(emu.deploy(folder=folder(files)))) for _ in range(3)
    ]
    before = set(_envs(build_cache))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [fn.status for fn in results] == ["Ready"] * 3, [fn.error for fn in results]
    assert len(set(_envs(build_cache)) - before) <= 1
    assert not [p for p in build_cache.iterdir() if p.name.endswith(".tmp")]


SDK7 = """
import cognite.client

def handle(client, data):
    return {"version": cognite.client.__version__, "functions": [f.name for f in client.functions.list()]}
"""


@pytest.mark.skipif(python_of("py312") is None, reason="no Python 3.12 on this machine")
def test_a_function_pinned_to_cognite_sdk_7_lists_functions_from_handle(any_client: CogniteClient) -> None:
    files = {"handler.py": SDK7, "requirements.txt": "cognite-sdk==7.*\n"}
    started = time.perf_counter()
    fn = any_client.functions.create(name="sdk7", folder=folder(files), runtime="py312")
    print(f"\n[build timings] cognite-sdk==7.* environment {time.perf_counter() - started:.2f} s")
    fn = any_client.functions.retrieve(id=fn.id)
    assert fn.status == "Ready", fn.error
    call = any_client.functions.call(id=fn.id, data={})
    assert call.status == "Completed", call.error
    response = call.get_response()
    assert response["version"].startswith("7.") and "sdk7" in response["functions"]


def test_thread_isolation_puts_the_environment_on_the_functions_import_path(build_cache: Path) -> None:
    source = "import six\n\ndef handle(data):\n    return {'file': six.__file__}\n"
    files = {"handler.py": source, "requirements.txt": "six==1.16.0\n"}  # the test env has another six
    with FunctionsEmulator(requirements="install", isolation="thread") as emu:
        fn = emu.deploy(folder=folder(files))
        assert fn.status == "Ready", fn.error
        call = emu.client().functions.call(id=fn.id, data={})
        assert call.status == "Completed", call.error
        assert call.get_response()["file"].startswith(str(build_cache))
    import six

    assert not six.__file__.startswith(str(build_cache))  # the test process keeps its own
    assert os.environ.get("CDF_FUNCTIONS_EMULATOR_CACHE") == str(build_cache)


def test_thread_isolation_says_when_a_package_cannot_find_itself() -> None:
    files = {
        "handler.py": USES_PACKAGE,
        "requirements.txt": f"{PACKAGE}=={VERSION}\n",
    }  # toolz: import_module
    with FunctionsEmulator(requirements="install", isolation="thread") as emu:
        fn = emu.deploy(folder=folder(files))
    assert fn.status == "Failed"
    assert fn.error["message"].startswith(
        f"Failed to import handler.py: ModuleNotFoundError: No module named '{PACKAGE}'"
    )
    assert "deploy with isolation='process'" in fn.error["message"]
