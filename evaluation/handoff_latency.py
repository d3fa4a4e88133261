"""The handoff path at many concurrent conversations, through the real processes.

Each patient escalates ("I want to talk to a person") at the same moment; the agent's console event socket
(``GET /api/events``, what the console page listens to) notes when each conversation first shows in a ``queue``
event, from the patient's send. The cost of one ``GET /api/queue`` with them all waiting is taken afterwards.
Then the agent claims every conversation, each patient opens its push socket, and the agent writes to all of
them at once: from the console's ``POST .../messages`` to the patient's socket receiving the message. All at once,
a hundred replies are in flight together: that measures how fast the system gets through a burst (a reply waits
for the ones before it), not the path. So the agent then writes to every conversation again at a steady pace
(``PACED_REPLIES_PER_SECOND`` in all, the hundred conversations taking turns), and last to one conversation, one
reply at a time. Last, as
many escalations are enqueued at once by the handoff library itself (as the gate does, without Rasa's turns
around them), each timed from its enqueue's answer to its first ``queue`` event on the machine's one monotonic
clock: the ``enqueued_at_ms`` an event carries is no clock for this, since the enqueue clock moves it on by a
millisecond for each escalation that lands in the same one. The agent's socket is read by a process of its own,
as a console page is: read by the process that enqueues, an event would wait for its loop to get through the
other enqueues' answers.

``python -m evaluation.handoff_latency [--conversations N]`` runs this step alone on the benchmark's own system.
"""

import argparse
import asyncio
import json
import multiprocessing
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Optional

import aiohttp

from evaluation.bench_stack import AGENT_ID, AGENT_PASSWORD, BenchStack
from evaluation.turn_load import Conversation, percentile
from handoff import KeyRing, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.redis_connection import async_redis
from stack.services import Stack

ESCALATION = "I want to talk to a person"
REPLIES_PER_CONVERSATION = 3
REPLIES_ONE_AT_A_TIME = 20
"""Replies to one conversation, each sent once the last arrived: the path's own latency, with no queue before it."""
PACED_REPLIES_PER_SECOND = 50.0
"""The paced step's load over all the conversations: with a hundred open, each one's agent replies every 2 s, some
ten times the pace of agents who read and type."""
SEEN_DEADLINE_SECONDS = 120
QUEUE_POLLS = 20


@dataclass(frozen=True)
class HandoffFigures:
    conversations: int
    escalated: int
    """Conversations whose escalation reply carried the handoff (the others are reported, not measured further)."""
    escalation_turn_ms: list[float]
    """Patient sends the escalating message -> told they are in line (Rasa turn, enqueue, notice)."""
    send_to_seen_ms: list[float]
    """Patient sends -> the conversation first appears in a ``queue`` event of the agent's console socket."""
    enqueue_to_event_ms: list[float]
    """The library's enqueue answered -> the agent's console socket receives the ``queue`` event that shows it."""
    queue_poll_ms: list[float]
    """One ``GET /api/queue`` with the conversations waiting."""
    reply_to_push_ms: list[float]
    """Agent's ``POST .../messages`` sent -> the patient's push socket receives it, every conversation at once."""
    reply_paced_to_push_ms: list[float]
    """The same, the replies at ``PACED_REPLIES_PER_SECOND`` over all the conversations."""
    reply_alone_to_push_ms: list[float]
    """The same, one reply at a time to one conversation."""


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


async def _watch_socket(
    http: aiohttp.ClientSession, agent: Agent, expected: set[str], seen: dict[str, float], listening: asyncio.Event,
) -> None:
    """Listens on the agent's event socket until every conversation of ``expected`` (which the caller may narrow
    meanwhile) has shown in a ``queue`` event; ``listening`` is set once the socket told the state it opened on."""
    deadline = time.perf_counter() + SEEN_DEADLINE_SECONDS
    async with http.ws_connect(agent.console + "/api/events") as socket:
        await socket.send_json({"token": agent.token})
        while not listening.is_set() or expected - seen.keys():
            message = await asyncio.wait_for(socket.receive(), max(0.0, deadline - time.perf_counter()))
            now = time.perf_counter()
            if message.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"the console socket ended: {message}")
            event = json.loads(message.data)
            if event.get("type") != "queue":
                continue
            listening.set()
            for waiting in event["new"]:
                if waiting["conversation_id"] in expected and waiting["conversation_id"] not in seen:
                    seen[waiting["conversation_id"]] = now


async def _poll_queue(agent: Agent, poll_ms: list[float]) -> None:
    for _ in range(QUEUE_POLLS):
        started = time.perf_counter()
        await agent.call("GET", "/api/queue")
        poll_ms.append((time.perf_counter() - started) * 1000)


async def _reply_and_receive(
    http: aiohttp.ClientSession, stack: Stack, agent: Agent, patient: Conversation, push_token: str,
    latencies: list[float], replies: int = REPLIES_PER_CONVERSATION, after: str = "0",
    sent_at: Optional[Callable[[int], float]] = None,
) -> str:
    """The agent's replies, each timed until the patient's push socket (opened after message ``after``) receives
    it; the last one's id. ``sent_at``: when reply ``number`` is to be sent (``perf_counter``), else each at once
    after the last arrived."""
    params = {"sender": patient.sender, "token": push_token, "after": after}
    async with http.ws_connect(stack.patient_push_url, params=params) as push:
        for number in range(replies):
            if sent_at is not None:
                await asyncio.sleep(sent_at(number) - time.perf_counter())
            started = time.perf_counter()
            await agent.call("POST", f"/api/conversations/{patient.sender}/messages", {"text": f"reply {number}"})
            message = json.loads((await asyncio.wait_for(push.receive(), timeout=60)).data)
            latencies.append((time.perf_counter() - started) * 1000)
            if message.get("text") != f"reply {number}":
                raise RuntimeError(f"pushed out of order: {message}")
            after = str(message["id"])
    return after


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
    listening = asyncio.Event()
    watcher = await _start_watching(http, agent, expected, seen, listening)
    tokens = await asyncio.gather(*(_escalate(patient, sent, turn_ms) for patient in patients))
    escalated = {patient: token for patient, token in zip(patients, tokens, strict=True) if token is not None}
    expected.intersection_update(patient.sender for patient in escalated)  # the watcher waits for these only
    await watcher
    send_to_seen = [(seen[sender] - sent[sender]) * 1000 for sender in sent if sender in seen]
    await _poll_queue(agent, poll_ms)
    for patient in escalated:
        await agent.call("POST", f"/api/conversations/{patient.sender}/claim")
    reply_ms: list[float] = []
    last_pushed = await asyncio.gather(*(
        _reply_and_receive(http, stack, agent, patient, token, reply_ms) for patient, token in escalated.items()
    ))
    paced_ms: list[float] = []
    paced_from = time.perf_counter() + 1

    def paced(turn: int) -> Callable[[int], float]:
        return lambda number: paced_from + (number * len(escalated) + turn) / PACED_REPLIES_PER_SECOND

    last_pushed = await asyncio.gather(*(
        _reply_and_receive(http, stack, agent, patient, token, paced_ms, after=after, sent_at=paced(turn))
        for turn, ((patient, token), after) in enumerate(zip(escalated.items(), last_pushed, strict=True))
    ))
    alone_ms: list[float] = []
    for (patient, token), after in list(zip(escalated.items(), last_pushed, strict=True))[:1]:
        await _reply_and_receive(http, stack, agent, patient, token, alone_ms, REPLIES_ONE_AT_A_TIME, after)
    for patient in escalated:
        await agent.call("POST", f"/api/conversations/{patient.sender}/close", {"outcome": "closed"})
    enqueue_ms = await _enqueue_to_console(stack, agent, conversations)
    return HandoffFigures(conversations, len(escalated), turn_ms, send_to_seen, enqueue_ms, poll_ms, reply_ms,
                          paced_ms, alone_ms)


async def _start_watching(http: aiohttp.ClientSession, agent: Agent, expected: set[str], seen: dict[str, float],
                          listening: asyncio.Event) -> "asyncio.Future[None]":
    """The agent's console socket, watched for ``expected`` once it told the state it opened on."""
    watcher = asyncio.ensure_future(_watch_socket(http, agent, expected, seen, listening))
    await asyncio.wait([watcher, asyncio.ensure_future(listening.wait())], return_when=asyncio.FIRST_COMPLETED)
    if watcher.done():
        watcher.result()
    return watcher


def _watch_in_own_process(console: str, token: str, ids: list[str], pipe: "multiprocessing.connection.Connection"
                          ) -> None:
    """Sends ``"listening"`` once the agent's socket told the state it opened on, then the time (``perf_counter``:
    the machine's monotonic clock, the same in every process) each of ``ids`` first showed in a ``queue`` event."""

    async def watch() -> dict[str, float]:
        async with aiohttp.ClientSession() as http:
            agent = Agent(http, console)
            agent.token = token
            seen: dict[str, float] = {}
            listening = asyncio.Event()
            watcher = await _start_watching(http, agent, set(ids), seen, listening)
            pipe.send("listening")
            await watcher
            return seen

    pipe.send(asyncio.run(watch()))


async def _enqueue_to_console(stack: Stack, agent: Agent, conversations: int) -> list[float]:
    """``conversations`` escalations enqueued at once by the library: each from its enqueue's answer to its first
    ``queue`` event on the agent's socket, read by another process; then the agent claims and closes them."""
    redis = async_redis(stack.redis_url)
    queue = LiveAgentQueue(redis, KeyRing.from_spec(stack.config.data_keys), KeySpace(stack.config.namespace))
    ids = [f"bench-enqueue-{uuid.uuid4().hex[:12]}" for _ in range(conversations)]
    answered: dict[str, float] = {}
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    watcher = spawn.Process(target=_watch_in_own_process, args=(agent.console, agent.token, ids, theirs))
    watcher.start()
    theirs.close()  # the watcher's end: should it die, a read of ours ends (EOFError) instead of waiting for ever
    loop = asyncio.get_running_loop()

    async def enqueue(conversation_id: str) -> None:
        await queue.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
        answered[conversation_id] = time.perf_counter()

    try:
        if await loop.run_in_executor(None, ours.recv) != "listening":
            raise RuntimeError("the watching process did not open the agent's socket")
        await asyncio.gather(*(enqueue(conversation_id) for conversation_id in ids))
        seen: dict[str, float] = await loop.run_in_executor(None, ours.recv)
        for conversation_id in ids:
            await agent.call("POST", f"/api/conversations/{conversation_id}/claim")
            await agent.call("POST", f"/api/conversations/{conversation_id}/close", {"outcome": "closed"})
    finally:
        watcher.join(SEEN_DEADLINE_SECONDS)
        await redis.close()
    return [(seen[conversation_id] - answered[conversation_id]) * 1000 for conversation_id in ids]


def print_latency(label: str, values: list[float]) -> None:
    print(f"  {label:<44} p50 {percentile(values, 0.5):7.1f} ms   p99 {percentile(values, 0.99):7.1f} ms"
          f"   (n={len(values)})")


def print_handoff(handoff: HandoffFigures) -> None:
    print_latency("escalation turn (send -> told in line)", handoff.escalation_turn_ms)
    print_latency("send -> console socket queue event", handoff.send_to_seen_ms)
    print_latency("enqueue (all at once) -> socket queue event", handoff.enqueue_to_event_ms)
    print_latency(f"queue poll (GET /api/queue, {handoff.escalated} waiting)", handoff.queue_poll_ms)
    print_latency("agent reply -> patient push (all at once)", handoff.reply_to_push_ms)
    print_latency(f"agent reply -> patient push ({PACED_REPLIES_PER_SECOND:.0f}/s in all)",
                  handoff.reply_paced_to_push_ms)
    print_latency("agent reply -> patient push (one at a time)", handoff.reply_alone_to_push_ms)


async def _measure_alone(stack: Stack, conversations: int) -> None:
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as http:
        handoff = await measure_handoff(http, stack, conversations, AGENT_ID, AGENT_PASSWORD)
    print(f"\nhandoff path, {conversations} concurrent conversations; escalations answered with a handoff:"
          f" {handoff.escalated} of {conversations}")
    print_handoff(handoff)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100)
    args = parser.parse_args()
    with BenchStack(agent_capacity=args.conversations) as bench:
        asyncio.run(_measure_alone(bench.stack, args.conversations))


if __name__ == "__main__":
    main()
