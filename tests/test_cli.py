"""The `emulator serve` command line: options, strict auth with bound tokens, argument errors."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cognite.client import ClientConfig, CogniteClient, global_config
from cognite.client.credentials import Token
from cognite.client.exceptions import CogniteAPIError

ROOT = Path(__file__).resolve().parent.parent
START_MS = 1767225600000  # 2026-01-01T00:00:00Z


def client_for(base_url: str, project: str, token: str = "x") -> CogniteClient:
    global_config.disable_pypi_version_check = True
    return CogniteClient(
        ClientConfig(client_name="cli-test", project=project, credentials=Token(token), base_url=base_url)
    )


class Cli:
    """`python -m emulator serve --port 0 ...` in a subprocess; reads the URL it prints."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "serve", "--port", "0", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            self.lines.append(line)
            match = re.search(r"listening on (http://127\.0\.0\.1:(\d+))", line)
            if match:
                self.url, self.port = match.group(1), int(match.group(2))
                return
            if not line and self.proc.poll() is not None:
                break
        self.proc.kill()
        raise AssertionError("the CLI did not print its URL:\n" + "".join(self.lines))

    def stop(self, sig: int = signal.SIGINT) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        assert self.proc.stdout is not None
        return "".join(self.lines) + self.proc.stdout.read()

    def __enter__(self) -> Cli:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_port_zero_picks_a_free_port_and_prints_it_with_a_snippet() -> None:
    with Cli("--project", "p0", "--clock", "virtual", "--start", str(START_MS)) as cli:
        assert cli.port > 0
        clock = httpx.get(f"{cli.url}/_emulator/clock", timeout=30).json()
        assert clock["now"] == START_MS and clock["mode"] == "virtual"  # --start took epoch ms
        assert client_for(cli.url, "p0").functions.list() == []
        out = cli.stop()
    assert cli.proc.returncode == 0
    snippet = out[out.index("from cognite.client import") :]
    assert f'base_url="{cli.url}"' in snippet and 'project="p0"' in snippet
    # one line per request (the SDK lists functions with POST .../functions/list)
    assert re.search(r'"POST /api/v1/projects/p0/functions/list HTTP/1.1" 200', out), out
    assert "Emulator stopped." in out


def test_the_clock_follows_wall_time_by_default() -> None:
    with Cli() as cli:
        first = httpx.get(f"{cli.url}/_emulator/clock", timeout=30).json()
        assert first["mode"] == "wall"
        assert abs(first["now"] - time.time() * 1000) < 60_000
        time.sleep(0.05)
        assert httpx.get(f"{cli.url}/_emulator/clock", timeout=30).json()["now"] > first["now"]
        cli.stop()


def test_strict_auth_with_tokens_bound_to_projects() -> None:
    with Cli("--auth", "strict", "--token", "tok-a=a", "--token", "tok-ab=a,b") as cli:
        anonymous = httpx.get(f"{cli.url}/api/v1/projects/a/functions", timeout=30)
        assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == 401
        assert client_for(cli.url, "a", token="tok-a").functions.list() == []
        assert client_for(cli.url, "b", token="tok-ab").functions.list() == []
        with pytest.raises(CogniteAPIError) as err:
            client_for(cli.url, "b", token="tok-a").functions.list()
        assert err.value.code == 403
        cli.stop()
    assert cli.proc.returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--start", "not-a-time"], "Not an ISO 8601 time"),
        (["serve", "--port", "70000"], "a port is a number"),
        (["serve", "--token", "no-projects"], "TOKEN=PROJECT"),
        (["serve", "--token", "t=a"], "--token needs --auth strict"),
        (["serve", "--clock", "sundial"], "invalid choice"),
        (["serve", "--state", "/nonexistent-folder/state.json"], "does not exist"),
        (["launch"], "invalid choice"),
    ],
)
def test_bad_arguments_are_clear_errors(args: list[str], message: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr


def test_a_busy_port_is_one_clear_error_line_suggesting_port_zero() -> None:
    with Cli() as cli:
        proc = run_cli("serve", "--port", str(cli.port))
        assert proc.returncode == 1
        assert proc.stderr.splitlines() == [
            f"error: port {cli.port} on 127.0.0.1 is in use: pick another with --port, "
            "or --port 0 for a free one"
        ]
        assert proc.stdout == ""  # nothing that looks like a start (no uvicorn "Started server process")
        cli.stop()


def test_version() -> None:
    from emulator import __version__

    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"emulator {__version__}"


def test_bare_emulator_prints_help() -> None:
    proc = run_cli()
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("usage: emulator") and "serve" in proc.stdout and "--version" in proc.stdout


def test_help_gives_every_option_a_text_and_a_default() -> None:
    proc = run_cli("serve", "--help")
    assert proc.returncode == 0
    # one entry per option, starting on a line of its own ("  --port PORT  ..."); argparse wraps the rest
    entries = re.split(r"\n(?=  --)", proc.stdout[proc.stdout.index("options:") :])[1:]
    named = {entry.split()[0].rstrip(","): " ".join(entry.split()) for entry in entries}
    assert sorted(named) == sorted(re.findall(r"\[(--[a-z-]+)", proc.stdout)) and len(named) == 16
    for option, entry in named.items():
        assert "(default: " in entry, f"{option} shows no default: {entry}"
    text = " ".join(proc.stdout.split())
    for default in ("(default: 127.0.0.1)", "(default: 8700)", "(default: emulator-project)",
                    "(default: wall)", "(default: sync)", "(default: any)", "(default: off)", "(default: check)"):  # fmt: skip
        assert default in text
