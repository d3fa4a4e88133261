"""The event socket wakes on the console changes stream (real Redis, real console app): with its safety round an
hour away, a new task, a patient message and a crisis alert still reach the agent; a wake-up lost (the reader
stopped, the stream deleted) is made good by the safety round; the reader reads again after its connection is
killed and stops with the console; a burst wakes a socket a few times, not once per change; the rounds' cheap
signatures list what the waiting list shows; and the stream names no conversation and carries no content."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from handoff import AuditLog, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.console import events
from handoff.console.wakeups import WAKEUPS_KEY
from handoff.crypto import EnvelopeError
from handoff.models import CrisisFlag
from handoff.redis_connection import async_redis
from stack.redis_server import RedisServer
from tests.console_clients import console_app, next_event, token_of

DEADLINE_SECONDS = 10
CONSOLE_UNDER_TEST = "console-under-test"
NEVER_SECONDS = 3600.0
SECRET = "I took all my pills an hour ago"
MESSAGE = "my member id is 88123"


@pytest_asyncio.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """This module's console on connections of its own name: the session's Redis also serves the shared stack,
    whose console and push sockets block in XREAD too, and only this console's reader is to be found and killed."""
    client = async_redis(redis_server.url, client_name=CONSOLE_UNDER_TEST)
    yield client
    await client.close()


@pytest.fixture
def client(console: TestClient) -> TestClient:
    return console


@pytest.fixture
def no_safety_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a wake-up can start a round after the first one."""
    monkeypatch.setattr(events, "SAFETY_ROUND_SECONDS", NEVER_SECONDS)


async def opened(client: TestClient, agent_id: str = "amy") -> aiohttp.ClientWebSocketResponse:
    socket = await client.ws_connect("/api/events")
    await socket.send_json({"token": await token_of(client, agent_id)})
    await next_event(socket, "queue")
    return socket


@pytest.mark.usefixtures("no_safety_round")
async def test_a_task_a_patient_message_and_a_crisis_wake_the_socket(client: TestClient, queue: LiveAgentQueue
                                                                      ) -> None:
    socket = await opened(client)
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert (await next_event(socket, "queue"))["waiting"] == ["p1"]

    await queue.claim("p1", "amy", ["en"])
    assert [c["conversation_id"] for c in (await next_event(socket, "assignments"))["conversations"]] == ["p1"]
    first = await next_event(socket, "conversation_updated")
    await queue.record("p1", TranscriptRole.PATIENT, MESSAGE)
    assert (await next_event(socket, "conversation_updated"))["entries"] == first["entries"] + 1

    await queue.enqueue_escalation("p1", "en", Skill.NURSE, Priority.CRISIS, "crisis_overdose_poisoning",
                                   CrisisFlag("overdose_poisoning", SECRET))
    alert = await next_event(socket, "crisis_alert")
    assert (alert["conversation_id"], alert["category"]) == ("p1", "overdose_poisoning")
    await socket.close()


async def test_a_lost_wakeup_is_made_good_by_the_safety_round(
    client: TestClient, queue: LiveAgentQueue, redis: Redis, keys: KeySpace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "SAFETY_ROUND_SECONDS", 0.5)
    socket = await opened(client)
    await client.app[WAKEUPS_KEY].stop()
    await queue.enqueue_escalation("unheard", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await redis.delete(keys.console_changes())
    assert (await next_event(socket, "queue"))["waiting"] == ["unheard"], "told by the safety round"
    await socket.close()


@pytest.mark.usefixtures("no_safety_round")
async def test_the_reader_reads_again_after_its_connection_is_killed(
    client: TestClient, queue: LiveAgentQueue, redis: Redis
) -> None:
    socket = await opened(client)
    wakeups = client.app[WAKEUPS_KEY]
    reader = await blocked_reader(redis)
    await redis.execute_command("CLIENT", "KILL", "ID", reader)
    deadline = asyncio.get_running_loop().time() + DEADLINE_SECONDS
    while wakeups.reconnects == 0 or await blocked_reader(redis) == reader:
        assert asyncio.get_running_loop().time() < deadline, "the reader never read again"
        await asyncio.sleep(0.05)
    await queue.enqueue_escalation("after-kill", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert (await next_event(socket, "queue"))["waiting"] == ["after-kill"]
    await socket.close()


async def blocked_reader(redis: Redis) -> str:
    """The id of the connection blocked in the console reader's XREAD, once there is one (within the deadline)."""
    deadline = asyncio.get_running_loop().time() + DEADLINE_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        readers = await blocked_readers(redis)
        if readers:
            return readers[0]
        await asyncio.sleep(0.05)
    raise AssertionError("no reader blocked in XREAD")


async def blocked_readers(redis: Redis) -> list[str]:
    """The ids of this module's connections blocked in an XREAD now."""
    readers = []
    for line in (await redis.execute_command("CLIENT", "LIST")).decode().splitlines():
        fields = dict(part.partition("=")[::2] for part in line.split())
        if (fields.get("cmd") == "xread" and "b" in fields.get("flags", "")
                and fields.get("name") == CONSOLE_UNDER_TEST):
            readers.append(fields["id"])
    return readers


@pytest.mark.usefixtures("no_safety_round")
async def test_a_burst_of_tasks_wakes_a_socket_a_few_times_not_once_per_task(
    client: TestClient, queue: LiveAgentQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds = 0
    changes = events._changes

    async def counted(*args: Any) -> list[dict[str, Any]]:
        nonlocal rounds
        rounds += 1
        return await changes(*args)

    monkeypatch.setattr(events, "_changes", counted)
    socket = await opened(client)
    burst = [f"burst-{index}" for index in range(100)]
    await asyncio.gather(*(queue.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL,
                                                    "patient_request") for conversation_id in burst))
    while len((await next_event(socket, "queue"))["waiting"]) < len(burst):
        pass
    assert rounds - 1 < len(burst) // 2, f"{rounds - 1} rounds for {len(burst)} tasks"
    await socket.close()


async def test_the_stream_names_no_conversation_and_carries_no_content(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await queue.enqueue_escalation("p-private", "en", Skill.NURSE, Priority.CRISIS, "crisis_overdose_poisoning",
                                   CrisisFlag("overdose_poisoning", SECRET))
    await queue.claim("p-private", "amy", ["en"])
    await queue.record("p-private", TranscriptRole.PATIENT, MESSAGE)
    await queue.send_agent_message("p-private", "amy", "I am calling you now")
    await queue.enqueue_escalation("p-private", "en", Skill.NURSE, Priority.CRISIS, "crisis_overdose_poisoning",
                                   CrisisFlag("overdose_poisoning", SECRET))
    entries = await redis.xrange(keys.console_changes())
    kinds = [b"crisis", b"queue", b"claim", b"message", b"message", b"crisis"]
    assert [fields[b"kind"] for _, fields in entries] == kinds
    for _, fields in entries:
        assert list(fields) == [b"kind"]
        written = b" ".join(fields.values())
        for private in ("p-private", SECRET, MESSAGE, "overdose", "amy"):
            assert private.encode() not in written


async def test_the_rounds_signatures_are_what_the_waiting_list_shows(queue: LiveAgentQueue) -> None:
    """Each round compares three fields of every waiting conversation, not whole conversations: the same list, in
    the same order, as ``waiting`` gives (skills filtered, a crisis in a fallback queue once, one sent back)."""
    await queue.enqueue_escalation("general", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.enqueue_escalation("billing", "en", Skill.BILLING, Priority.NORMAL, "billing_question")
    await queue.enqueue_escalation("nurse", "en", Skill.NURSE, Priority.URGENT, "clinical_question")
    await queue.enqueue_escalation("crisis-pt", "pt", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_suicide",
                                   CrisisFlag("suicide_self_harm", SECRET), fallback_language="en")
    await queue.enqueue_escalation("sent-back", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("sent-back", "amy", ["en"])
    assert await queue.requeue("sent-back", "amy", lambda _: "back in line")
    for languages, skills in ((["en"], ["general", "nurse"]), (["en", "pt"], None), (["pt"], ["billing"])):
        listed = [(c.conversation_id, c.requeued_at_ms) for c in await queue.waiting(languages, skills)]
        assert await queue.waiting_signatures(languages, skills) == listed
    assert [conversation_id for conversation_id, _ in await queue.waiting_signatures(["en", "pt"])] == [
        "crisis-pt", "nurse", "sent-back", "general", "billing"]


async def test_the_rounds_signatures_skip_what_is_no_longer_waiting_and_keep_equal_scores_in_order(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    """A queue member whose conversation is gone or not queued is not listed (as ``waiting`` does not list it);
    equal scores keep the order read, as ``waiting`` keeps it; a skill sealed for another conversation does not
    open."""
    await queue.enqueue_escalation("first", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.enqueue_escalation("second", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    score = await redis.zscore(keys.queue("en"), "first")
    await redis.zadd(keys.queue("en"), {"second": score, "gone": score - 1, "with-the-bot": score - 2})
    await redis.hset(keys.conversation("with-the-bot"), "state", "BOT")
    for skills in (None, ["general"]):
        listed = [(c.conversation_id, c.requeued_at_ms) for c in await queue.waiting(["en"], skills)]
        assert await queue.waiting_signatures(["en"], skills) == listed == [("first", None), ("second", None)]
    await redis.hset(keys.conversation("second"), "skill", await redis.hget(keys.conversation("first"), "skill"))
    assert [conversation_id for conversation_id, _ in await queue.waiting_signatures(["en"])] == ["first", "second"]
    with pytest.raises(EnvelopeError):
        await queue.waiting_signatures(["en"], ["general"])


async def test_the_reader_stops_with_the_console(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, keys: KeySpace, agents_file: Path
) -> None:
    app = console_app(queue, audit, redis, keys, agents_file)
    async with TestClient(TestServer(app)) as client:
        socket = await opened(client)
        await blocked_reader(redis)
    assert socket.closed and app[WAKEUPS_KEY].listeners == set(), "no socket waits for a wake-up"
    assert not await blocked_readers(redis), "no read left blocked in Redis"
