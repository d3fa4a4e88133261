"""The handoff path at many concurrent conversations, through the real processes.

Each patient escalates ("I want to talk to a person") at the same moment; an agent's console polls the
queue back to back (the console page polls ``GET /api/queue``; it has no queue websocket) and notes when each
conversation first shows. Then the agent claims every conversation, each patient opens its push socket,
and the agent writes to all of them at once: from the console's ``POST .../messages`` to the patient's
socket receiving the message.
"""

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Optional

import aiohttp

from evaluation.turn_load import Conversation
from stack.services import Stack

ESCALATION = "I want to talk to a person"
REPLIES_PER_CONVERSATION = 3
SEEN_DEADLINE_SECONDS = 120


@dataclass(frozen=True)
class HandoffFigures:
    conversations: int
    escalated: int
    """Conversations whose escalation reply carried the handoff (the others are reported, not measured further)."""
    escalation_turn_ms: list[float]
    """Patient sends the escalating message -> told they are in line (Rasa turn, enqueue, notice)."""
    send_to_seen_ms: list[float]
    """Patient sends -> the conversation first appears in the agent's queue poll."""
    queue_poll_ms: list[float]
    """One ``GET /api/queue`` with the conversations waiting."""
    reply_to_push_ms: list[float]
    """Agent's ``POST .../messages`` sent -> the patient's push socket receives it."""


class Agent:
    def __init__(self, http: aiohttp.ClientSession, console: str) -> None:
        self.http, self.console, self.token = http, console.rstrip("/"), ""

    async def call(self, method: str, path: str, body: object = None) -> dict[str, object]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.http.request(method, self.console + path, json=body, headers=headers) as response:
            answer: dict[str, object] = await response.json()
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: HTTP {response.status} {answer}")
            return answer

    async def login(self, agent_id: str, password: str) -> None:
        answer = await self.call("POST", "/api/login", {"agent_id": agent_id, "password": password})
        self.token = str(answer["token"])


async def _escalate(patient: Conversation, sent: dict[str, float], turn_ms: list[float]) -> Optional[str]:
    """The push token of the escalation, or ``None`` when the reply carried no handoff (counted as a failure)."""
    sent[patient.sender] = time.perf_counter()
    replies = await patient.say(ESCALATION)
    turn_ms.append((time.perf_counter() - sent[patient.sender]) * 1000)
    for reply in replies:
        custom = reply.get("custom")
        if isinstance(custom, dict) and "handoff" in custom:
            return str(custom["handoff"]["push_token"])
    return None


async def _watch_queue(agent: Agent, expected: set[str], seen: dict[str, float], poll_ms: list[float]) -> None:
    """Polls until every conversation of ``expected`` (which the caller may narrow meanwhile) has shown."""
    deadline = time.perf_counter() + SEEN_DEADLINE_SECONDS
    while expected - seen.keys() and time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            queue = await agent.call("GET", "/api/queue")
        except aiohttp.ClientError:  # the poll is retried; the time it cost shows in send -> seen
            continue
        now = time.perf_counter()
        poll_ms.append((now - started) * 1000)
        for waiting in queue["waiting"]:  # type: ignore[attr-defined]
            seen.setdefault(waiting["conversation_id"], now)


async def _reply_and_receive(
    http: aiohttp.ClientSession, stack: Stack, agent: Agent, patient: Conversation, push_token: str,
    latencies: list[float],
) -> None:
    params = {"sender": patient.sender, "token": push_token}
    async with http.ws_connect(stack.patient_push_url, params=params) as push:
        for number in range(REPLIES_PER_CONVERSATION):
            started = time.perf_counter()
            await agent.call("POST", f"/api/conversations/{patient.sender}/messages", {"text": f"reply {number}"})
            message = json.loads((await asyncio.wait_for(push.receive(), timeout=60)).data)
            latencies.append((time.perf_counter() - started) * 1000)
            if message.get("text") != f"reply {number}":
                raise RuntimeError(f"pushed out of order: {message}")


async def measure_handoff(
    http: aiohttp.ClientSession, stack: Stack, conversations: int, agent_id: str, password: str
) -> HandoffFigures:
    """``conversations`` patients escalate at once and are worked by the agent ``agent_id`` (English queue)."""
    base = stack.patient_webhook_url.split("/webhooks/")[0]
    agent = Agent(http, stack.console_url)
    await agent.login(agent_id, password)
    patients = [Conversation(http, base, "patient") for _ in range(conversations)]
    await asyncio.gather(*(patient.open() for patient in patients))
    await asyncio.gather(*(patient.say("hello") for patient in patients))
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    turn_ms: list[float] = []
    poll_ms: list[float] = []
    expected = {patient.sender for patient in patients}
    watcher = asyncio.ensure_future(_watch_queue(agent, expected, seen, poll_ms))
    tokens = await asyncio.gather(*(_escalate(patient, sent, turn_ms) for patient in patients))
    escalated = {patient: token for patient, token in zip(patients, tokens, strict=True) if token is not None}
    expected.intersection_update(patient.sender for patient in escalated)  # the watcher waits for these only
    await watcher
    send_to_seen = [(seen[sender] - sent[sender]) * 1000 for sender in sent if sender in seen]
    for patient in escalated:
        await agent.call("POST", f"/api/conversations/{patient.sender}/claim")
    reply_ms: list[float] = []
    await asyncio.gather(*(
        _reply_and_receive(http, stack, agent, patient, token, reply_ms) for patient, token in escalated.items()
    ))
    for patient in escalated:
        await agent.call("POST", f"/api/conversations/{patient.sender}/close", {"outcome": "closed"})
    return HandoffFigures(conversations, len(escalated), turn_ms, send_to_seen, poll_ms, reply_ms)
