"""Capacity and auto-assignment against a real Redis: each waiting conversation goes to the longest-idle available
agent with its language, its skill and room under its capacity; never twice, never past a capacity, however many
console processes assign at once. And the queue order behind it: priority, then first come, with conversations
sent back to the head first among their priority, still first come among themselves.
"""

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from handoff import AuditLog, CloseOutcome, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.agents import Agent, AgentDirectory, AgentDirectoryError, read_agents
from handoff.assignment import AutoAssigner
from handoff.console.api import ASSIGNER_KEY
from handoff.errors import AtCapacity
from handoff.models import CrisisFlag
from handoff.presence import AgentPresence, PresenceStatus
from handoff.settings import AgentAccess, SettingsError
from tests.console_clients import console_app, sign_in
from tests.reaping import agent_left

TRAINED = date.today() - timedelta(days=10)
EMERGENCY = CrisisFlag("medical_emergency", "chest pain and my arm is numb")


def staff(agent_id: str, languages: tuple[str, ...] = ("en",), skills: tuple[str, ...] = ("general",),
          capacity: int | None = None, role: str = "agent", trained: date = TRAINED) -> Agent:
    return Agent(agent_id, agent_id.title(), role, languages, skills, "unused", trained, capacity)


DIRECTORY = AgentDirectory([
    staff("ana", capacity=2),
    staff("ben", capacity=1),
    staff("cleo", capacity=1),
    staff("nora", skills=("nurse",), role="nurse"),
    staff("lucia", languages=("es",)),
    staff("al"),
    staff("sam", role="supervisor"),
    staff("stale", trained=date.today() - timedelta(days=400)),
    staff("off"),
])
"""Al says he is away; Sam is a supervisor; Stale's training lapsed; Off's console does not beat."""


def assigner_on(redis: Redis, key_ring: KeyRing, keys: KeySpace, directory: AgentDirectory = DIRECTORY
                ) -> AutoAssigner:
    queue = LiveAgentQueue(redis, key_ring, keys)
    return AutoAssigner(queue, AgentPresence(redis, keys, queue, 60, agent_left), directory, AgentAccess())


async def holders(queue: LiveAgentQueue, conversation_ids: list[str]) -> dict[str, str | None]:
    found = {}
    for conversation_id in conversation_ids:
        conversation = await queue.conversation(conversation_id)
        assert conversation is not None
        found[conversation_id] = conversation.agent_id
    return found


async def test_requeued_conversations_go_first_in_their_priority_and_stay_first_come_among_themselves(
    queue: LiveAgentQueue,
) -> None:
    for conversation_id in ("zoe", "adam", "waiting", "late"):
        await queue.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("adam", "amy", ["en"])
    await queue.claim("zoe", "amy", ["en"])
    assert await queue.requeue("adam", "amy", agent_left)
    assert await queue.requeue("zoe", "amy", agent_left)
    order = [c.conversation_id for c in await queue.waiting(["en"])]
    assert order == ["zoe", "adam", "waiting", "late"], "sent back: first, and first come among themselves"

    await queue.enqueue_escalation("crisis", "en", Skill.NURSE, Priority.CRISIS, "crisis_medical_emergency",
                                   EMERGENCY)
    await queue.enqueue_escalation("adam", "en", Skill.GENERAL, Priority.URGENT, "patient_request")
    await queue.enqueue_escalation("urgent", "en", Skill.GENERAL, Priority.URGENT, "patient_request")
    order = [c.conversation_id for c in await queue.waiting(["en"])]
    assert order == ["crisis", "adam", "urgent", "zoe", "waiting", "late"], "raised, it keeps its head place"
    assert await queue.position("zoe") == 4


async def test_a_burst_of_escalations_in_one_millisecond_keeps_first_come_order(
    queue: LiveAgentQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = 1_790_000_000_000
    monkeypatch.setattr("handoff.escalations.now_ms", lambda: frozen)
    arrivals = ["zz", "mm", "aa", "yy", "bb"]
    for conversation_id in arrivals:
        await queue.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert [c.conversation_id for c in await queue.waiting(["en"])] == arrivals, "not ordered by id"
    assert [await queue.position(c) for c in arrivals] == [1, 2, 3, 4, 5]
    for conversation_id in ("yy", "zz"):
        await queue.claim(conversation_id, "amy", ["en"])
    for conversation_id in ("yy", "zz"):
        assert await queue.requeue(conversation_id, "amy", agent_left)
    order = [c.conversation_id for c in await queue.waiting(["en"])]
    assert order == ["zz", "yy", "mm", "aa", "bb"], "sent back to the head, still in the order they came"
    conversations = [await queue.conversation(conversation_id) for conversation_id in arrivals]
    assert [c.enqueued_at_ms for c in conversations if c] == [frozen + offset for offset in range(5)], (
        "a tie costs at most a millisecond per message")


async def test_a_burst_across_queues_in_one_millisecond_keeps_first_come_order_across_them(
    queue: LiveAgentQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = 1_790_000_000_000
    monkeypatch.setattr("handoff.escalations.now_ms", lambda: frozen)
    arrivals = [("en-1", "en"), ("es-1", "es"), ("en-2", "en"), ("vi-1", "vi"), ("es-2", "es")]
    for conversation_id, language in arrivals:
        await queue.enqueue_escalation(conversation_id, language, Skill.GENERAL, Priority.NORMAL, "patient_request")
    order = [c.conversation_id for c in await queue.waiting(["en", "es", "vi"])]
    assert order == [conversation_id for conversation_id, _ in arrivals], "an agent of three languages: first come"
    assert [await queue.position(c) for c in ("en-2", "es-2", "vi-1")] == [2, 2, 1], "places within each queue"


async def test_each_waiting_conversation_goes_to_the_longest_idle_available_agent_who_can_take_it(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    assigner = assigner_on(redis, key_ring, keys)
    for agent_id in ("ana", "ben", "nora", "lucia", "al", "sam", "stale"):
        await assigner.presence.heartbeat(agent_id)
    await assigner.presence.set_status("al", PresenceStatus.AWAY)
    general = ["g1", "g2", "g3", "g4"]
    for conversation_id in general:
        await queue.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.enqueue_escalation("n1", "en", Skill.NURSE, Priority.NORMAL, "clinical_question")
    await queue.enqueue_escalation("e1", "es", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.enqueue_escalation("k1", "en", Skill.NURSE, Priority.CRISIS, "crisis_medical_emergency", EMERGENCY)

    assigned = await assigner.assign_waiting(audit)
    assert assigned == ["k1", "g1", "g2", "g3", "n1", "e1"], "queue order: the crisis first"
    assert await holders(queue, [*general, "n1", "e1", "k1"]) == {
        "k1": "nora", "g1": "ana", "g2": "ben", "g3": "ana", "g4": None, "n1": "nora", "e1": "lucia",
    }, "longest idle first; skill and language match; Ben's capacity is 1, Ana's 2; nobody else gets any"
    assert [c.conversation_id for c in await queue.waiting(["en"])] == ["g4"]
    records = [(e.actor, e.action, e.conversation, e.source) for e in await audit.entries()]
    assert sorted(records) == sorted(("auto-assigner", "auto_assigned", conversation_id, agent_id)
                                     for conversation_id, agent_id in [("k1", "nora"), ("g1", "ana"), ("g2", "ben"),
                                                                       ("g3", "ana"), ("n1", "nora"), ("e1", "lucia")])
    assert await assigner.assign_waiting(audit) == [], "everyone who could take g4 is full"

    await queue.send_agent_message("g1", "ana", "Hi, this is Ana.")
    await queue.close("g1", "ana", CloseOutcome.CLOSED)
    await assigner.presence.heartbeat("cleo")
    assert await assigner.assign_waiting(audit) == ["g4"]
    assert (await holders(queue, ["g4"]))["g4"] == "cleo", "Cleo, never given one, waited longer than Ana"
    loads = {load.agent_id: (load.presence.value, load.conversations, load.capacity)
             for load in await assigner.loads()}
    assert loads["ana"] == ("available", 1, 2) and loads["al"] == ("away", 0, 3)
    assert loads["off"] == ("offline", 0, 3) and loads["cleo"] == ("available", 1, 1)


async def test_two_consoles_assigning_at_once_never_double_assign_or_overfill(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, other_process: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    directory = AgentDirectory([staff(agent_id, capacity=2) for agent_id in ("ana", "ben", "cleo")])
    here, there = assigner_on(redis, key_ring, keys, directory), assigner_on(other_process, key_ring, keys, directory)
    for agent_id in ("ana", "ben", "cleo"):
        await here.presence.heartbeat(agent_id)
    conversations = [f"c{index:02}" for index in range(20)]
    for conversation_id in conversations:
        await queue.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")

    first, second = await asyncio.gather(here.assign_waiting(audit), there.assign_waiting(audit))
    assert not set(first) & set(second), "no conversation assigned twice"
    assert sorted(first + second) == conversations[:6], "six places, the six longest waiting"
    for agent_id in ("ana", "ben", "cleo"):
        assert len(await queue.assigned_to(agent_id)) == 2, agent_id
    assert len([e for e in await audit.entries() if e.action == "auto_assigned"]) == 6
    with pytest.raises(AtCapacity):
        await queue.claim("c10", "ana", ["en"], ["general"], capacity=2)
    await queue.claim("c10", "ana", ["en"], ["general"])
    assert len(await queue.assigned_to("ana")) == 3, "pull-claim stays: an agent may still take one from its queue"


async def test_the_console_api_takes_presence_status_and_refuses_bad_input_changing_nothing(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, keys: KeySpace, agents_file: Path
) -> None:
    app = console_app(queue, audit, redis, keys, agents_file)
    async with TestClient(TestServer(app)) as client:
        amy = await sign_in(client, "amy")
        answer = await client.post("/api/presence", headers=amy, json={"status": "away"})
        assert (await answer.json())["status"] == "away"
        await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
        assert await app[ASSIGNER_KEY].assign_waiting(audit) == [], "away: no new conversations"
        for body in ({"status": "offline"}, {"status": 1}, [], {"state": "available"}):
            response = await client.post("/api/presence", headers=amy, json=body)
            assert response.status == 400 and "error" in await response.json(), body
        assert (await (await client.post("/api/presence", headers=amy)).json())["status"] == "away"
        assert (await client.post("/api/presence", json={"status": "available"})).status == 401
        await client.post("/api/presence", headers=amy, json={"status": "available"})
        assert await app[ASSIGNER_KEY].assign_waiting(audit) == ["p1"]
        mine = (await (await client.get("/api/mine", headers=amy)).json())["conversations"]
        assert [c["conversation_id"] for c in mine] == ["p1"]
    trail = [(e.actor, e.action) for e in await audit.entries() if e.action.startswith("presence")]
    assert trail == [("amy", "presence_away"), ("amy", "presence_available")]


def test_capacity_and_auto_assignment_settings_refuse_nonsense(tmp_path: Path) -> None:
    assert AgentAccess.from_env({"AGENT_AUTO_ASSIGN": "false", "AGENT_DEFAULT_CAPACITY": "5"}) == AgentAccess(
        default_capacity=5, auto_assign=False)
    for environment in ({"AGENT_AUTO_ASSIGN": "sometimes"}, {"AGENT_DEFAULT_CAPACITY": "0"}):
        with pytest.raises(SettingsError):
            AgentAccess.from_env(environment)
    directory = tmp_path / "agents.yml"
    for capacity in ("0", "two", "true", "1.5"):
        directory.write_text(f"agents:\n  - {{id: a, languages: [en], password_hash: x, capacity: {capacity}}}\n")
        with pytest.raises(AgentDirectoryError, match="capacity"):
            read_agents(directory)
    directory.write_text("agents:\n  - {id: a, languages: [en], password_hash: x, capacity: 4}\n")
    assert read_agents(directory)[0].capacity == 4

