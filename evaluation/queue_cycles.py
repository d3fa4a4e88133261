"""Queue cycles per second on one Redis: enqueue, claim, one agent message, close, as the library does them.

Each step is the same Lua script the connector and the console run (without the console's audit entry and
HTTP), from ``concurrency`` conversations at once; the benchmark runs them in a namespace of its own.

Besides the rate seen by the client (which a shared machine moves from run to run), it reads the Redis server's
own CPU time (``INFO cpu``) spent on the timed cycles: Redis runs commands on one thread, so one core carries at
most ``1000 / redis_cpu_ms`` cycles per second. That ceiling is what one hash slot, i.e. one Redis Cluster shard
or one primary, can carry (README, "Scaling out and Redis failover").

Run on its own (``python -m evaluation.queue_cycles``), it starts a private ``valkey-server`` as ``make bench``
does (or uses ``--redis-url``) and measures with one client process, or several at once (``--processes 1 2``):
production runs many Rasa and console processes on one Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
import uuid
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any, Optional

from redis.asyncio import Redis
from redis.utils import HIREDIS_AVAILABLE

from handoff import KeyRing, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.crypto import generate_key_ring_spec
from handoff.models import CloseOutcome
from handoff.redis_connection import async_redis, sync_redis
from stack.redis_server import RedisServer
from stack.services import free_port

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
    client_cpu_ms: float
    """CPU time (user + system) of the client process per cycle, in milliseconds: what one client core carries,
    ``1000 / client_cpu_ms`` cycles per second, however busy the machine is."""

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
    return _cpu_seconds(await redis.info("cpu"))


def _cpu_seconds(cpu: dict[str, Any]) -> float:
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


async def measure_queue_cycles(queue: LiveAgentQueue, cycles: int, concurrency: int) -> QueueCycles:
    """Times ``cycles`` cycles, ``concurrency`` at once, after a short warm-up."""
    await _cycles(queue, 10, [])
    each = max(1, cycles // concurrency)
    done: list[str] = []
    cpu_before = await redis_cpu_seconds(queue.redis)
    started, client_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(_cycles(queue, each, done) for _ in range(concurrency)))
    elapsed, client_cpu = time.perf_counter() - started, time.process_time() - client_started
    cpu_ms = (await redis_cpu_seconds(queue.redis) - cpu_before) * 1000
    return QueueCycles(len(done) / elapsed, cpu_ms / len(done), done, client_cpu * 1000 / len(done))


def describe(label: str, cycles: QueueCycles) -> str:
    """One line of figures, as ``make bench`` and ``python -m evaluation.queue_cycles`` print them."""
    return (f"{label}: {cycles.per_second:.0f} cycles/s; client CPU {cycles.client_cpu_ms:.2f} ms per cycle;"
            f" Redis CPU {cycles.redis_cpu_ms:.2f} ms per cycle, so one Redis thread (one slot) carries at most"
            f" {cycles.one_core_ceiling:.0f} cycles/s")


async def _measure_in_process(redis_url: str, data_keys: str, namespace: str, cycles: int, concurrency: int,
                              start: Barrier, results: Queue[tuple[int, float, float]]) -> None:
    """One client process of ``--processes``: warms up, waits for the others, times its share of the cycles."""
    redis = async_redis(redis_url)
    try:
        queue = LiveAgentQueue(redis, KeyRing.from_spec(data_keys), KeySpace(namespace))
        await _cycles(queue, 10, [])
        done: list[str] = []
        await asyncio.get_running_loop().run_in_executor(None, start.wait)
        started, client_started = time.perf_counter(), time.process_time()
        await asyncio.gather(*(_cycles(queue, max(1, cycles // concurrency), done) for _ in range(concurrency)))
        results.put((len(done), time.perf_counter() - started, time.process_time() - client_started))
    finally:
        await redis.close()


def _client_process(redis_url: str, data_keys: str, namespace: str, cycles: int, concurrency: int, start: Barrier,
                    results: Queue[tuple[int, float, float]]) -> None:
    asyncio.run(_measure_in_process(redis_url, data_keys, namespace, cycles, concurrency, start, results))


def measure_in_processes(redis_url: str, data_keys: str, cycles: int, concurrency: int,
                         processes: int) -> QueueCycles:
    """``processes`` client processes at once, each ``concurrency`` cycles at a time, the cycles shared out: the
    client CPU time is theirs together."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes + 1)
    results: Queue[tuple[int, float, float]] = context.Queue()
    namespace = f"bench-cycles-{uuid.uuid4().hex[:8]}"
    workers = [context.Process(target=_client_process, args=(redis_url, data_keys, namespace, cycles // processes,
                                                              concurrency, start, results))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    with sync_redis(redis_url) as watcher:
        start.wait()
        cpu_before = _cpu_seconds(watcher.info("cpu"))
        figures = [results.get() for _ in workers]
        cpu_ms = (_cpu_seconds(watcher.info("cpu")) - cpu_before) * 1000
    for worker in workers:
        worker.join()
    done = sum(count for count, _, _ in figures)
    client_cpu_ms = sum(client_cpu for _, _, client_cpu in figures) * 1000
    return QueueCycles(done / max(elapsed for _, elapsed, _ in figures), cpu_ms / done, [], client_cpu_ms / done)


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=2000, help="cycles timed (the bench's default: 2000)")
    parser.add_argument("--concurrency", type=int, default=16, help="cycles at once in each client process")
    parser.add_argument("--processes", type=int, nargs="+", default=[1],
                        help="client processes; several numbers: one measure each, e.g. --processes 1 2")
    parser.add_argument("--redis-url", help="a Redis to use (a throw-away namespace in it); default: start a"
                        " private valkey-server as make bench does")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="queue-cycles-") as data_dir:
        server = None if args.redis_url else RedisServer(free_port(), Path(data_dir)).start()
        try:
            redis_url = args.redis_url or (server.url if server else "")
            print(f"queue cycles (enqueue, claim, message, close; {args.concurrency} at once per process;"
                  f" {'hiredis' if HIREDIS_AVAILABLE else 'pure-Python'} reply parser)")
            for processes in args.processes:
                cycles = measure_in_processes(redis_url, generate_key_ring_spec(), args.cycles, args.concurrency,
                                              processes)
                print(describe(f"  {processes} client process{'es' if processes > 1 else ''}", cycles))
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
