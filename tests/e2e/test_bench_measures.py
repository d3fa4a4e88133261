"""What ``make bench`` measures is what it says: real turns, real escalations told on an agent's console socket,
real pushes, real queue cycles (figures are printed by the bench, never asserted here)."""

import aiohttp
from redis.asyncio import Redis

from evaluation.handoff_latency import REPLIES_ONE_AT_A_TIME, REPLIES_PER_CONVERSATION, measure_handoff
from evaluation.queue_cycles import AGENT_MESSAGE, measure_queue_cycles
from evaluation.turn_load import measure_turns
from handoff import ConversationState, KeyRing, KeySpace, LiveAgentQueue, TranscriptRole
from stack.services import Stack
from tests.conftest import AGENT_PASSWORDS


async def test_turn_load_sends_every_turn_through_the_patient_channel(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    base = stack.patient_webhook_url.split("/webhooks/")[0]
    figures = await measure_turns(http, base, "patient", conversations=2, turns=3)
    assert figures.turns == 6 and len(figures.latencies_ms) == 6
    assert all(latency > 0 for latency in figures.latencies_ms)


async def test_handoff_measure_escalates_every_conversation_and_receives_every_reply_in_order(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue, empty_english_queue: None
) -> None:
    figures = await measure_handoff(http, stack, 3, "amy", AGENT_PASSWORDS["amy"])
    assert len(figures.escalation_turn_ms) == 3 and figures.escalated == 3
    assert len(figures.send_to_seen_ms) == 3, "the agent's console socket told every escalation"
    assert len(figures.enqueue_to_event_ms) == 3 and len(figures.queue_poll_ms) > 0
    assert len(figures.reply_to_push_ms) == len(figures.reply_paced_to_push_ms) == 3 * REPLIES_PER_CONVERSATION
    assert len(figures.reply_alone_to_push_ms) == REPLIES_ONE_AT_A_TIME
    assert await stack_queue.waiting(["en"]) == [], "every measured conversation was claimed and closed"


async def test_queue_cycles_are_whole_cycles(redis: Redis, key_ring: KeyRing, keys: KeySpace) -> None:
    queue = LiveAgentQueue(redis, key_ring, keys)
    cycles = await measure_queue_cycles(queue, cycles=8, concurrency=2)
    assert cycles.per_second > 0 and len(cycles.conversations) == 8
    for conversation_id in cycles.conversations:
        conversation = await queue.conversation(conversation_id)
        assert conversation is not None and conversation.state is ConversationState.CLOSED
        entries = await queue.transcript(conversation_id)
        assert [(entry.role, entry.text) for entry in entries] == [(TranscriptRole.AGENT, AGENT_MESSAGE)]
    assert await queue.waiting(["en"]) == []
