"""Turns per second and latency through the whole path: patient channel, gate, Rasa, actions.

Starts the same processes ``make run`` starts (private Redis on a free port, a
throw-away key ring and data folder), sends a bounded number of bot-handled
messages from concurrent simulated patients, and prints figures. Asserts nothing.
"""

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import yaml

from handoff import hash_password
from handoff.crypto import generate_key_ring_spec
from stack.services import Stack, StackConfig, free_port

MESSAGES = ["hello", "what are your hours", "where do I park", "how do I pay my bill", "thanks, bye"]


async def patient_session(http: aiohttp.ClientSession, url: str, turns: int, latencies: list[float]) -> None:
    sender = f"bench-{uuid.uuid4().hex[:10]}"
    for turn in range(turns):
        started = time.perf_counter()
        async with http.post(url, json={"sender": sender, "message": MESSAGES[turn % len(MESSAGES)]}) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
        latencies.append(time.perf_counter() - started)


async def measure(stack: Stack, patients: int, turns: int) -> None:
    latencies: list[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        await patient_session(http, stack.patient_webhook_url, 2, [])
        started = time.perf_counter()
        await asyncio.gather(
            *(patient_session(http, stack.patient_webhook_url, turns, latencies) for _ in range(patients))
        )
        elapsed = time.perf_counter() - started
    latencies.sort()
    print(f"{patients} concurrent patients x {turns} turns = {len(latencies)} turns in {elapsed:.1f} s")
    print(f"throughput: {len(latencies) / elapsed:.1f} turns/s (one Rasa process)")
    print(
        f"latency: median {statistics.median(latencies) * 1000:.0f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=8)
    parser.add_argument("--turns", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        agents_file = Path(scratch) / "agents.yml"
        agents_file.write_text(
            yaml.safe_dump({"agents": [{"id": "bench", "languages": ["en"], "password_hash": hash_password("x")}]})
        )
        stack = Stack(
            StackConfig(
                data_dir=Path(scratch),
                data_keys=generate_key_ring_spec(),
                agents_file=agents_file,
                redis_port=free_port(),
                rasa_port=free_port(),
                actions_port=free_port(),
                console_port=free_port(),
            )
        ).start()
        try:
            asyncio.run(measure(stack, args.patients, args.turns))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
