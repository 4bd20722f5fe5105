"""The Cognite Toolkit (``cdf build`` / ``cdf deploy``) against the emulator's dev server, unmodified.

The Toolkit runs as its own process (the ``cdf`` entry point), logged in with a token against the
loopback server, exactly as docs/toolkit.md tells a user to run it. One deployment (a data set, two
functions, two schedules) is built, deployed twice and dry-run once, and read back through the
cognite-sdk, over HTTP and in-process. Skipped when the Toolkit is not installed (it needs Python
3.11 or later); the last test, of what the Toolkit asks beyond the official spec, needs none.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from cognite.client import CogniteClient
from cognite.client.exceptions import CogniteAPIError

from emulator import FunctionsEmulator

# The deployment test runs four Toolkit processes (each a few seconds of imports, more on a loaded
# machine).
pytestmark = pytest.mark.timeout(600)

PROJECT = "toolkit-project"
# The entry point installed next to this interpreter (the venv's bin/), else the one on PATH.
CDF = shutil.which("cdf", path=str(Path(sys.executable).parent)) or shutil.which("cdf")

CONFIG = """\
environment:
  name: dev
  project: {project}
  validation-type: dev
  selected:
    - modules/
variables:
  modules:
    greetings:
      function_client_id: ${{FUNCTION_CLIENT_ID}}
      function_client_secret: ${{FUNCTION_CLIENT_SECRET}}
"""

# A line of the panel: "│  · unchanged          2 externalId='a' · externalId='b'", "+ would create ...".
RESOURCE_LINE = re.compile(r"^\W*\s[+\-~·]\s+([a-z][a-z ]*?)\s+(\d+)\s", re.MULTILINE)

# Module files: path under modules/greetings -> content.
MODULE = {
    "data_sets/functions.DataSet.yaml": "externalId: ds_greetings\nname: Greetings\n",
    # No envVars, secrets, cpu, memory or runtime: what CDF fills in must not look like a change.
    "functions/greeter.Function.yaml": (
        "externalId: greeter\nname: greeter\ndataSetExternalId: ds_greetings\n"
        "description: Says hello\nowner: team-a\n"
    ),
    "functions/greeter/handler.py": (
        "def handle(client, data):\n    return {'greeting': 'Hello, ' + data['name']}\n"
    ),
    "functions/greeter.Schedule.yaml": (
        "name: hourly\nfunctionExternalId: greeter\ncronExpression: '0 * * * *'\n"
        "description: Greets the world\ndata:\n  name: world\n"
        "authentication:\n  clientId: {{ function_client_id }}\n  clientSecret: {{ function_client_secret }}\n"
    ),
    # Every field the Toolkit compares after a deploy, and code in a package.
    "functions/reporter.Function.yaml": (
        "externalId: reporter\nname: reporter\ndataSetExternalId: ds_greetings\n"
        "functionPath: app/main.py\nsecrets:\n  api-key: s3cr3t\nenvVars:\n  MODE: test\n"
        "cpu: 0.5\nmemory: 1.5\nruntime: py311\nmetadata:\n  team: b\n"
    ),
    "functions/reporter/app/__init__.py": "",
    "functions/reporter/app/main.py": (
        "import os\n\n\ndef handle(data, secrets):\n"
        "    return {'mode': os.environ.get('MODE'), 'has_key': 'api-key' in secrets}\n"
    ),
    "functions/reporter.Schedule.yaml": (
        "name: nightly\nfunctionExternalId: reporter\ncronExpression: '0 2 * * *'\ndata: {}\n"
        "authentication:\n  clientId: {{ function_client_id }}\n  clientSecret: {{ function_client_secret }}\n"
    ),
}


def write_organization(root: Path, project: str) -> Path:
    """A Toolkit organization folder: cdf.toml (pinned to the installed CLI), config, one module."""
    (root / "cdf.toml").write_text(
        '[cdf]\ndefault_config_yaml = "config.dev.yaml"\n\n'
        f'[modules]\nversion = "{version("cognite-toolkit")}"\n'
    )
    (root / "config.dev.yaml").write_text(CONFIG.format(project=project))
    for relative, content in MODULE.items():
        path = root / "modules" / "greetings" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def toolkit_env(base_url: str, project: str) -> dict[str, str]:
    """The process environment of docs/toolkit.md: a token login against the local URL, offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDF_", "IDP_", "LOGIN_FLOW"))}
    env.update(
        LOGIN_FLOW="token",
        CDF_TOKEN="any-token",
        CDF_URL=base_url,
        CDF_PROJECT=project,
        CDF_CLUSTER="local",
        FUNCTION_CLIENT_ID="schedules-client",
        FUNCTION_CLIENT_SECRET="schedules-secret",
        SENTRY_ENABLED="false",
        # Usage telemetry is skipped when PYTEST_CURRENT_TEST is set (pytest sets it; say so anyway).
        PYTEST_CURRENT_TEST=os.environ.get("PYTEST_CURRENT_TEST", "tests/test_toolkit.py"),
        COLUMNS="200",  # one resource per line in the rich panels the tests read
        NO_COLOR="1",
        TERM="dumb",
    )
    return env


def cdf(org: Path, env: dict[str, str], *args: str) -> str:
    assert CDF is not None
    done = subprocess.run(
        [CDF, *args], cwd=org, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"cdf {' '.join(args)} exited {done.returncode}:\n{output}"
    return output


def resource_actions(output: str) -> dict[str, int]:
    """What the "Resources" panel of a --verbose deploy says it did, e.g. {"unchanged": 5}."""
    actions: dict[str, int] = {}
    for action, count in RESOURCE_LINE.findall(output):
        actions[action] = actions.get(action, 0) + int(count)
    return actions


def snapshot(client: CogniteClient) -> dict[str, Any]:
    """The ids a redeploy would change: functions, their code files, schedules and sessions."""
    functions = {fn.external_id: fn for fn in client.functions.list(limit=None)}
    schedules = {s.name: s for s in client.functions.schedules.list(limit=None)}
    return {
        "functions": {xid: (fn.id, fn.file_id) for xid, fn in functions.items()},
        "schedules": {name: (s.id, s.function_id, s.session_id) for name, s in schedules.items()},
        "files": sorted(f.id for f in client.files.list(limit=None)),
        "data_sets": sorted(d.id for d in client.data_sets.list(limit=None)),
    }


def test_build_deploy_twice_and_dry_run(tmp_path: Path) -> None:
    """One test, so that a parallel run (xdist) never deploys twice: each step is a check below."""
    pytest.importorskip(
        "cognite_toolkit", reason="cognite-toolkit is not installed (it needs Python >= 3.11)"
    )
    if CDF is None:
        pytest.skip("the cognite-toolkit package is installed but its `cdf` command is not found")
    org = write_organization(tmp_path, PROJECT)
    emu = FunctionsEmulator(project=PROJECT, start="2026-01-01T00:00:00Z")
    with emu, emu.serve(port=0) as server:
        env = toolkit_env(server.base_url, PROJECT)
        http = server.client()
        cdf(org, env, "build")
        cdf(org, env, "deploy")
        check_what_the_deploy_created(emu.client())  # in-process: what the HTTP deploy wrote
        first = snapshot(http)
        second_output = cdf(org, env, "deploy", "--verbose")
        # Nothing deleted or recreated: the same ids, and 1 data set, 2 functions and 2 schedules
        # listed as unchanged (a change is listed as "- deleted" and "+ created").
        assert snapshot(http) == first
        assert resource_actions(second_output) == {"unchanged": 5}
        dry_run_output = cdf(org, env, "deploy", "--dry-run", "--verbose")
        assert resource_actions(dry_run_output) == {"unchanged": 5}  # no "would create/update/delete"
        check_the_schedule_runs_the_uploaded_code(emu, http)


def check_what_the_deploy_created(client: CogniteClient) -> None:
    greeter = client.functions.retrieve(external_id="greeter")
    reporter = client.functions.retrieve(external_id="reporter")
    assert greeter is not None and reporter is not None
    assert greeter.status == reporter.status == "Ready"
    assert reporter.function_path == "app/main.py" and reporter.env_vars == {"MODE": "test"}
    assert (reporter.cpu, reporter.memory, reporter.runtime) == (0.5, 1.5, "py311")
    data_set = client.data_sets.retrieve(external_id="ds_greetings")
    assert data_set is not None
    # The code zip is a file in the function's data set, named after the function.
    code = client.files.retrieve(id=greeter.file_id)
    assert code is not None and code.data_set_id == data_set.id and code.external_id == "greeter"
    hourly = client.functions.schedules.list(function_id=greeter.id)
    assert [(s.name, s.cron_expression) for s in hourly] == [("hourly", "0 * * * *")]
    assert client.functions.schedules.get_input_data(id=hourly[0].id) == {"name": "world"}
    # The Toolkit created each schedule's session from the client credentials of the config.
    assert hourly[0].session_id is not None
    assert {s.name for s in client.functions.schedules.list(limit=None)} == {"hourly", "nightly"}


def check_the_schedule_runs_the_uploaded_code(emu: FunctionsEmulator, client: CogniteClient) -> None:
    calls = emu.clock.advance(hours=1)  # 01:00: the hourly schedule; the nightly one is at 02:00
    greeter = client.functions.retrieve(external_id="greeter")
    assert greeter is not None
    assert [(c.function_id, c.status, c.get_response()) for c in calls] == [
        (greeter.id, "Completed", {"greeting": "Hello, world"})
    ]


def test_a_project_path_the_emulator_does_not_serve_answers_in_cdfs_error_shape(
    any_client: CogniteClient,
) -> None:
    # The Toolkit asks GET /api/v1/projects/{project} (undocumented, not in the official spec) for
    # its telemetry; the emulator does not serve it, and says so as CDF says "not found": a 404 in
    # CDF's error shape, not a redirect to the path with a slash (the SDK failed on its empty body).
    project = any_client.config.project
    with pytest.raises(CogniteAPIError) as caught:
        any_client.get(f"/api/v1/projects/{project}")
    assert caught.value.code == 404 and "No such route" in caught.value.message


@pytest.mark.parametrize("path", ["/functions/", "/timeseries/", "/raw/dbs/"])
def test_a_served_path_with_a_trailing_slash_is_not_redirected(any_client: CogniteClient, path: str) -> None:
    # CDF serves /functions, not /functions/: a 404 in its error shape, never a bare 307 to the
    # path without the slash (what Starlette's routers do by default).
    project = any_client.config.project
    with pytest.raises(CogniteAPIError) as caught:
        any_client.get(f"/api/v1/projects/{project}{path}")
    assert caught.value.code == 404 and "No such route" in caught.value.message
