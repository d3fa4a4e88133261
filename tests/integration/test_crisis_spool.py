"""The crisis spool: durable, encrypted, tolerant of torn lines, and replayed exactly once."""

import asyncio
import dataclasses
import json
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from handoff import ConversationState, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.background import stop_tasks
from handoff.crypto import generate_key_ring_spec
from handoff.models import CrisisFlag
from handoff.operations import CRISIS_ESCALATION, HANDOFF, OperationsEvents
from handoff.redis_connection import async_redis
from handoff.spool import CrisisReplayer, CrisisSpool, SpooledCrisis
from stack.redis_server import RedisServer
from stack.services import free_port

MESSAGE = "I took all my pills, member id ZX4455667788"


def crisis(conversation_id: str, at_ms: int = 0, text: str = MESSAGE) -> SpooledCrisis:
    return SpooledCrisis(
        conversation_id=conversation_id,
        language="en",
        skill=Skill.NURSE.value,
        reason="crisis_overdose_poisoning",
        category="overdose_poisoning",
        evidence="took all my pills",
        text=text,
        notices=("call or text 988 now", "our team will contact you as soon as we can"),
        at_ms=at_ms or int(time.time() * 1000),
    )


@pytest.fixture
def spool(tmp_path: Path, key_ring: KeyRing, keys: KeySpace) -> CrisisSpool:
    return CrisisSpool(tmp_path / "spool" / "crisis-spool.jsonl", key_ring, keys.namespace)


async def counted(queue: LiveAgentQueue) -> dict[str, int]:
    """Crisis escalations and handoffs in the operations events, by conversation-free labels."""
    events = await OperationsEvents(queue.redis, queue.keys, queue.seals.key_ring).events(0)
    tally: dict[str, int] = {}
    for event in events:
        if event.kind in (CRISIS_ESCALATION, HANDOFF):
            name = f"{event.kind} {event.labels.get('category') or event.labels.get('priority')}"
            tally[name] = tally.get(name, 0) + 1
    return tally


@pytest.fixture
def queue(redis: Redis, key_ring: KeyRing, keys: KeySpace) -> LiveAgentQueue:
    return LiveAgentQueue(redis, key_ring, keys)


def test_an_entry_is_encrypted_at_rest_and_reads_back(spool: CrisisSpool, key_ring: KeyRing) -> None:
    entry_id = spool.append(crisis("p-enc"))
    raw = spool.path.read_bytes()
    for secret in (b"p-enc", b"ZX4455667788", b"pills", b"call or text 988 now"):
        assert secret not in raw
    assert oct(spool.path.stat().st_mode & 0o777) == "0o600"
    [line] = [json.loads(line) for line in raw.splitlines()]
    assert line["id"] == entry_id and line["sealed"].startswith(f"v1.{key_ring.current_key_id}.")
    [back] = spool.pending()
    assert (back.entry_id, back.conversation_id, back.text) == (entry_id, "p-enc", MESSAGE)


def test_another_key_ring_or_a_moved_envelope_reads_nothing(spool: CrisisSpool, keys: KeySpace) -> None:
    first = spool.append(crisis("p-one"))
    spool.append(crisis("p-two"))
    assert CrisisSpool(spool.path, KeyRing.from_spec(generate_key_ring_spec("k9")), keys.namespace).pending() == []
    lines = [json.loads(line) for line in spool.path.read_bytes().splitlines()]
    lines[1]["sealed"] = lines[0]["sealed"]
    spool.path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert [c.entry_id for c in spool.pending()] == [first], "an envelope copied to another id does not open"


def test_a_torn_last_line_is_skipped_and_the_next_entry_is_not_glued_to_it(spool: CrisisSpool) -> None:
    first = spool.append(crisis("p-first"))
    whole = spool.path.read_bytes()
    with open(spool.path, "ab") as file:
        file.write(whole[: len(whole) // 2])
    assert [c.entry_id for c in spool.pending()] == [first]
    second = spool.append(crisis("p-second"))
    assert [c.entry_id for c in spool.pending()] == [first, second]
    with open(spool.path, "ab") as file:
        file.write(b"\x00garbage{\n")
    assert [c.entry_id for c in spool.pending()] == [first, second]
    spool.mark_done([first])
    spool.compact()
    assert [c.entry_id for c in spool.pending()] == [second]
    aside = spool.path.with_name(spool.path.name + ".corrupt").read_bytes()
    assert aside.count(b"\n") == 2 and b"garbage" in aside


async def test_replay_puts_the_crisis_at_the_head_once_and_empties_the_spool(
    spool: CrisisSpool, queue: LiveAgentQueue
) -> None:
    await queue.enqueue_escalation("waiting-first", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    spool.append(crisis("p-spooled"))
    assert await CrisisReplayer(spool, queue).replay_pending() == 1
    waiting = await queue.waiting(["en"])
    assert [c.conversation_id for c in waiting] == ["p-spooled", "waiting-first"]
    spooled = waiting[0]
    assert (spooled.priority, spooled.skill, spooled.phone_follow_up) == (Priority.CRISIS, Skill.NURSE, True)
    assert await queue.crisis_evidence("p-spooled") == "took all my pills"
    transcript = await queue.transcript("p-spooled")
    assert [(e.role, e.text) for e in transcript] == [
        (TranscriptRole.PATIENT, MESSAGE),
        (TranscriptRole.BOT, "call or text 988 now"),
        (TranscriptRole.BOT, "our team will contact you as soon as we can"),
    ]
    assert spool.pending() == [] and not spool.has_entries()
    assert await CrisisReplayer(spool, queue).replay_pending() == 0
    assert await counted(queue) == {"crisis_escalation overdose_poisoning": 1, "handoff crisis": 1}


async def test_a_replayed_crisis_keeps_its_place_before_crises_that_came_after_it(
    spool: CrisisSpool, queue: LiveAgentQueue
) -> None:
    spool.append(crisis("p-spooled", at_ms=int(time.time() * 1000) - 5_000))
    await queue.enqueue_escalation("p-live", "en", Skill.NURSE, Priority.CRISIS, "crisis_overdose_poisoning",
                                   CrisisFlag("overdose_poisoning", "took all my pills"))
    assert await CrisisReplayer(spool, queue).replay_pending() == 1
    assert [c.conversation_id for c in await queue.waiting(["en"])] == ["p-spooled", "p-live"]
    await queue.enqueue_escalation("p-later", "en", Skill.NURSE, Priority.CRISIS, "crisis_overdose_poisoning",
                                   CrisisFlag("overdose_poisoning", "took all my pills"))
    assert [c.conversation_id for c in await queue.waiting(["en"])] == ["p-spooled", "p-live", "p-later"]


async def test_two_processes_replaying_one_spool_store_each_crisis_once(
    spool: CrisisSpool, redis_server: RedisServer, key_ring: KeyRing, keys: KeySpace, redis: Redis
) -> None:
    for index in range(5):
        spool.append(crisis(f"p-{index}", at_ms=1_700_000_000_000 + index))
    clients = [async_redis(redis_server.url) for _ in range(2)]
    try:
        replayers = [
            CrisisReplayer(CrisisSpool(spool.path, key_ring, keys.namespace), LiveAgentQueue(client, key_ring, keys))
            for client in clients
        ]
        stored = await asyncio.gather(*(replayer.replay_pending() for replayer in replayers))
    finally:
        for client in clients:
            await client.close()
    assert sum(stored) == 5
    assert await counted(LiveAgentQueue(redis, key_ring, keys)) == {"crisis_escalation overdose_poisoning": 5,
                                                                    "handoff crisis": 5}
    queue = LiveAgentQueue(redis, key_ring, keys)
    assert [c.conversation_id for c in await queue.waiting(["en"])] == [f"p-{index}" for index in range(5)]
    for index in range(5):
        assert len(await queue.transcript(f"p-{index}")) == 3
    assert spool.pending() == []


async def test_a_replay_interrupted_after_redis_stored_it_does_not_store_it_again(
    spool: CrisisSpool, queue: LiveAgentQueue
) -> None:
    spool.append(crisis("p-interrupted"))
    [pending] = spool.pending()
    stored = await queue.replay_escalation(
        pending.entry_id,
        pending.conversation_id,
        pending.language,
        CrisisFlag(pending.category, pending.evidence),
        Skill(pending.skill),
        pending.reason,
        pending.transcript(),
        pending.at_ms,
    )
    assert stored is True
    assert spool.pending() == [pending], "the process died before writing 'done' and before counting it"
    assert await counted(queue) == {}
    assert await CrisisReplayer(spool, queue).replay_pending() == 0
    assert await counted(queue) == {"crisis_escalation overdose_poisoning": 1, "handoff crisis": 1}
    assert len(await queue.transcript("p-interrupted")) == 3
    assert [c.conversation_id for c in await queue.waiting(["en"])] == ["p-interrupted"]
    assert spool.pending() == []


async def test_a_crisis_spooled_twice_and_replayed_twice_counts_once_and_one_with_an_agent_is_no_handoff(
    spool: CrisisSpool, queue: LiveAgentQueue
) -> None:
    first = crisis("p-twice")
    spool.append(first)
    again = spool.append(dataclasses.replace(first, text="I took all my pills, hurry"))
    assert await CrisisReplayer(spool, queue).replay_pending() == 2, "two entries: two messages in the transcript"
    spool.append(dataclasses.replace(first, entry_id=again))
    assert await CrisisReplayer(spool, queue).replay_pending() == 0, "the same entry again stores nothing"
    assert await counted(queue) == {"crisis_escalation overdose_poisoning": 1, "handoff crisis": 1}, "one episode"

    await queue.enqueue_escalation("p-with-agent", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("p-with-agent", "amy", ["en"])
    spool.append(crisis("p-with-agent"))
    assert await CrisisReplayer(spool, queue).replay_pending() == 1
    assert await counted(queue) == {"crisis_escalation overdose_poisoning": 2, "handoff crisis": 1}


async def test_replay_with_redis_down_keeps_the_entry(spool: CrisisSpool, key_ring: KeyRing, keys: KeySpace) -> None:
    spool.append(crisis("p-kept"))
    nowhere = async_redis(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        with pytest.raises(RedisConnectionError):
            await CrisisReplayer(spool, LiveAgentQueue(nowhere, key_ring, keys)).replay_pending()
    finally:
        await nowhere.close()
    assert [c.conversation_id for c in spool.pending()] == ["p-kept"]


async def test_the_background_task_replays_once_redis_answers(
    spool: CrisisSpool, queue: LiveAgentQueue
) -> None:
    replayer = CrisisReplayer(spool, queue, lambda language, skill: "en" if language == "pt" else None, 0.1)
    task = asyncio.ensure_future(replayer.run())
    try:
        spool.append(dataclasses.replace(crisis("p-pt"), language="pt"))
        replayer.wake()
        for _ in range(50):
            if await queue.state_of("p-pt") == ConversationState.QUEUED:
                break
            await asyncio.sleep(0.1)
    finally:
        await stop_tasks(task)
    conversation = await queue.conversation("p-pt")
    assert conversation is not None and (conversation.language, conversation.fallback_language) == ("pt", "en")
    assert [c.conversation_id for c in await queue.waiting(["en"])] == ["p-pt"]
