"""``make bench``: what the system costs and carries on this machine, in one run. Prints figures; asserts nothing.

Starts its own system (``evaluation.bench_stack``: private Redis, action server, Rasa, console, throw-away
keys), then prints:

1. start-up time and resident memory of every process, and of the crisis screen on its own;
2. Rasa's stock ``rest`` channel against our ``patient`` channel on the same model and process, at 1 and 16
   concurrent conversations, in alternating rounds (ratio of turns/s and of p50/p99 latency);
3. the patient channel on a Rasa server with 1 Sanic worker against one with 2 (``SANIC_WORKERS``), and the
   Redis server's CPU time per bot turn;
4. the handoff path at 100 concurrent conversations (``evaluation.handoff_latency``: enqueue -> the agent's
   console socket, agent reply -> patient push), and Redis CPU time per handed-off conversation;
5. queue cycles per second on the same Redis, from this process and from 2 client processes at once, with the
   client's and the Redis server's CPU time per cycle (``evaluation.queue_cycles``);
6. resident memory of every process after all that.

The crisis screen per message (p50/p99, typical and 4 KB) is ``python -m screening.benchmark`` (``make bench``
runs both). Every step has a fixed amount of work; on a shared machine the figures move from run to run.
"""

import argparse
import asyncio
import time

import aiohttp
from redis.asyncio import Redis

from evaluation.bench_stack import AGENT_ID, AGENT_PASSWORD, BenchStack, screen_startup
from evaluation.handoff_latency import REPLIES_PER_CONVERSATION, measure_handoff, print_handoff
from evaluation.queue_cycles import describe, measure_in_processes, measure_queue_cycles, redis_cpu_seconds
from evaluation.turn_load import TurnFigures, alternating_rounds, measure_turns
from handoff import KeyRing, KeySpace, LiveAgentQueue
from handoff.redis_connection import async_redis


def _turns(label: str, figures: TurnFigures) -> None:
    print(f"  {label:<26} {figures.per_second:6.1f} turns/s   p50 {figures.p50:6.0f} ms   p99 {figures.p99:6.0f} ms"
          f"   ({figures.turns} turns)")


def _ratio(label: str, ours: TurnFigures, reference: TurnFigures) -> None:
    print(f"  {label:<26} turns/s x{ours.per_second / reference.per_second:.2f}   "
          f"p50 x{ours.p50 / reference.p50:.2f}   p99 x{ours.p99 / reference.p99:.2f}")


async def _run(bench: BenchStack, scale: float) -> None:
    stack = bench.stack
    base = f"http://127.0.0.1:{stack.config.rasa_port}"
    timeout = aiohttp.ClientTimeout(total=300)
    redis = async_redis(stack.redis_url)
    try:
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as http:
            await _measure_stack(bench, http, redis, base, scale)
        queue = LiveAgentQueue(redis, KeyRing.from_spec(stack.config.data_keys), KeySpace("bench-cycles"))
        cycles = await measure_queue_cycles(queue, queue_cycles(scale), 16)
    finally:
        await redis.close()
    print("\nqueue cycles (enqueue, claim, message, close; 16 at once in each client process)")
    print(describe("  1 client process (this one)", cycles))


async def _measure_stack(bench: BenchStack, http: aiohttp.ClientSession, redis: Redis, base: str,
                         scale: float) -> None:
    stack = bench.stack
    print("\nrest vs patient channel (same model, same Rasa process, alternating rounds)")
    for conversations, turns in ((1, int(100 * scale) or 2), (16, int(8 * scale) or 2)):
        figures = await alternating_rounds(
            http, {"rest": (base, "rest"), "patient": (base, "patient")}, conversations, turns, rounds=3
        )
        _turns(f"rest, {conversations} conversation(s)", figures["rest"])
        _turns(f"patient, {conversations} conversation(s)", figures["patient"])
        _ratio("patient / rest", figures["patient"], figures["rest"])

    print("\nSanic workers (patient channel, 16 conversations, alternating rounds)")
    two_workers = bench.add_rasa(2)
    figures = await alternating_rounds(
        http,
        {"1 worker": (base, "patient"), "2 workers": (f"http://127.0.0.1:{two_workers}", "patient")},
        16, int(8 * scale) or 2, rounds=3,
    )
    _turns("1 worker", figures["1 worker"])
    _turns("2 workers", figures["2 workers"])
    _ratio("2 workers / 1 worker", figures["2 workers"], figures["1 worker"])

    cpu_before = await redis_cpu_seconds(redis)
    bot_turns = await measure_turns(http, base, "patient", 16, int(8 * scale) or 2)
    turn_cpu_ms = (await redis_cpu_seconds(redis) - cpu_before) * 1000 / bot_turns.turns
    print(f"  Redis CPU per bot turn (patient channel, 16 conversations): {turn_cpu_ms:.2f} ms, so one Redis thread"
          f" carries at most {1000 / turn_cpu_ms:.0f} turns/s")

    conversations = handoff_conversations(scale)
    print(f"\nhandoff path, {conversations} concurrent conversations")
    cpu_before = await redis_cpu_seconds(redis)
    handoff = await measure_handoff(http, stack, conversations, AGENT_ID, AGENT_PASSWORD)
    handoff_cpu_ms = (await redis_cpu_seconds(redis) - cpu_before) * 1000 / conversations
    print(f"  escalations answered with a handoff: {handoff.escalated} of {conversations}"
          f" (logs: {stack.log_dir})")
    print_handoff(handoff)
    print(f"  Redis CPU per handed-off conversation (escalation, the console socket's rounds, claim,"
          f" {2 * REPLIES_PER_CONVERSATION} replies pushed, close): {handoff_cpu_ms:.1f} ms")


def queue_cycles(scale: float) -> int:
    """How many queue cycles each queue step times."""
    return max(32, int(2000 * scale))


def handoff_conversations(scale: float) -> int:
    """How many patients escalate at once in the handoff step; the bench agent holds them all."""
    return max(2, int(100 * scale))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the default work (e.g. 0.1: quick)")
    args = parser.parse_args()
    started = time.perf_counter()
    screen = screen_startup()
    with BenchStack(agent_capacity=handoff_conversations(args.scale)) as bench:
        print("start-up (to first answer) and resident memory at start")
        for cost in (*screen, *bench.costs):
            print(f"  {cost.name:<40} {cost.startup_seconds:6.1f} s   {cost.rss_mb:7.0f} MB")
        asyncio.run(_run(bench, args.scale))
        print(describe("  2 client processes at once (production runs many Rasa and console processes)",
                       measure_in_processes(bench.stack.redis_url, bench.stack.config.data_keys,
                                            queue_cycles(args.scale), 16, 2)))
        print("\nstart-up of the 2-worker Rasa server and resident memory after the load")
        for cost in bench.costs[3:]:
            print(f"  {cost.name:<40} {cost.startup_seconds:6.1f} s")
        for name, megabytes in bench.resident_now().items():
            print(f"  {name:<40} {megabytes:7.0f} MB")
    print(f"\nbench took {time.perf_counter() - started:.0f} s (figures taken on this machine, as loaded as it was)")


if __name__ == "__main__":
    main()
