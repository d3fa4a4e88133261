"""The agent's typing signal (``POST /api/conversations/{id}/typing``) against a real Redis: only the agent who
holds the conversation may send one, at most one per interval, and a signal is no answer: the transcript, the
outbox and the operations figures stay as they were, and the unanswered-assignment deadline still runs out."""

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from handoff import AuditLog, ConversationState, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.presence import AgentPresence
from handoff.settings import AgentAccess
from tests.console_clients import console_app, sign_in
from tests.reaping import agent_left, until_done
from tests.redis_contents import snapshot

TYPING = "/api/conversations/{}/typing"


async def test_only_the_agent_who_holds_the_conversation_signals_typing(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, keys: KeySpace, agents_file: Path
) -> None:
    await queue.enqueue_escalation("p-typing", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    signals = keys.patient_signals("p-typing")
    async with TestClient(TestServer(console_app(queue, audit, redis, keys, agents_file))) as client:
        amy, sam, luis = [await sign_in(client, agent) for agent in ("amy", "sam", "luis")]
        assert (await client.post(TYPING.format("p-typing"))).status == 401, "no token"
        waiting = await client.post(TYPING.format("p-typing"), headers=amy)
        assert waiting.status == 403, "nobody holds a waiting conversation"
        assert (await client.post("/api/conversations/p-typing/claim", headers=amy)).status == 200
        for other in (sam, luis):
            refused = await client.post(TYPING.format("p-typing"), headers=other)
            assert refused.status == 403, "not theirs: a supervisor's or another agent's"
            assert "not with this agent" in (await refused.json())["error"]
        assert (await client.post(TYPING.format("nobody"), headers=amy)).status == 404
        assert (await client.post(TYPING.format("bad%20id!"), headers=amy)).status == 400
        assert await redis.exists(signals) == 0, "no refusal sent a signal"

        sent = await client.post(TYPING.format("p-typing"), headers=amy)
        assert (sent.status, await sent.json()) == (202, {"status": "sent"})
        again = await client.post(TYPING.format("p-typing"), headers=amy)
        assert again.status == 429 and again.headers["Retry-After"] == "2", "throttled"
        [(_, fields)] = await redis.xrange(signals)
        conversation = await queue.conversation("p-typing")
        assert conversation is not None
        assert fields == {b"kind": b"typing", b"agent": b"amy", b"episode": str(conversation.episode).encode()}
        assert 0 < await redis.pttl(signals) <= 60_000, "a signal is short-lived"


async def test_typing_is_no_record_and_no_answer(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, keys: KeySpace, key_ring: KeyRing, agents_file: Path
) -> None:
    await queue.enqueue_escalation("p-silent", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.record("p-silent", TranscriptRole.PATIENT, "is anyone there?")
    access = AgentAccess(answer_timeout_seconds=1)
    async with TestClient(TestServer(console_app(queue, audit, redis, keys, agents_file, access))) as client:
        amy = await sign_in(client, "amy")
        assert (await client.post("/api/conversations/p-silent/claim", headers=amy)).status == 200
        transcript = await queue.transcript("p-silent")
        operations = await snapshot(redis, keys.key("operations*"))
        assert (await client.post(TYPING.format("p-silent"), headers=amy)).status == 202

    assert await queue.transcript("p-silent") == transcript, "not in the transcript"
    claimed = await queue.conversation("p-silent")
    assert claimed is not None and claimed.agent_id == "amy"
    assert await queue.agent_messages("p-silent", claimed.episode) == [], "not in the patient's outbox"
    assert await snapshot(redis, keys.key("operations*")) == operations, "no first response, no event at all"
    assert await redis.zscore(keys.unanswered_assignments(), "p-silent") is not None
    presence = AgentPresence(redis, keys, LiveAgentQueue(redis, key_ring, keys), 3600, agent_left)
    assert await until_done(lambda: presence.reap_unanswered(audit)) == ["p-silent"], (
        "typing did not answer the patient: the deadline ran out")
    conversation = await queue.conversation("p-silent")
    assert conversation is not None and conversation.state == ConversationState.QUEUED
