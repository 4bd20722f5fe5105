"""``python -m emulator serve ...`` (also the ``emulator`` console script): a dev server."""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import socket
import sys
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from emulator.emulator import DEFAULT_PROJECT

DEMO_FUNCTIONS = ("hello", "echo", "failing", "slow", "uses_client", "with_helper")

SNIPPET = """\
from cognite.client import ClientConfig, CogniteClient, global_config
from cognite.client.credentials import Token

global_config.disable_pypi_version_check = True
client = CogniteClient(ClientConfig(client_name="dev", project="{project}",
                                    credentials=Token("any-token"), base_url="{base_url}"))
"""


def _start(value: str) -> str | int:
    from emulator.clock import to_epoch_ms

    start: str | int = int(value) if value.strip().isdigit() else value
    try:
        to_epoch_ms(start)
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return start


def _port(value: str) -> int:
    if not value.isdigit() or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, got {value!r}")
    return int(value)


def _token(value: str) -> tuple[str, list[str]]:
    token, sep, projects = value.partition("=")
    names = [p.strip() for p in projects.split(",") if p.strip()]
    if not sep or not token.strip() or not names:
        raise argparse.ArgumentTypeError(f"expected TOKEN=PROJECT[,PROJECT...] or TOKEN=*, got {value!r}")
    return token.strip(), names


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every option's default: flags are off, options without a value are not set."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "(default" in text or not action.option_strings or action.default is argparse.SUPPRESS:
            return text  # the text says it already, a positional, or --help and --version
        if action.default is False:
            return f"{text} (default: off)"
        if action.default in (None, []):
            return f"{text} (default: not set)"
        return super()._get_help_string(action) or text


def _admin_token(value: str) -> str:
    if not value.strip() or value != value.strip():
        raise argparse.ArgumentTypeError("the admin token is a non-empty string without spaces around it")
    return value


def build_parser() -> argparse.ArgumentParser:
    from emulator import __version__

    parser = argparse.ArgumentParser(
        prog="emulator", description="CDF Functions emulator", formatter_class=_HelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the emulator as an HTTP server",
        description="Run the emulator as an HTTP server (stop it with Ctrl-C).",
        formatter_class=_HelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    serve.add_argument("--port", type=_port, default=8700, help="0 picks a free port (printed)")
    serve.add_argument(
        "--project", default=DEFAULT_PROJECT, help="the project of the printed snippet and --demo"
    )
    serve.add_argument(
        "--clock",
        choices=("wall", "virtual", "system"),
        default="wall",
        help="wall: real elapsed time from --start; virtual: moves only when told "
        "(POST /_emulator/clock/advance); system: reads time.time()",
    )
    serve.add_argument(
        "--start",
        default=None,
        type=_start,
        help="where the clock starts, ISO 8601 or epoch ms (default: now, or the --state file's time)",
    )
    serve.add_argument("--demo", action="store_true", help="deploy the sample functions and one schedule")
    serve.add_argument(
        "--state",
        default=None,
        metavar="FILE",
        help="load state from FILE at start; keep it saved while running (within a second of each "
        "change) and at shutdown",
    )
    serve.add_argument(
        "--auth",
        choices=("any", "strict"),
        default="any",
        help="any: accept every request; strict: a Bearer token is required (401 without)",
    )
    serve.add_argument(
        "--token",
        action="append",
        default=[],
        type=_token,
        metavar="TOKEN=PROJECT[,PROJECT...]",
        help="with --auth strict: allow TOKEN on these projects only (403 elsewhere), or on every "
        "project with TOKEN=*; repeatable. Unknown tokens answer 401",
    )
    serve.add_argument(
        "--admin-token",
        default=None,
        type=_admin_token,
        help="with --auth strict: the token for /_emulator/ (admin API, state, dashboard); "
        "random and printed if not given",
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="also serve requests whose Host header is HOST (default: loopback names and the --host "
        "address only, against DNS rebinding); '*' allows any; repeatable",
    )
    serve.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="accept state-changing requests from web pages of ORIGIN (e.g. http://localhost:3000); "
        "repeatable",
    )
    serve.add_argument(
        "--call-mode",
        choices=("sync", "background"),
        default="sync",
        help="sync: a call has finished when POST .../call answers; background: it runs on afterwards",
    )
    serve.add_argument(
        "--requirements",
        choices=("check", "install", "ignore"),
        default="check",
        help="the build step of a deployment: check: requirements.txt must be met by this Python "
        "environment; install: build each function a virtual environment (uv or pip, cached) on its "
        "runtime's Python; ignore: do not read requirements.txt",
    )
    serve.add_argument(
        "--build-cache", default=None, metavar="DIR", help="where built environments are kept "
        "(default: $CDF_FUNCTIONS_EMULATOR_CACHE or ~/.cache/cognite-functions-emulator)"
    )  # fmt: skip
    serve.add_argument("--quiet", action="store_true", help="do not log each request")
    return parser


def deploy_demo(emu: Any, project: str) -> None:
    """The demo functions (package data in emulator/demo/) and an every-minute schedule of hello."""
    client = emu.client(project)
    hello = None
    with resources.as_file(resources.files("emulator") / "demo") as demo:
        for name in DEMO_FUNCTIONS:
            folder = demo / name
            if not folder.is_dir():  # a broken install: say so rather than serve an empty demo
                raise FileNotFoundError(f"the demo function {name} is not in {demo}: reinstall the package")
            fn = emu.deploy(folder=folder, external_id=name, name=name, project=project)
            hello = fn if name == "hello" else hello
    if hello is not None:
        from cognite.client.exceptions import CogniteAPIError

        try:
            client.functions.schedules.create(
                name="hello every minute",
                cron_expression="* * * * *",
                function_id=hello.id,
                data={"name": "schedule"},
            )
        except CogniteAPIError as exc:  # an emulator build without the schedules API
            print(f"note: demo schedule skipped ({exc.code}: {exc.message})", file=sys.stderr)


def port_in_use(host: str, port: int) -> bool:
    """Whether binding ``host:port`` fails because something listens there (checked before uvicorn
    starts, so that a busy port is one clear line rather than uvicorn's start-up log and a trace)."""
    if port == 0:
        return False
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError:
        return False  # an unknown host: let the server report it
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def serve(args: argparse.Namespace) -> int:
    from emulator import FunctionsEmulator
    from emulator.autosave import Autosaver, ChangeCounter
    from emulator.persistence import StateFileError, check_writable, load
    from emulator.server import EmulatorServer

    for option, given in (("--token", args.token), ("--admin-token", args.admin_token)):
        if given and args.auth != "strict":
            print(f"error: {option} needs --auth strict", file=sys.stderr)
            return 2
    if args.admin_token and any(token == args.admin_token for token, _ in args.token):
        print("error: the --admin-token must differ from every --token", file=sys.stderr)
        return 2
    emu = FunctionsEmulator(project=args.project, start=args.start, clock=args.clock, auth=args.auth,
                            call_mode=args.call_mode, admin_token=args.admin_token,
                            requirements=args.requirements, build_cache=args.build_cache)  # fmt: skip
    if port_in_use(args.host, args.port):
        print(f"error: port {args.port} on {args.host} is in use: pick another with --port, "
              "or --port 0 for a free one", file=sys.stderr)  # fmt: skip
        return 1
    for token, projects in args.token:
        if projects == ["*"]:
            emu.auth.allow(token)
        else:
            emu.auth.bind(token, projects)
    if args.state:
        try:
            check_writable(args.state)  # now, not at the first save an hour later
        except StateFileError as exc:
            print(f"error: --state: {exc}", file=sys.stderr)
            return 2
    if args.state and Path(args.state).exists():
        try:
            load(emu, args.state, restore_clock=args.start is None)
        except StateFileError as exc:
            print(f"error: {exc}", file=sys.stderr)
            print("The state file was left untouched. Move it away or pass another --state.", file=sys.stderr)
            return 2
    if args.demo and not emu.backend.store(args.project).functions:
        deploy_demo(emu, args.project)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    counter = ChangeCounter(emu.app)
    server = EmulatorServer(counter, emu.context, args.host, args.port, access_log=not args.quiet,
                            log_level="info", allow_hosts=args.allow_host,
                            allow_origins=args.allow_origin)  # fmt: skip
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    # SIGHUP: the terminal was closed. Save and exit like SIGTERM, never die with unsaved state.
    for signum in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None:
            signal.signal(signum, on_signal)

    def autosave_failed(exc: BaseException) -> None:
        print(f"error: could not save the state to {args.state}: {_reason(exc)} (retrying)", file=sys.stderr)

    autosaver = (
        Autosaver(emu.context, args.state, counter=counter, on_error=autosave_failed) if args.state else None
    )
    try:
        server.start()
    except RuntimeError as exc:
        print(f"error: {exc} (--port 0 picks a free port)", file=sys.stderr)
        return 1
    print(f"CDF Functions emulator listening on {server.base_url}", flush=True)
    print(f"  project: {args.project}   clock: {emu.clock.mode} ({emu.clock.now().isoformat()})", flush=True)
    print(
        f"  dashboard: {server.base_url}/_emulator/ui   admin: {server.base_url}/_emulator/clock", flush=True
    )
    if args.auth == "strict":
        if args.admin_token is None:  # generated: the only way to learn it
            print(
                f"  admin token (for /_emulator/, dashboard: ?token=...): {emu.auth.admin_token}", flush=True
            )
        else:
            print("  admin token: the one given with --admin-token", flush=True)
    print("Connect with:\n\n" + SNIPPET.format(project=args.project, base_url=server.base_url), flush=True)
    if autosaver is not None:
        autosaver.start()
    status = 0
    try:
        while not stop.wait(0.5):
            pass
    finally:
        print("Shutting down ...", flush=True)
        server.stop()
        if autosaver is not None:
            autosaver.stop()
            try:
                autosaver.save_now()
            except (OSError, TypeError, ValueError) as exc:
                print(f"error: could not save the state to {args.state}: {_reason(exc)}", file=sys.stderr)
                status = 1
            else:
                print(f"State saved to {args.state}", flush=True)
        emu.close()
    print("Emulator stopped.", flush=True)
    return status


def _reason(exc: BaseException) -> str:
    """An OSError as its plain reason ("No space left on device"), anything else as itself."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    parser.print_help()  # bare `emulator`: say what it can do rather than only that a command is missing
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
