"""Stopping background tasks when a cancellation can be lost.

redis-py 4.6 (the version Rasa 3.6 pins) checks each pooled connection inside ``async_timeout(0)``. If a task is
cancelled while that zero timeout fires, ``async_timeout`` (Python 3.10 has no ``Task.uncancel``) turns the
cancellation into a ``TimeoutError``, which redis-py takes for "nothing to read". The task goes on as if it had never
been cancelled. A loop that runs until cancelled (the audit verifier, the reaper, the crisis spool's replay) then runs
for ever, and whoever waits for it waits for ever: one test run hung for 90 minutes in its final teardown with the
audit verifier still running. ``stop_tasks`` cancels again until the tasks have ended.
"""

import asyncio
import logging
from typing import Any, Optional

logger = logging.getLogger(__name__)

RECANCEL_SECONDS = 0.1


async def stop_tasks(*tasks: Optional["asyncio.Future[Any]"]) -> None:
    """Cancels the tasks (None is skipped) and returns once every one has ended; a task still running
    ``RECANCEL_SECONDS`` after its cancellation is cancelled again. What a task raised on its way out is logged."""
    running = {task for task in tasks if task is not None}
    while running:
        for task in running:
            task.cancel()
        done, running = await asyncio.wait(running, timeout=RECANCEL_SECONDS)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                logger.error("background.task_failed_on_stop", exc_info=task.exception())
