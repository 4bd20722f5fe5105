"""A call's output and what a thread cannot contain (issue 14): threads a handler starts write into
its logs, a handler's own logging formatter is kept, process-ending calls become Failed calls."""

from __future__ import annotations

import os
import signal
import sys
import threading
import types

import pytest
from cognite.client import CogniteClient

from emulator import FunctionsEmulator
from tests.test_functions import create_from_zip

THREADS = (
    "import logging, os, sys, threading, warnings\n"
    "def work():\n"
    "    print('printed by a thread of', os.environ['WHO'])\n"
    "    sys.stderr.write('stderr of the thread\\n')\n"
    "    warnings.warn('warned by a thread', UserWarning)\n"
    "    logging.getLogger('worker').warning('logged by a thread')\n"
    "def handle():\n"
    "    worker = threading.Thread(target=work)\n"
    "    worker.start()\n"
    "    worker.join()\n"
    "    print('the handler is done')\n"
    "    return 'ok'\n"
)


def test_threads_a_handler_starts_write_into_its_logs(
    emu: FunctionsEmulator, sdk: CogniteClient, capsys: pytest.CaptureFixture[str]
) -> None:
    fn = create_from_zip(sdk, {"handler.py": THREADS}, env_vars={"WHO": "the call"})
    call = fn.call()
    assert call.status == "Completed", call.error
    messages = [log.message for log in call.get_logs()]
    assert messages[:2] == ["printed by a thread of the call", "stderr of the thread"]
    assert any("UserWarning: warned by a thread" in m for m in messages), messages
    assert "WARNING:worker:logged by a thread" in messages
    assert messages[-1] == "the handler is done"
    out, err = capsys.readouterr()
    assert "by a thread" not in out + err and "the handler is done" not in out + err


OWN_FORMATTER = (
    "import logging, sys\n"
    "logger = logging.getLogger(__name__)  # private to this function version (docs/calls.md)\n"
    "console = logging.StreamHandler(sys.stdout)  # made at import, as most handlers do\n"
    "console.setFormatter(logging.Formatter('MINE %(levelname)s %(message)s'))\n"
    "logger.addHandler(console)\n"
    "logger.setLevel(logging.INFO)\n"
    "logger.propagate = True\n"
    "def handle():\n"
    "    logger.info('hello')\n"
    "    later = logging.getLogger(__name__ + '.later')\n"
    "    if not later.handlers:\n"
    "        made = logging.StreamHandler()  # made inside handle(): stderr\n"
    "        made.setFormatter(logging.Formatter('LATER|%(message)s'))\n"
    "        later.addHandler(made)\n"
    "    later.error('boom')\n"
    "    return 'ok'\n"
)


def test_a_handlers_own_logging_formatter_is_kept(
    emu: FunctionsEmulator, sdk: CogniteClient, capsys: pytest.CaptureFixture[str]
) -> None:
    fn = create_from_zip(sdk, {"handler.py": OWN_FORMATTER})
    for _ in range(2):
        call = fn.call()
        assert call.status == "Completed", call.error
        assert [log.message for log in call.get_logs()] == [
            "MINE INFO hello",
            "LATER|boom",
            "MINE ERROR boom",  # 'later' is a child of the module's logger, as in any Python program
        ]
    out, err = capsys.readouterr()
    assert "hello" not in out + err and "boom" not in out + err


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("os._exit(3)", "Function called os._exit(3): not allowed, it would end the test process"),
        ("os.fork()", "Function called os.fork(): not allowed, it would copy the test process"),
    ],
    ids=["os._exit", "os.fork"],
)
def test_what_would_harm_the_test_process_is_a_failed_call(
    body: str, message: str, emu: FunctionsEmulator, sdk: CogniteClient
) -> None:
    source = (
        "import os, signal\n"
        "def handle():\n"
        "    try:\n"
        f"        {body}\n"
        "    except Exception:  # does not swallow it\n"
        "        return 'swallowed'\n"
        "    return 'went on'\n"
    )
    fn = create_from_zip(sdk, {"handler.py": source})
    call = fn.call()
    assert call.status == "Failed" and call.error["message"].startswith(message), call.error
    assert "isolation='process'" in call.error["message"]
    assert os._exit.__module__ == "posix" and os.fork.__module__ == "posix"  # put back after the call


SIGNALS = (
    "import asyncio, signal\n"
    "async def work():\n"
    "    return 'async ran'\n"
    "def handle(data):\n"
    "    if data.get('signal'):\n"
    "        signal.signal(signal.SIGUSR1, signal.SIG_IGN)\n"
    "    return asyncio.run(work())  # asyncio.run sets a SIGINT handler only where it may\n"
)


def test_signal_signal_is_a_failed_call_and_asyncio_run_works(
    emu: FunctionsEmulator, sdk: CogniteClient
) -> None:
    fn = create_from_zip(sdk, {"handler.py": SIGNALS})
    assert fn.call(data={}).get_response() == "async ran"
    call = fn.call(data={"signal": True})
    assert call.status == "Failed"
    assert call.error["message"].startswith("Function called signal.signal(<Signals.SIGUSR1: 10>")


def test_signal_handlers_of_the_test_stay_during_scheduled_runs(
    emu: FunctionsEmulator, sdk: CogniteClient
) -> None:
    # Scheduled runs run inline in the thread that moves the clock: here the main thread, where
    # signal.signal would really replace the test's handler.
    before, before_int = signal.getsignal(signal.SIGUSR1), signal.getsignal(signal.SIGINT)
    fn = create_from_zip(sdk, {"handler.py": SIGNALS})
    for data in ({}, {"signal": True}):
        sdk.functions.schedules.create(name="s", cron_expression="* * * * *", function_id=fn.id, data=data)
    runs = emu.clock.advance(minutes=1)
    assert sorted(run.status for run in runs) == ["Completed", "Failed"]
    assert any("signal.signal" in (run.error or {}).get("message", "") for run in runs)
    assert signal.getsignal(signal.SIGINT) is before_int  # asyncio.run put back what it replaced
    assert signal.getsignal(signal.SIGUSR1) == before


REPLACER = "import io, sys\ndef handle():\n    sys.stdout = io.StringIO()\n    print('into the void')\n    return 'ok'\n"


def test_a_handler_that_replaces_sys_stdout_gets_it_put_back(
    emu: FunctionsEmulator, sdk: CogniteClient
) -> None:
    before = sys.stdout
    fn = create_from_zip(sdk, {"handler.py": REPLACER})
    call = fn.call()
    assert call.status == "Completed"
    assert any("replaced sys.stdout" in log.message for log in call.get_logs())
    assert sys.stdout is before
    again = create_from_zip(sdk, {"handler.py": "def handle():\n    print('seen')\n"}, name="again").call()
    assert [log.message for log in again.get_logs()] == ["seen"]


OUTLIVER = (
    "import os, threading\n"
    "import emulator_test_later as later\n"
    "def linger():\n"
    "    later.go.wait(30)\n"
    "    later.seen.append(os.environ.get('WHO'))\n"
    "    print('printed after the call ended')\n"
    "    later.done.set()\n"
    "def handle():\n"
    "    threading.Thread(target=linger, daemon=True).start()\n"
    "    return 'ok'\n"
)


def test_a_thread_that_outlives_its_call_lets_go_of_it(
    emu: FunctionsEmulator, sdk: CogniteClient, capsys: pytest.CaptureFixture[str]
) -> None:
    later = types.ModuleType("emulator_test_later")
    later.go, later.done, later.seen = threading.Event(), threading.Event(), []  # type: ignore[attr-defined]
    sys.modules[later.__name__] = later
    try:
        fn = create_from_zip(sdk, {"handler.py": OUTLIVER}, env_vars={"WHO": "the call"})
        call = fn.call()
        assert call.status == "Completed"
        later.go.set()  # type: ignore[attr-defined]
        assert later.done.wait(30)  # type: ignore[attr-defined]
        assert later.seen == [None]  # type: ignore[attr-defined]  # the call's envVars are gone with it
        assert "printed after the call ended" in capsys.readouterr().out  # an ordinary thread now
        assert all("after" not in log.message for log in call.get_logs())
    finally:
        later.go.set()  # type: ignore[attr-defined]
        sys.modules.pop(later.__name__, None)
