"""The build step at deployment without a package index: requirements.txt parsed and checked, the
declared runtime answered truthfully, through the real SDK (in-process and over loopback)."""

from __future__ import annotations

import io
import platform
import sys
import zipfile
from pathlib import Path

import pytest
from cognite.client import CogniteClient

from emulator import FunctionsEmulator
from emulator.build.runtimes import uv_binary
from emulator.context import Settings
from tests.build_kit import HOST_RUNTIME, folder

pytest_plugins = ["pytester"]

HANDLER = "def handle(data):\n    return {'ok': True}\n"


def _create(client: CogniteClient, files: dict[str, str], **fields: object) -> object:
    fn = client.functions.create(name="build", folder=folder(files), **fields)  # type: ignore[arg-type]
    return client.functions.retrieve(id=fn.id)


def test_check_is_the_default(emu: FunctionsEmulator) -> None:
    assert emu.requirements == "check" and FunctionsEmulator().requirements == "check"
    with pytest.raises(ValueError, match="requirements must be"):
        Settings(project="p", requirements="always")  # type: ignore[arg-type]


def test_an_invalid_line_fails_the_deployment_naming_it(any_client: CogniteClient) -> None:
    fn = _create(
        any_client, {"handler.py": HANDLER, "requirements.txt": "# pinned\ncognite-sdk>=8\ntoolz >=1 <2\n"}
    )
    assert fn.status == "Failed"
    assert fn.error["message"].startswith("Invalid requirements (requirements.txt, line 3): 'toolz >=1 <2'")
    assert "Expected comma" in fn.error["trace"]  # packaging's own explanation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-c constraints.txt\n", "-c is not supported"),
        ("--no-such-option\n", "unknown option --no-such-option"),
        ("-r missing.txt\n", "no file 'missing.txt'"),
        ("./local/package\n", "local paths and bare URLs are not supported"),
    ],
)
def test_lines_pip_would_refuse_or_the_emulator_cannot_follow(
    emu: FunctionsEmulator, text: str, expected: str
) -> None:
    fn = emu.deploy(folder=folder({"handler.py": HANDLER, "requirements.txt": text}))
    assert fn.status == "Failed" and expected in fn.error["message"], fn.error


def test_check_names_what_is_missing_and_the_two_ways_out(any_client: CogniteClient) -> None:
    files = {
        "handler.py": HANDLER,
        "requirements.txt": "-r base.txt\n",
        "base.txt": "no-such-package-x==1.0\nnumpy<1\n",
    }
    fn = _create(any_client, files)
    assert fn.status == "Failed"
    message = fn.error["message"]
    assert "no-such-package-x==1.0 (not installed)" in message and "numpy<1 (installed: " in message
    assert "pip install 'no-such-package-x==1.0' 'numpy<1'" in message
    assert "requirements='install'" in message


def test_check_passes_what_the_environment_has_and_markers_that_do_not_apply(
    any_client: CogniteClient,
) -> None:
    text = (
        "cognite-sdk>=8  # the emulator's own\n"
        "Cognite_SDK \\\n    >=8.0\n"  # names in any spelling, a continued line
        "--index-url https://example.invalid/simple\n"
        'no-such-package-x==1.0; python_version < "3.0"\n'
    )
    fn = _create(any_client, {"handler.py": HANDLER, "requirements.txt": text})
    assert fn.status == "Ready", fn.error
    call = any_client.functions.call(id=fn.id, data={})
    assert call.get_response() == {"ok": True}


@pytest.mark.functions_emulator(requirements="ignore")
def test_ignore_does_not_read_the_requirements(emu: FunctionsEmulator) -> None:
    fn = emu.deploy(folder=folder({"handler.py": HANDLER, "requirements.txt": "no-such-package-x==1\n"}))
    assert fn.status == "Ready"


def handle(data):  # type: ignore[no-untyped-def]
    """A handler whose requirements are in its docstring, the SDK's convention.

    [requirements]
    no-such-package-x==1.0
    [/requirements]
    """
    return data


def test_docstring_requirements_of_a_function_handle(
    any_client: CogniteClient, emu: FunctionsEmulator
) -> None:
    through_sdk = any_client.functions.create(name="doc", function_handle=handle)
    assert any_client.functions.retrieve(id=through_sdk.id).status == "Failed"
    one_line = emu.deploy(function_handle=handle)
    assert (
        one_line.status == "Failed" and "no-such-package-x==1.0 (not installed)" in one_line.error["message"]
    )


def test_runtime_version_is_the_python_that_runs_the_function(any_client: CogniteClient) -> None:
    for runtime in ("py310", HOST_RUNTIME, "py313"):
        fn = _create(any_client, {"handler.py": HANDLER}, runtime=runtime)
        assert fn.status == "Ready" and fn.runtime == runtime
        assert fn.runtime_version == f"Python {platform.python_version()}"  # check mode: the host runs it


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the host reads Python 3.12 syntax")
def test_newer_syntax_is_not_blamed_on_the_code(any_client: CogniteClient) -> None:
    source = "type Number = int\n\ndef handle(data):\n    return data\n"  # PEP 695: Python 3.12
    # The SDK's folder check parses the handler with this Python: upload the zip as a file instead.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("handler.py", source)
    file = any_client.files.upload_bytes(buffer.getvalue(), name="newer.zip")
    created = any_client.functions.create(name="newer", file_id=file.id, runtime="py312")
    fn = any_client.functions.retrieve(id=created.id)
    assert fn.status == "Failed"
    message = fn.error["message"]
    assert message.startswith("Failed to import handler.py: SyntaxError")
    assert "declares runtime 'py312'" in message and "not necessarily an error in the code" in message
    assert "requirements='install' and isolation='process'" in message


@pytest.mark.functions_emulator(requirements="install", isolation="process",
                                interpreters={"py312": "/nonexistent/python3.12"})  # fmt: skip
def test_a_runtime_without_an_interpreter_is_answered_clearly(any_client: CogniteClient) -> None:
    fn = _create(any_client, {"handler.py": HANDLER, "requirements.txt": "toolz==1.0.0\n"}, runtime="py312")
    assert fn.status == "Failed"
    assert fn.error["message"].startswith(
        "interpreters['py312'] = '/nonexistent/python3.12' does not run, not Python 3.12. Install that Python"
    )


@pytest.mark.functions_emulator(requirements="install", isolation="process")
def test_install_without_requirements_on_the_host_runtime_builds_nothing(
    emu: FunctionsEmulator, build_cache: Path
) -> None:
    fn = emu.deploy(folder=folder({"handler.py": HANDLER}), runtime=HOST_RUNTIME)
    assert fn.status == "Ready" and fn.runtime_version == f"Python {platform.python_version()}"
    call = emu.client().functions.call(id=fn.id, data={})
    assert call.status == "Completed" and call.get_response() == {"ok": True}
    assert not any(build_cache.iterdir())


@pytest.mark.skipif(uv_binary() is None, reason="uv is not installed")
@pytest.mark.functions_emulator(requirements="install")
def test_index_url_goes_to_the_installer(any_client: CogniteClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")  # a closed port: fail at once
    files = {"handler.py": HANDLER, "requirements.txt": "toolz==1.0.0\n"}
    fn = _create(any_client, files, index_url="http://127.0.0.1:9/simple", skip_folder_validation=True)
    assert fn.status == "Failed"
    assert fn.error["message"].startswith("Failed to install the requirements (uv exited with 2): ")
    assert (
        "http://127.0.0.1:9/simple/toolz/" in fn.error["message"]
        and "Connection refused" in fn.error["trace"]
    )


def test_the_plugin_takes_the_mode_and_cache_from_ini_and_command_line(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        functions_emulator_requirements = ignore
        """
    )
    pytester.makepyfile(
        test_modes="""
        def test_modes(functions_emulator):
            assert functions_emulator.requirements == "ignore"
            assert str(functions_emulator.context.settings.build_cache) == "/tmp/from-cli"
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--functions-emulator-build-cache", "/tmp/from-cli"
    )
    result.assert_outcomes(passed=1)


def test_a_runtime_nowhere_on_the_machine_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = "py312" if sys.version_info[:2] != (3, 12) else "py310"
    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.X on PATH
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))  # no pyenv versions
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path))  # no uv-managed Pythons
    with FunctionsEmulator(requirements="install", isolation="process") as emu:
        created = emu.client().functions.create(
            name="nowhere", folder=folder({"handler.py": HANDLER}), runtime=runtime
        )
        fn = emu.client().functions.retrieve(id=created.id)
    assert fn.status == "Failed" and fn.runtime_version == f"Python {runtime[2]}.{runtime[3:]}"
    wanted = f"3.{runtime[3:]}"
    assert fn.error["message"].startswith(f"No Python {wanted} interpreter was found for runtime '{runtime}'")
    assert f"`uv python install {wanted}`" in fn.error["message"] and "interpreters=" in fn.error["message"]
