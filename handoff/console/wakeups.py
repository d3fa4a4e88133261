"""When the console's event sockets look again: one blocking read of the console changes stream
(``handoff.console_changes``) per console process, shared by all its sockets, wakes them all as soon as a change
an agent could care about is stored.

A wake-up only says *look now*: each socket's round still diffs the state against what it told
(``handoff.console.events.Seen``), so a burst of markers read at once wakes a socket once, and a wake-up lost (the
stream trimmed, the reader's connection dropped by a restart or a Sentinel failover) costs latency until the
socket's slow safety round, never a change told. The reader survives a lost connection: it logs, waits a little
longer each time (up to ``RETRY_MOST_SECONDS``), reads from the newest marker again and wakes every socket once,
since something may have changed while it was away.
"""

import asyncio
import logging
from typing import Optional

from aiohttp import web
from redis.exceptions import RedisError

from handoff.background import stop_tasks
from handoff.console_changes import ConsoleChanges

logger = logging.getLogger(__name__)

READ_BLOCK_MS = 10_000
"""How long one blocking read waits before it asks again."""
RETRY_FIRST_SECONDS = 0.2
RETRY_MOST_SECONDS = 5.0


class ConsoleWakeups:
    """The process's reader of the console changes stream and the wake-ups of its sockets."""

    def __init__(self, changes: ConsoleChanges, block_ms: int = READ_BLOCK_MS) -> None:
        self.changes = changes
        self.block_ms = block_ms
        self.listeners: set[asyncio.Event] = set()
        self.reconnects = 0
        """How many times the reader started reading again after a failure."""
        self._task: Optional[asyncio.Task[None]] = None

    def listen(self) -> asyncio.Event:
        """A socket's wake-up: set when markers arrive; the socket clears it before each round."""
        wakeup = asyncio.Event()
        self.listeners.add(wakeup)
        return wakeup

    def forget(self, wakeup: asyncio.Event) -> None:
        self.listeners.discard(wakeup)

    def wake(self) -> None:
        for wakeup in self.listeners:
            wakeup.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._read())

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_tasks(task)

    async def _read(self) -> None:
        after: Optional[str] = None
        failures = 0
        while True:
            try:
                if after is None:
                    after = await self.changes.latest()
                    if failures:
                        self.reconnects += 1
                        self.wake()
                    failures = 0
                after, read = await self.changes.wait(after, self.block_ms)
            except (RedisError, OSError) as error:
                failures += 1
                after = None
                delay = min(RETRY_MOST_SECONDS, RETRY_FIRST_SECONDS * 2 ** (failures - 1))
                logger.warning("console.wakeups.read_failed %s; reading again in %.1f s (slow rounds meanwhile)",
                               type(error).__name__, delay)
                await asyncio.sleep(delay)
                continue
            if read:
                self.wake()


WAKEUPS_KEY: web.AppKey[ConsoleWakeups] = web.AppKey("event-wakeups", ConsoleWakeups)


def add_wakeups(app: web.Application, changes: ConsoleChanges) -> None:
    """The reader, started with the app and stopped on shutdown (after the sockets were closed)."""
    app[WAKEUPS_KEY] = ConsoleWakeups(changes)

    async def start(app: web.Application) -> None:
        app[WAKEUPS_KEY].start()

    async def stop(app: web.Application) -> None:
        await app[WAKEUPS_KEY].stop()

    app.on_startup.append(start)  # type: ignore[arg-type]
    app.on_shutdown.append(stop)  # type: ignore[arg-type]
