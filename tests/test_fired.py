"""What a clock move answers (emulator/fired.py): the newest calls, in order, each bound to its
project's client, however the hot loop handed them over (a batch of one project at a time)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import FunctionsEmulator
from emulator.fired import FiredLog
from emulator.state import CallRecord

START_MS = 1767225600000  # 2026-01-01T00:00:00Z
MINUTE = 60_000


def test_a_move_over_two_projects_binds_each_call_to_its_project(emu: FunctionsEmulator) -> None:
    def handle(data):
        return {"site": data["site"]}

    for project in ("north", "south"):
        client = emu.client(project)
        fn = client.functions.create(name=f"fn-{project}", function_handle=handle)
        client.functions.schedules.create(
            name=project, cron_expression="* * * * *", function_id=fn.id, data={"site": project}
        )
    calls = emu.clock.advance(minutes=3)
    assert len(calls) == 6
    assert [(c.scheduled_time - START_MS) // MINUTE for c in calls] == [1, 1, 2, 2, 3, 3]
    # Each call answers through the client of its own project: in the other one it does not exist.
    sites = [c.get_response()["site"] for c in calls]
    assert sorted(sites) == ["north", "north", "north", "south", "south", "south"]
    for call, site in zip(calls, sites, strict=True):
        assert emu.client(site).functions.calls.retrieve(call_id=call.id, function_id=call.function_id)


def _record(n: int) -> CallRecord:
    return CallRecord.of(id=n, function_id=1, status="Completed", start_time=n)


@settings(max_examples=300, deadline=None)
@given(
    maxlen=st.one_of(st.none(), st.integers(1, 12)),
    sizes=st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 6)), max_size=12),
)
def test_the_log_keeps_the_newest_calls_of_any_chunks(
    maxlen: int | None, sizes: list[tuple[str, int]]
) -> None:
    log, made, n = FiredLog(maxlen), [], 0
    for project, size in sizes:
        chunk = [_record(n + i) for i in range(size)]
        n += size
        if size == 1 and project == "b":
            log.append((project, chunk[0]))  # the general path's one call
        else:
            log.add(project, chunk)
        made.extend((project, r) for r in chunk)
    kept = made if maxlen is None else made[-maxlen:] if maxlen else []
    newest = [(project, r) for project, records in log.newest() for r in records]
    assert newest == kept
    assert log.total == len(made)
