"""The hot path of time travel (emulator/execution/scheduled.py, inline.py, schedule_queue.py):
what it skips per run must never show. Each test reads the calls back through the real SDK.

- the cron evaluator agrees with croniter (CDF's schedules are UTC: no DST) over many expressions
  and instants;
- a reused, untouched log never leaks lines into another call, and a call that wrote stays whole;
- each run gets its own ``data`` (flat data copied, nested data parsed), whatever an earlier run did;
- two functions alternating keep their own environment; the test's environment is untouched;
- ties, deleted schedules and failures keep their order and records.
"""

from __future__ import annotations

import os
import sys
import threading
import types
from datetime import datetime, timezone
from typing import Any

import pytest
from cognite.client import CogniteClient
from hypothesis import example, given, settings
from hypothesis import strategies as st

import emulator.cron as cron
import emulator.execution.scheduled as scheduled
from emulator import FunctionsEmulator
from emulator.execution.data_copies import DataCopies
from emulator.execution.outcomes import returned_outcome
from emulator.ids import IdGenerator
from emulator.schedule_queue import ScheduleQueue

UTC = timezone.utc  # datetime.UTC is new in Python 3.11
START_MS = 1767225600000  # 2026-01-01T00:00:00Z
MINUTE = 60_000

croniter = pytest.importorskip("croniter").croniter


# --- cron next times vs croniter --------------------------------------------------------------


def _field(low: int, high: int) -> st.SearchStrategy[str]:
    value = st.integers(low, high)
    # Steps from 1 and full ranges: "*/1" or "0-6" in a day field is no restriction when the other
    # day field holds a "*" (croniter's reading, which the emulator follows).
    step = st.integers(1, max(2, high - low))
    full = st.just(f"{low}-{high}")
    single = value.map(str)
    stepped = step.map(lambda s: f"*/{s}")
    # Ranges a-b with a < b: croniter reads a one-value range "a-a" as "*" (every value), where
    # Vixie cron, cronsim and the emulator read it as "a"; the emulator keeps that reading.
    pair = st.tuples(value, value).filter(lambda ab: ab[0] != ab[1]).map(lambda ab: (min(ab), max(ab)))
    ranged = pair.map(lambda ab: f"{ab[0]}-{ab[1]}")
    ranged_step = st.tuples(pair, step).map(lambda p: f"{p[0][0]}-{p[0][1]}/{p[1]}")
    listed = st.lists(value, min_size=2, max_size=4, unique=True).map(lambda vs: ",".join(map(str, vs)))
    return st.one_of(st.just("*"), full, single, stepped, ranged, ranged_step, listed)


EXPRESSIONS = st.tuples(_field(0, 59), _field(0, 23), _field(1, 31), _field(1, 12), _field(0, 7)).map(
    " ".join
)
INSTANTS = st.integers(946_684_800_000, 2_208_988_800_000)  # 2000 .. 2040, any millisecond


@settings(max_examples=400, deadline=None)
@given(EXPRESSIONS, INSTANTS)
@example("0 0 */2 * 0-6", 946_684_800_000)  # a weekday range naming every day is no restriction
@example("0 0 1-31 * 1", 946_684_800_000)
def test_next_run_times_agree_with_croniter(expression: str, after_ms: int) -> None:
    ours = cron.parse(expression).iter_after(after_ms)
    reference = croniter(expression, datetime.fromtimestamp(after_ms / 1000, UTC))
    for _ in range(5):
        try:
            expected = int(reference.get_next(float) * 1000)
        except Exception:  # croniter gives up on dates that never come (e.g. 31 February)
            return
        assert next(ours, None) == expected, expression


@pytest.mark.parametrize(
    "expression",
    ["* * * * *", "*/15 * * * *", "0 * * * *", "0 0 * * *", "30 2 * * 1-5", "0 0 1 * *", "0 0 29 2 *",
     "59 23 31 * *", "0 12 * * 0", "0 12 * * 7", "*/7 3-9/2 1,15 */2 *", "5 4 13 * 5"],
)  # fmt: skip
def test_common_expressions_agree_with_croniter_for_a_hundred_runs(expression: str) -> None:
    ours = cron.parse(expression).iter_after(START_MS)
    reference = croniter(expression, datetime.fromtimestamp(START_MS / 1000, UTC))
    assert [next(ours) for _ in range(100)] == [int(reference.get_next(float) * 1000) for _ in range(100)]


# --- fresh data --------------------------------------------------------------------------------


def test_data_copies_are_equal_and_independent() -> None:
    copies = DataCopies()
    for text in ('{"n": 1, "s": "x", "f": 1.5, "b": true, "z": null}', '{"nested": {"a": [1, 2]}}', "{}"):
        first, second = copies.fresh(text), copies.fresh(text)
        assert first == second and first is not second
        first.clear()
        assert copies.fresh(text) == second


def test_each_run_gets_its_own_data(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    def handle(data):
        import copy

        seen = copy.deepcopy(data)
        data["n"] = data["n"] + 100  # a run that mutates its data
        if "nested" in data:
            data["nested"]["list"].append("mutated")
        return seen

    fid = emu.deploy(function_handle=handle).id
    any_client.functions.schedules.create(
        name="flat", cron_expression="* * * * *", function_id=fid, data={"n": 1}
    )
    any_client.functions.schedules.create(
        name="nested", cron_expression="* * * * *", function_id=fid, data={"n": 2, "nested": {"list": [1]}}
    )
    calls = emu.clock.advance(minutes=3)
    responses = [any_client.functions.calls.get_response(call_id=c.id, function_id=fid) for c in calls]
    assert responses == [{"n": 1}, {"n": 2, "nested": {"list": [1]}}] * 3


# --- logs --------------------------------------------------------------------------------------


def test_a_quiet_run_between_loud_ones_has_no_logs(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    def handle(function_call_info):
        minute = (function_call_info["scheduled_time"] - 1767225600000) // 60000
        if minute % 3 == 0:
            print("loud", minute)
        elif minute % 3 == 1:
            print("partial line", minute, end="")  # no newline: kept as a pending piece
        return None

    fid = emu.deploy(function_handle=handle).id
    any_client.functions.schedules.create(name="m", cron_expression="* * * * *", function_id=fid)
    calls = emu.clock.advance(minutes=9)
    logs = [
        [e.message for e in any_client.functions.calls.get_logs(call_id=c.id, function_id=fid)] for c in calls
    ]
    expected = []
    for minute in range(1, 10):
        expected.append(
            [f"loud {minute}"] if minute % 3 == 0 else [f"partial line {minute}"] if minute % 3 == 1 else []
        )
    assert logs == expected
    assert all(c.status == "Completed" for c in calls)


def test_a_run_that_replaces_stdout_is_told_and_the_next_quiet_run_is_clean(
    emu: FunctionsEmulator, any_client: CogniteClient
) -> None:
    """The hot loop's quiet test also checks that ``sys.stdout`` is still the capture's: a run that
    replaced it (returning None, writing nothing the capture saw) gets the emulator's note in its
    log, the proxy is put back, and the quiet runs around it have no logs."""

    def handle(function_call_info):
        import io
        import sys

        minute = (function_call_info["scheduled_time"] - 1767225600000) // 60000
        if minute == 2:
            sys.stdout = io.StringIO()
        print("unseen" if minute == 2 else "", end="")
        return None

    before = sys.stdout
    fid = emu.deploy(function_handle=handle).id
    any_client.functions.schedules.create(name="m", cron_expression="* * * * *", function_id=fid)
    calls = emu.clock.advance(minutes=4)
    logs = [
        [e.message for e in any_client.functions.calls.get_logs(call_id=c.id, function_id=fid)] for c in calls
    ]
    assert [len(lines) for lines in logs] == [0, 1, 0, 0]
    assert "replaced sys.stdout" in logs[1][0]
    assert sys.stdout is before and all(c.status == "Completed" for c in calls)


@pytest.mark.parametrize("batch", [256, 1])
@pytest.mark.parametrize("act", ["delete the function", "revoke the session"])
def test_what_a_handler_does_mid_move_reaches_the_quiet_runs_after_it(
    emu: FunctionsEmulator, client: CogniteClient, act: str, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hot loop looks a schedule's function and session up once per move; a handler that
    deletes that function, or revokes that session, mid-move still stops (or fails) its later runs,
    also when its run is the last of a batch of runs taken from the queue (batches of one)."""
    monkeypatch.setattr(scheduled, "_BATCH", batch)

    def handle():
        return None

    quiet = emu.deploy(function_handle=handle, external_id="quiet").id
    made = client.functions.schedules.create(name="q", cron_expression="* * * * *", function_id=quiet)

    def handle(client, data):  # type: ignore[no-redef]  # the deployed name
        if data["act"] == "delete the function":
            client.functions.delete(id=data["quiet"])
        else:
            client.iam.sessions.revoke(data["session"])

    acting = emu.deploy(function_handle=handle, external_id="acting").id
    client.functions.schedules.create(
        name="k",
        cron_expression="30 0 * * *",
        function_id=acting,
        data={"act": act, "quiet": quiet, "session": made.session_id},
    )
    calls = emu.clock.advance(hours=1)
    minutes = [((c.scheduled_time - START_MS) // MINUTE, c.status) for c in calls if c.function_id == quiet]
    done = [m for m, status in minutes if status == "Completed"]
    assert done == list(range(1, len(done) + 1)) and len(done) in (29, 30)
    if act == "delete the function":
        assert len(minutes) == len(done)
    else:
        failed = [m for m, status in minutes if status == "Failed"]
        assert failed == list(range(len(done) + 1, 61))


def test_a_thread_a_quiet_run_started_never_writes_into_a_later_run(
    emu: FunctionsEmulator, any_client: CogniteClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # Quiet runs keep one call open in the log capture for the next run; a run that started a
    # thread ends its call, so the thread, printing while a later run runs, is no run's output.
    box = types.ModuleType("emulator_test_quiet_thread")
    box.go, box.done = threading.Event(), threading.Event()  # type: ignore[attr-defined]
    sys.modules[box.__name__] = box

    def handle(function_call_info):
        import sys
        import threading

        box = sys.modules["emulator_test_quiet_thread"]
        minute = (function_call_info["scheduled_time"] - 1767225600000) // 60000
        if minute == 1:

            def later():
                box.go.wait(30)
                print("printed by the thread of minute 1")
                box.done.set()

            threading.Thread(target=later, daemon=True).start()
        if minute == 3:
            box.go.set()
            box.done.wait(30)

    try:
        fid = emu.deploy(function_handle=handle).id
        any_client.functions.schedules.create(name="m", cron_expression="* * * * *", function_id=fid)
        calls = emu.clock.advance(minutes=4)
        assert [c.status for c in calls] == ["Completed"] * 4
        assert box.done.is_set()  # type: ignore[attr-defined]
        for call in calls:
            assert any_client.functions.calls.get_logs(call_id=call.id, function_id=fid).dump() == []
        print("printed by the test after the move")
        out = capsys.readouterr().out
        assert "printed by the thread of minute 1" in out and "printed by the test after the move" in out
    finally:
        del sys.modules[box.__name__]


def test_quiet_runs_keep_their_data_and_wall_time(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    # The fast path's no-outcome close still records what the dashboard shows: the input data (the
    # schedule's own JSON) and the handler's real wall time.
    def handle(data):
        sum(range(100_000))  # some real work, so that the wall time is above zero

    fn = emu.deploy(function_handle=handle)
    any_client.functions.schedules.create(
        name="m", cron_expression="* * * * *", function_id=fn.id, data={"site": "oslo"}
    )
    calls = emu.clock.advance(minutes=3)
    assert [c.status for c in calls] == ["Completed"] * 3
    dumped = {c["id"]: c for c in emu.state()["projects"][emu.project]["calls"]}
    for call in calls:
        assert dumped[call.id]["data_json"] == '{"site": "oslo"}'
        assert isinstance(dumped[call.id]["wall_ms"], float) and dumped[call.id]["wall_ms"] > 0


def test_failures_and_responses_between_quiet_runs(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    def handle(function_call_info):
        minute = (function_call_info["scheduled_time"] - 1767225600000) // 60000
        if minute == 2:
            raise ValueError("minute two")
        return {"minute": minute} if minute == 3 else None

    fid = emu.deploy(function_handle=handle).id
    any_client.functions.schedules.create(name="m", cron_expression="* * * * *", function_id=fid)
    calls = emu.clock.advance(minutes=4)
    assert [c.status for c in calls] == ["Completed", "Failed", "Completed", "Completed"]
    assert "minute two" in calls[1].error["message"]
    for call in calls:
        fetched = any_client.functions.calls.retrieve(call_id=call.id, function_id=fid)
        assert fetched.start_time == fetched.end_time == fetched.scheduled_time
    responses = [any_client.functions.calls.get_response(call_id=c.id, function_id=fid) for c in calls]
    assert responses[0] is None and responses[2] == {"minute": 3} and responses[3] is None


# --- environment, order -----------------------------------------------------------------------


def test_two_functions_alternating_keep_their_environment(
    emu: FunctionsEmulator, any_client: CogniteClient
) -> None:
    def handle():
        import os

        seen = os.environ.get("WHO"), os.environ.get("SET_BY_A")
        if os.environ.get("WHO") == "a":
            os.environ["SET_BY_A"] = "yes"
        return list(seen)

    a = emu.deploy(function_handle=handle, env_vars={"WHO": "a"}).id
    b = emu.deploy(function_handle=handle, env_vars={"WHO": "b"}).id
    for fid in (a, b):
        any_client.functions.schedules.create(name="m", cron_expression="* * * * *", function_id=fid)
    calls = emu.clock.advance(minutes=2)
    got = [
        (c.function_id, any_client.functions.calls.get_response(call_id=c.id, function_id=c.function_id))
        for c in calls
    ]
    assert got == [(a, ["a", None]), (b, ["b", None]), (a, ["a", "yes"]), (b, ["b", None])]
    assert "SET_BY_A" not in os.environ and os.environ.get("WHO") is None


def test_many_schedules_at_one_instant_fire_in_id_order(
    emu: FunctionsEmulator, any_client: CogniteClient
) -> None:
    def handle(function_call_info):
        return None

    fids = [emu.deploy(function_handle=handle).id for _ in range(3)]
    made = [
        any_client.functions.schedules.create(
            name=f"s{i}", cron_expression="0 * * * *", function_id=fids[i % 3]
        )
        for i in range(12)
    ]
    any_client.functions.schedules.delete(id=made[5].id)
    calls = emu.clock.advance(hours=2)
    ids = sorted(s.id for s in made if s.id != made[5].id)
    assert [c.schedule_id for c in calls] == ids + ids
    assert [c.scheduled_time for c in calls] == [START_MS + 3_600_000] * 11 + [START_MS + 7_200_000] * 11
    assert len({c.id for c in calls}) == 22


# --- the calendar queue vs a plain model ------------------------------------------------------

# A schedule's run times: any, or one of a few shared ones (schedules with the same times and key
# share a cohort in the queue).
TIMES = st.one_of(
    st.lists(st.integers(0, 40), min_size=0, max_size=6),
    st.sampled_from([[1, 2, 3, 10], [2, 4, 6, 8], [5], [0, 20, 40]]),
)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), TIMES),
        st.tuples(st.just("remove"), st.integers(0, 30)),
        st.tuples(st.just("pop"), st.integers(0, 60)),
    ),
    max_size=80,
)


TAKE_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), TIMES),
        st.tuples(st.just("remove"), st.integers(0, 30)),
        # take up to `limit` runs due by `until`, then give back all but the first `made`
        st.tuples(st.just("take"), st.tuples(st.integers(0, 60), st.integers(1, 8), st.integers(0, 8))),
    ),
    max_size=60,
)


class _QueueModel:
    """A ScheduleQueue beside a plain model of it (schedule id -> its future times), driven by the
    same adds and removes; the tests compare what each gives."""

    def __init__(self) -> None:
        self.queue = ScheduleQueue()
        self.times: dict[int, list[int]] = {}
        self.made = 0

    def step(self, op: str, arg: Any) -> bool:
        """Apply an add or a remove to both; False for any other op (the test's own)."""
        if op == "add":
            self.made += 1
            sid, times = 1000 + self.made * 7 % 31 * 100 + self.made, sorted(set(arg))
            # The model keeps its own copy; every other schedule is keyed by its times, so that
            # schedules with the same times share a cohort.
            key = tuple(times) if self.made % 2 else None
            self.queue.add("p", sid, iter(list(times)), key)
            if times:
                self.times[sid] = times
            return True
        if op == "remove":
            ids = sorted(self.times)
            if ids:
                sid = ids[arg % len(ids)]
                self.queue.remove(sid)
                del self.times[sid]
            return True
        return False

    def ran(self, due: int, sid: int) -> None:
        self.times[sid].remove(due)
        if not self.times[sid]:
            del self.times[sid]

    def check_next(self) -> None:
        nxt = min((times[0] for times in self.times.values()), default=None)
        assert self.queue.next_due_ms() == nxt


@settings(max_examples=300, deadline=None)
@given(TAKE_OPS)
def test_schedule_queue_takes_and_gives_back_what_a_sorted_model_pops(
    ops: list[tuple[str, Any]],
) -> None:
    """``take_due`` gives the runs repeated pops would, in order; runs given back with
    ``put_back`` (a taker stopped early) come again, in order, as if never taken."""
    both = _QueueModel()
    for op, arg in ops:
        if not both.step(op, arg):
            until, limit, made = arg
            expected = sorted((t, sid) for sid, times in both.times.items() for t in times if t <= until)
            got = both.queue.take_due(until, limit)
            assert [g[:2] for g in got] == expected[:limit]
            both.queue.put_back(got[made:])
            for due, sid, _ in got[:made]:
                both.ran(due, sid)
        both.check_next()


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_schedule_queue_pops_what_a_sorted_model_pops(ops: list[tuple[str, Any]]) -> None:
    """Adds (times in increasing order), removes and pops in any interleaving, the queue pops the
    earliest (time, schedule id) due at each step, as a plain sorted model does."""
    both = _QueueModel()
    for op, arg in ops:
        if not both.step(op, arg):
            due = [(times[0], sid) for sid, times in both.times.items() if times[0] <= arg]
            expected = min(due) if due else None
            got = both.queue.pop_due(arg)
            assert (got[:2] if got else None) == expected
            if expected is not None:
                both.ran(*expected)
        both.check_next()


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**20), st.lists(st.integers(0, 300), max_size=5))
def test_ids_taken_in_a_batch_are_the_ids_new_gives(seed: int, sizes: list[int]) -> None:
    """A batch of scheduled runs takes its call ids at once: the same ids, in the same order, as
    one ``new`` per run (unique, in CDF's range), and the generator goes on from there."""
    one_by_one, batched = IdGenerator(seed), IdGenerator(seed)
    for size in sizes:
        assert batched.take(size) == [one_by_one.new() for _ in range(size)]
        assert batched.issued == one_by_one.issued
    assert batched.new() == one_by_one.new()


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.integers(-(2**300), 2**300),
)  # fmt: skip
RESPONSES = st.one_of(
    SCALARS,
    st.dictionaries(st.text(max_size=10), SCALARS, max_size=70),
    st.dictionaries(st.one_of(st.integers(), st.booleans()), SCALARS, max_size=3),  # keys JSON rewrites
    st.lists(SCALARS, max_size=5),
    st.dictionaries(st.text(max_size=3), st.lists(SCALARS, max_size=2), max_size=3),
)


@settings(max_examples=400, deadline=None)
@given(RESPONSES, st.sampled_from([40, 1000, 1 << 20]))
def test_a_response_is_what_a_json_round_trip_gives(result: Any, limit: int) -> None:
    """Small flat responses skip the JSON round trip (execution/outcomes.py); whichever way it is
    taken, a response is exactly ``json.loads(json.dumps(result))``, never the handler's own object,
    and Failed when that is not JSON (NaN, infinities) or over the size limit."""
    import json

    outcome = returned_outcome(result, [], limit)
    try:
        encoded = json.dumps(result, allow_nan=False)
    except ValueError:
        assert outcome.status == "Failed" and "not JSON serializable" in outcome.error["message"]
        return
    if len(encoded.encode()) > limit:
        assert outcome.status == "Failed" and "over the limit" in outcome.error["message"]
        return
    assert outcome.status == "Completed" and outcome.has_response
    expected = json.loads(encoded)
    assert outcome.response == expected and type(outcome.response) is type(expected)
    if isinstance(result, (dict, list)):
        assert outcome.response is not result
