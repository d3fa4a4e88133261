"""Helpers for tests of the console's reaper (``handoff.presence``, ``handoff.crisis_alerts``)."""

import asyncio
import time
from typing import Awaitable, Callable

from handoff.presence import AGENT_LEFT_NOTICE
from languages import LanguageCatalog

CATALOG = LanguageCatalog.load()
DEADLINE_SECONDS = 10


def agent_left(language: str) -> str:
    """What a patient is told, in their language, when their agent left and they are back in line."""
    return CATALOG.notice(language, AGENT_LEFT_NOTICE)


async def until_done(reap_round: Callable[[], Awaitable[list[str]]]) -> list[str]:
    """Runs one round of the reaper again and again, as the console does, until it changes something (what it
    lists), within a deadline; [] if it never does."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        changed = await reap_round()
        if changed:
            return changed
        await asyncio.sleep(0.1)
    return []
