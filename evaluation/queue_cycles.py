"""Queue cycles per second on one Redis: enqueue, claim, one agent message, close, as the library does them.

Each step is the same Lua script the connector and the console run (without the console's audit entry and
HTTP), from ``concurrency`` conversations at once; the benchmark runs them in a namespace of its own.

Besides the rate seen by the client (which a shared machine moves from run to run), it reads the Redis server's
own CPU time (``INFO cpu``) spent on the timed cycles: Redis runs commands on one thread, so one core carries at
most ``1000 / redis_cpu_ms`` cycles per second. That ceiling is what one hash slot, i.e. one Redis Cluster shard
or one primary, can carry (README, "Scaling out and Redis failover").
"""

import asyncio
import time
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

from handoff import LiveAgentQueue, Priority, Skill
from handoff.models import CloseOutcome

AGENT = "bench-cycles"
AGENT_MESSAGE = "Hello, how can I help?"


@dataclass(frozen=True)
class QueueCycles:
    per_second: float
    """Whole cycles per second of wall-clock time, as the client saw them."""
    redis_cpu_ms: float
    """Redis server CPU time (user + system) per cycle, in milliseconds."""
    conversations: list[str]
    """The conversations of the timed cycles."""

    @property
    def one_core_ceiling(self) -> float:
        """Cycles per second at which the Redis thread would be busy all the time."""
        return 1000 / self.redis_cpu_ms if self.redis_cpu_ms > 0 else float("inf")


async def _cycles(queue: LiveAgentQueue, count: int, done: list[str]) -> None:
    for _ in range(count):
        conversation = f"cycle-{uuid.uuid4().hex[:12]}"
        await queue.enqueue_escalation(conversation, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
        await queue.claim(conversation, AGENT, ["en"])
        await queue.send_agent_message(conversation, AGENT, AGENT_MESSAGE)
        await queue.close(conversation, AGENT, CloseOutcome.CLOSED)
        done.append(conversation)


async def redis_cpu_seconds(redis: Redis) -> float:
    """CPU time (user + system) the Redis server has used since it started."""
    cpu = await redis.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


async def measure_queue_cycles(queue: LiveAgentQueue, cycles: int, concurrency: int) -> QueueCycles:
    """Times ``cycles`` cycles, ``concurrency`` at once, after a short warm-up."""
    await _cycles(queue, 10, [])
    each = max(1, cycles // concurrency)
    done: list[str] = []
    cpu_before = await redis_cpu_seconds(queue.redis)
    started = time.perf_counter()
    await asyncio.gather(*(_cycles(queue, each, done) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu_ms = (await redis_cpu_seconds(queue.redis) - cpu_before) * 1000
    return QueueCycles(len(done) / elapsed, cpu_ms / len(done), done)
