"""Background loops stop when told to, although a cancellation can be lost (``handoff.background``)."""

import asyncio
import logging

import pytest
from async_timeout import timeout as async_timeout

from handoff import AuditLog
from handoff.background import stop_tasks
from handoff.incidents import IncidentLog, verify_periodically


async def loop_whose_first_cancellation_is_lost(rounds: list[int]) -> None:
    """Loops until cancelled, as the audit verifier does; its first wait is redis-py's connection check, a zero
    ``async_timeout`` (``can_read_destructive``), and it is cancelled inside it."""
    try:
        async with async_timeout(0):
            await asyncio.sleep(1)
    except asyncio.TimeoutError:
        pass  # redis-py: "nothing to read on this connection"
    while True:
        rounds.append(len(rounds))
        await asyncio.sleep(0.01)


async def test_a_cancellation_lost_in_redis_pys_connection_check_does_not_keep_a_loop_running() -> None:
    rounds: list[int] = []
    task = asyncio.ensure_future(loop_whose_first_cancellation_is_lost(rounds))
    await asyncio.sleep(0)  # the task is inside its zero timeout
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=0.3)
    assert not done and rounds, "the one cancellation was lost: the loop runs on"  # what hung a test run for 90 min
    await asyncio.wait_for(stop_tasks(task), 10)
    assert task.cancelled()


async def test_the_audit_verifier_stops_every_time_on_a_busy_redis(audit: AuditLog, incidents: IncidentLog) -> None:
    await audit.record("amy", "claim", "patient-1", "10.1.2.3")
    for _ in range(20):
        verifier = asyncio.ensure_future(verify_periodically(audit, incidents, 0))
        await asyncio.sleep(0.02)  # in the middle of its Redis reads
        await asyncio.wait_for(stop_tasks(verifier), 10)
        assert verifier.done()


async def test_none_is_skipped_and_what_a_task_raised_on_its_way_out_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fails_when_cancelled() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            raise RuntimeError("cleanup failed") from None

    task = asyncio.ensure_future(fails_when_cancelled())
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger="handoff.background"):
        await stop_tasks(None, task)
    assert task.done() and isinstance(task.exception(), RuntimeError)
    assert "background.task_failed_on_stop" in caplog.text and "cleanup failed" in caplog.text
