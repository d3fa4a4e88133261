"""A crisis alert that nobody acknowledges reaches the supervisors (invariant 11), against a real Redis.

The alert waits for a person: the agent who has the conversation acknowledges it, or, once it is
escalated, a supervisor. Escalation happens once however many console processes run, is audited per
supervisor present, and stops as soon as someone acknowledges the crisis or closes its episode.
"""

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from handoff import AuditLog, CloseOutcome, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.agent_sessions import AgentSessions, LoginThrottle
from handoff.agents import Agent, AgentDirectory
from handoff.console import create_console_app
from handoff.console.api import CRISIS_ALERTS_KEY
from handoff.crisis_alerts import CrisisAlerts
from handoff.errors import InvalidTransition, NotAssignedAgent
from handoff.models import CrisisDisposition, CrisisFlag
from handoff.presence import AgentPresence
from handoff.settings import AgentAccess
from tests.conftest import AGENT_PASSWORDS
from tests.reaping import CATALOG, agent_left, until_done

TRAINED = date.today() - timedelta(days=10)
CRISIS = CrisisFlag("violence_abuse", "he hits me every night")


def staff(agent_id: str, role: str, trained: date = TRAINED) -> Agent:
    return Agent(agent_id, agent_id.title(), role, ("en",), ("general",), "unused", trained)


DIRECTORY = AgentDirectory([
    staff("amy", "agent"),
    staff("luis", "agent"),
    staff("sam", "supervisor"),
    staff("sue", "supervisor"),
    staff("stale", "supervisor", date.today() - timedelta(days=400)),
])
"""Sam is at his console; Sue is not; Stale's training lapsed."""


def alerts_on(redis: Redis, key_ring: KeyRing, keys: KeySpace, timeout_seconds: int = 1) -> CrisisAlerts:
    """The crisis alerts of one console process on ``redis``."""
    queue = LiveAgentQueue(redis, key_ring, keys)
    presence = AgentPresence(redis, keys, queue, 60, agent_left)
    return CrisisAlerts(queue, presence, DIRECTORY, AgentAccess(crisis_ack_timeout_seconds=timeout_seconds))


async def escalation_records(audit: AuditLog) -> list[tuple[str, str, str, str]]:
    return [(e.actor, e.action, e.conversation, e.source) for e in await audit.entries()
            if e.action.startswith("crisis_escalated")]


async def test_a_crisis_the_agent_does_not_acknowledge_reaches_every_supervisor_present(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    alerts = alerts_on(redis, key_ring, keys)
    await alerts.presence.heartbeat("sam")
    await alerts.presence.heartbeat("stale")
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("p1", "amy", ["en"])
    await queue.enqueue_escalation("p1", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_violence_abuse",
                                   CRISIS)
    assert await alerts.unacknowledged(["p1", "nobody"]) == {"p1"}
    assert await alerts.escalate_overdue(audit) == [], "not before the timeout"

    assert await until_done(lambda: alerts.escalate_overdue(audit)) == ["p1"]
    assert await escalation_records(audit) == [("crisis-escalator", "crisis_escalated", "p1", "sam")]
    [seen] = await alerts.escalated()
    assert (seen.conversation_id, seen.category, seen.state, seen.agent_id) == ("p1", "violence_abuse",
                                                                                 "WITH_AGENT", "amy")
    assert "hits" not in repr(seen.to_json()), "supervisors see where the crisis is, not what was written"
    assert await alerts.escalate_overdue(audit) == [], "escalated once"

    with pytest.raises(NotAssignedAgent):
        await alerts.acknowledge("p1", staff("luis", "agent"), audit.prepare("luis", "acknowledge_crisis", "p1", "-"))
    sam = staff("sam", "supervisor")
    await alerts.acknowledge("p1", sam, audit.prepare("sam", "acknowledge_crisis", "p1", "-"))
    assert await alerts.escalated() == [] and await alerts.unacknowledged(["p1"]) == set()
    with pytest.raises(InvalidTransition):
        await alerts.acknowledge("p1", staff("amy", "agent"), audit.prepare("amy", "acknowledge_crisis", "p1", "-"))
    acknowledgements = [(e.actor, e.conversation) for e in await audit.entries() if e.action == "acknowledge_crisis"]
    assert acknowledgements == [("sam", "p1")], "a refused acknowledgement writes nothing"


async def test_a_crisis_acknowledged_in_time_never_reaches_the_supervisors(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    alerts = alerts_on(redis, key_ring, keys)
    await alerts.presence.heartbeat("sam")
    await queue.enqueue_escalation("p1", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_violence_abuse",
                                   CRISIS)
    with pytest.raises(NotAssignedAgent):
        await alerts.acknowledge("p1", staff("sam", "supervisor"), audit.prepare("sam", "acknowledge_crisis", "p1",
                                                                                 "-"))
    await queue.claim("p1", "amy", ["en"])
    await alerts.acknowledge("p1", staff("amy", "agent"), audit.prepare("amy", "acknowledge_crisis", "p1", "-"))
    await asyncio.sleep(1.1)
    assert await alerts.escalate_overdue(audit) == []
    assert await escalation_records(audit) == []


async def test_a_queued_crisis_nobody_takes_is_escalated_and_a_closed_one_is_dropped(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    alerts = alerts_on(redis, key_ring, keys)
    for conversation_id in ("waiting", "closed"):
        await queue.enqueue_escalation(conversation_id, "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS,
                                       "crisis_violence_abuse", CRISIS)
    await queue.claim("closed", "amy", ["en"])
    await queue.close("closed", "amy", CloseOutcome.CLOSED, CrisisDisposition.PHONE_FOLLOW_UP_DONE)

    assert await until_done(lambda: alerts.escalate_overdue(audit)) == ["waiting"]
    assert await escalation_records(audit) == [
        ("crisis-escalator", "crisis_escalated_no_supervisor_present", "waiting", "-")
    ], "with no supervisor at a console, the escalation still stands and says so"
    assert [(c.conversation_id, c.state, c.agent_id) for c in await alerts.escalated()] == [
        ("waiting", "QUEUED", None)
    ]
    assert await alerts.unacknowledged(["closed"]) == set(), "a closed crisis episode is not an open alert"


async def test_two_escalating_consoles_and_an_acknowledgement_at_the_same_moment(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, other_process: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    here, there = alerts_on(redis, key_ring, keys), alerts_on(other_process, key_ring, keys)
    await here.presence.heartbeat("sam")
    await here.presence.heartbeat("sue")
    conversations = [f"crisis-{index}" for index in range(10)]
    for conversation_id in conversations:
        await queue.enqueue_escalation(conversation_id, "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS,
                                       "crisis_violence_abuse", CRISIS)
        await queue.claim(conversation_id, "amy", ["en"])
    await asyncio.sleep(1.1)
    amy = staff("amy", "agent")
    acknowledged = conversations[::2]
    first, second, *_ = await asyncio.gather(
        here.escalate_overdue(audit),
        there.escalate_overdue(audit),
        *(here.acknowledge(c, amy, audit.prepare("amy", "acknowledge_crisis", c, "-")) for c in acknowledged),
    )
    assert not set(first) & set(second), "no crisis escalated twice"
    escalated = set(first) | set(second)
    assert escalated >= set(conversations[1::2]), "every unacknowledged crisis escalated"
    records = await escalation_records(audit)
    assert sorted(records) == sorted(
        ("crisis-escalator", "crisis_escalated", c, supervisor) for c in escalated for supervisor in ("sam", "sue")
    )
    assert {c.conversation_id for c in await here.escalated()} == set(conversations[1::2]), (
        "an acknowledged crisis leaves the supervisors' list, whichever came first"
    )


async def test_a_crisis_whose_agent_left_waits_again_for_the_next_agent(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    alerts = alerts_on(redis, key_ring, keys)
    await queue.enqueue_escalation("p1", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_violence_abuse",
                                   CRISIS)
    await queue.claim("p1", "amy", ["en"])
    await alerts.acknowledge("p1", staff("amy", "agent"), audit.prepare("amy", "acknowledge_crisis", "p1", "-"))
    assert await alerts.unacknowledged(["p1"]) == set()
    await alerts.presence.offline("amy")
    assert await alerts.presence.reap(audit) == ["p1"]
    assert await alerts.unacknowledged(["p1"]) == {"p1"}, "nobody has it in hand any more"


async def test_the_console_api_acknowledges_and_shows_escalations_to_supervisors_only(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, key_ring: KeyRing, keys: KeySpace, agents_file: Path
) -> None:
    access = AgentAccess(crisis_ack_timeout_seconds=1)
    app = create_console_app(
        queue, AgentSessions(redis, keys, AgentDirectory.from_file(agents_file), access), audit,
        LoginThrottle(redis, keys, access), CATALOG,
    )
    async with TestClient(TestServer(app)) as client:
        amy, luis, sam = [await sign_in(client, agent_id) for agent_id in ("amy", "luis", "sam")]
        await client.post("/api/presence", headers=sam)
        await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
        claimed = await client.post("/api/conversations/p1/claim", headers=amy)
        assert (await claimed.json())["answer_within_seconds"] == access.answer_timeout_seconds
        await queue.enqueue_escalation("p1", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_violence_abuse",
                                       CRISIS)
        [alert] = (await (await client.get("/api/alerts", headers=amy)).json())["alerts"]
        assert (alert["conversation"], alert["acknowledged"]) == ("p1", False)
        page = await (await client.get("/api/conversations/p1/transcript", headers=amy)).json()
        assert page["conversation"]["crisis_alert_pending"] is True

        for path, headers, status in [
            ("/api/conversations/p$1/acknowledge-crisis", amy, 400),
            ("/api/conversations/nobody/acknowledge-crisis", amy, 404),
            ("/api/conversations/p1/acknowledge-crisis", luis, 403),
            ("/api/conversations/p1/acknowledge-crisis", sam, 403),
            ("/api/conversations/p1/acknowledge-crisis", {}, 401),
        ]:
            response = await client.post(path, headers=headers)
            assert response.status == status, (path, await response.text())
            assert "error" in await response.json()
        assert await app[CRISIS_ALERTS_KEY].unacknowledged(["p1"]) == {"p1"}, "a refusal changed nothing"
        assert (await client.get("/api/escalations", headers=amy)).status == 403

        assert await until_done(lambda: app[CRISIS_ALERTS_KEY].escalate_overdue(audit)) == ["p1"]
        listed = (await (await client.get("/api/escalations", headers=sam)).json())["escalations"]
        assert [(c["conversation_id"], c["state"], c["agent_id"]) for c in listed] == [("p1", "WITH_AGENT", "amy")]
        assert (await client.post("/api/conversations/p1/acknowledge-crisis", headers=sam)).status == 200
        assert (await client.post("/api/conversations/p1/acknowledge-crisis", headers=amy)).status == 409
        assert (await (await client.get("/api/escalations", headers=sam)).json())["escalations"] == []
        [alert] = (await (await client.get("/api/alerts", headers=amy)).json())["alerts"]
        assert alert["acknowledged"] is True
    trail = [(e.actor, e.action, e.conversation) for e in await audit.entries()]
    assert ("sam", "acknowledge_crisis", "p1") in trail and ("sam", "list_escalations", "-") in trail
    assert ("amy", "forbidden_view_escalations", "-") in trail
    assert [entry for entry in trail if entry[1] == "acknowledge_crisis"] == [("sam", "acknowledge_crisis", "p1")]


async def sign_in(client: TestClient, agent_id: str) -> dict[str, str]:
    response = await client.post("/api/login", json={"agent_id": agent_id, "password": AGENT_PASSWORDS[agent_id]})
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}
