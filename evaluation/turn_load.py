"""Bot turns from concurrent simulated patients, through Rasa's stock ``rest`` channel or our ``patient`` channel.

Every conversation sends messages the bot answers itself (training examples of greet, ask_hours and
ask_location), so both channels run the same NLU, policies and responses; the patient channel adds the
crisis screen, language resolution, credentials, the conversation gate and the transcript.
"""

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Optional

import aiohttp

MESSAGES = ("hello", "what are your hours", "where are you located", "what are your hours")


@dataclass(frozen=True)
class TurnFigures:
    turns: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.turns / self.seconds

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 0.99)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


class Conversation:
    """One simulated patient on one channel of one Rasa server (``base``: ``http://127.0.0.1:<port>``)."""

    def __init__(self, http: aiohttp.ClientSession, base: str, channel: str) -> None:
        self.http, self.base, self.channel = http, base, channel
        self.sender = f"bench-{uuid.uuid4().hex[:12]}"
        self.token: Optional[str] = None

    async def open(self) -> None:
        """The patient channel issues the conversation's credential first (as the chat page does)."""
        if self.channel == "patient":
            async with self.http.post(f"{self.base}/webhooks/patient/session") as response:
                session = await response.json()
                if response.status != 201:
                    raise RuntimeError(f"session: HTTP {response.status} {session}")
            self.sender, self.token = session["conversation_id"], session["token"]

    async def say(self, text: str) -> list[dict[str, object]]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"sender": self.sender, "message": text}
        async with self.http.post(f"{self.base}/webhooks/{self.channel}/webhook", json=body, headers=headers) as reply:
            replies = await reply.json()
            if reply.status != 200:
                raise RuntimeError(f"{self.channel}: HTTP {reply.status} {replies}")
        return list(replies)


async def _converse(conversation: Conversation, turns: int, latencies: list[float]) -> None:
    for turn in range(turns):
        started = time.perf_counter()
        await conversation.say(MESSAGES[turn % len(MESSAGES)])
        latencies.append((time.perf_counter() - started) * 1000)


async def measure_turns(
    http: aiohttp.ClientSession, base: str, channel: str, conversations: int, turns: int
) -> TurnFigures:
    """``conversations`` patients at once, ``turns`` each; sessions are opened (and one turn warmed) untimed."""
    patients = [Conversation(http, base, channel) for _ in range(conversations)]
    await asyncio.gather(*(patient.open() for patient in patients))
    await asyncio.gather(*(patient.say(MESSAGES[0]) for patient in patients))
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_converse(patient, turns, latencies) for patient in patients))
    return TurnFigures(len(latencies), time.perf_counter() - started, latencies)


async def alternating_rounds(
    http: aiohttp.ClientSession, targets: dict[str, tuple[str, str]], conversations: int, turns: int, rounds: int
) -> dict[str, TurnFigures]:
    """Each target (label -> (base URL, channel)) in turn, ``rounds`` times, pooled: a slow spell of a shared
    machine falls on every target alike."""
    pooled: dict[str, list[TurnFigures]] = {label: [] for label in targets}
    for _ in range(rounds):
        for label, (base, channel) in targets.items():
            pooled[label].append(await measure_turns(http, base, channel, conversations, turns))
    return {
        label: TurnFigures(
            sum(f.turns for f in figures), sum(f.seconds for f in figures),
            [latency for f in figures for latency in f.latencies_ms],
        )
        for label, figures in pooled.items()
    }
