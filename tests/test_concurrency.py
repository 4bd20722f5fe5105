"""Many threads at once, through both transports: no lost or duplicated calls, no deadlock."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from emulator import FunctionsEmulator

THREADS = 8
CALLS_PER_THREAD = 15


def handle(data, function_call_info):
    return {"n": data.get("n"), "call_id": function_call_info["call_id"]}


@pytest.mark.timeout(90)
@pytest.mark.parametrize("transport", ["in-process", "loopback"])
def test_calls_schedules_and_clock_at_once(transport: str) -> None:
    emu = FunctionsEmulator(start="2026-01-01T00:00:00Z")
    fn = emu.deploy(function_handle=handle, external_id="c")
    server = emu.serve() if transport == "loopback" else None
    make_client = server.client if server is not None else emu.client
    errors: list[BaseException] = []
    responses: list[int] = []
    schedule_ids: list[int] = []
    fired: list[int] = []
    lock = threading.Lock()

    def caller(worker: int) -> None:
        client = make_client()
        for i in range(CALLS_PER_THREAD):
            call = client.functions.call(id=fn.id, data={"n": worker * 1000 + i})
            assert call.status == "Completed", call.error
            with lock:
                responses.append(call.get_response()["n"])

    def scheduler(worker: int) -> None:
        client = make_client()
        for i in range(5):
            s = client.functions.schedules.create(
                name=f"w{worker}-{i}", cron_expression="*/30 * * * *", function_id=fn.id
            )
            with lock:
                schedule_ids.append(s.id)

    def traveller() -> None:
        for _ in range(40):
            calls = emu.clock.advance(minutes=30)
            with lock:
                fired.extend(c.id for c in calls)
            time.sleep(0.01)  # let the other threads interleave

    def guarded(target, *args) -> None:  # type: ignore[no-untyped-def]
        try:
            target(*args)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(caller, w)) for w in range(THREADS)]
    threads += [threading.Thread(target=guarded, args=(scheduler, w)) for w in range(2)]
    threads += [threading.Thread(target=guarded, args=(traveller,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=80)
    assert not any(t.is_alive() for t in threads), "deadlock: a thread did not finish"
    assert errors == []
    if server is not None:
        server.stop()

    expected = {w * 1000 + i for w in range(THREADS) for i in range(CALLS_PER_THREAD)}
    assert sorted(responses) == sorted(expected)  # none lost, none duplicated
    assert len(set(schedule_ids)) == 10
    all_calls = emu.client().functions.calls.list(function_id=fn.id, limit=-1)
    ids = [c.id for c in all_calls]
    assert len(ids) == len(set(ids))
    api_calls = [c for c in all_calls if c.schedule_id is None]
    scheduled = [c for c in all_calls if c.schedule_id is not None]
    assert len(api_calls) == THREADS * CALLS_PER_THREAD
    assert sorted(c.id for c in scheduled) == sorted(fired)
    assert all(c.status == "Completed" for c in all_calls)
    assert fired, "the clock fired no scheduled run"
    per_instant = Counter((c.schedule_id, c.scheduled_time) for c in scheduled)
    assert max(per_instant.values()) == 1  # no schedule fired twice for one instant
    emu.close()


DAYS = 20  # 28,800 runs of the base schedule: over a hundred batches, under max_calls_kept


@pytest.mark.timeout(120)
def test_schedules_made_and_deleted_while_a_long_advance_runs() -> None:
    """A long advance takes due runs from the queue in batches; schedules another thread creates
    and deletes meanwhile, and calls it lists meanwhile, never break the order, duplicate a run,
    fire a schedule before it existed, or lose a record."""
    emu = FunctionsEmulator(start="2026-01-01T00:00:00Z")
    fn = emu.deploy(function_handle=handle, external_id="q")
    client = emu.client()
    client.functions.schedules.create(name="base", cron_expression="* * * * *", function_id=fn.id)
    errors: list[BaseException] = []
    created: dict[int, int] = {}  # schedule id -> created time
    done = threading.Event()

    def churn() -> None:
        other = emu.client()
        try:
            i = 0
            while not done.is_set() and i < 60:  # at most 40 live: CDF's limit is 100 a function
                s = other.functions.schedules.create(
                    name=f"c{i}", cron_expression="*/7 * * * *", function_id=fn.id
                )
                created[s.id] = s.created_time
                if i % 3 == 2:
                    other.functions.schedules.delete(id=s.id)
                other.functions.calls.list(function_id=fn.id, limit=50)
                i += 1
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    worker = threading.Thread(target=churn)
    worker.start()
    while not created and worker.is_alive():  # the churn is under way before the clock moves
        time.sleep(0.001)
    try:
        calls = emu.clock.advance(days=DAYS)
    finally:
        done.set()
        worker.join(timeout=60)
    assert not worker.is_alive() and errors == []
    early = [c for c in calls if c.schedule_id in created and c.scheduled_time <= created[c.schedule_id]]
    assert not early, "a schedule fired at or before its creation"
    order = [(c.scheduled_time, c.schedule_id) for c in calls]
    assert order == sorted(order) and len(set(order)) == len(order)
    assert sum(1 for c in calls if c.schedule_id not in created) == DAYS * 1440  # the base schedule
    failed = [(c.status, c.error) for c in calls if c.status != "Completed"]
    assert not failed, failed[:3]
    assert len(created) > 3 and any(c.schedule_id in created for c in calls)
    listed = {c.id for c in client.functions.calls.list(function_id=fn.id, limit=-1)}
    assert {c.id for c in calls} <= listed
    emu.close()
