"""Queue cycles per second on one Redis: enqueue, claim, one agent message, close, as the library does them.

Each step is the same Lua script the connector and the console run (without the console's audit entry and
HTTP), from ``concurrency`` conversations at once; the benchmark runs them in a namespace of its own.
"""

import asyncio
import time
import uuid

from handoff import LiveAgentQueue, Priority, Skill
from handoff.models import CloseOutcome

AGENT = "bench-cycles"
AGENT_MESSAGE = "Hello, how can I help?"


async def _cycles(queue: LiveAgentQueue, count: int, done: list[str]) -> None:
    for _ in range(count):
        conversation = f"cycle-{uuid.uuid4().hex[:12]}"
        await queue.enqueue_escalation(conversation, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
        await queue.claim(conversation, AGENT, ["en"])
        await queue.send_agent_message(conversation, AGENT, AGENT_MESSAGE)
        await queue.close(conversation, AGENT, CloseOutcome.CLOSED)
        done.append(conversation)


async def cycles_per_second(queue: LiveAgentQueue, cycles: int, concurrency: int) -> tuple[float, list[str]]:
    """Cycles per second after a short warm-up, and the conversations of the timed cycles."""
    await _cycles(queue, 10, [])
    each = max(1, cycles // concurrency)
    done: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(*(_cycles(queue, each, done) for _ in range(concurrency)))
    return len(done) / (time.perf_counter() - started), done
