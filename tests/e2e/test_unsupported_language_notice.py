"""A patient writing a language without bot flows is promised a person only once the escalation is stored
(invariant 10): when the enqueue fails, the patient hears no promise and the transcript holds none."""

import aiohttp

from handoff import ConversationState, LiveAgentQueue
from languages import LanguageCatalog
from stack.services import Stack
from tests.e2e.patient_client import Patient, handoff_of, texts

FRENCH = "Bonjour, je voudrais prendre rendez-vous avec un médecin pour mon fils"
PROMISE = LanguageCatalog.load().notice("fr", "unsupported_language")


async def test_no_person_is_promised_when_the_escalation_is_not_stored(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    assert texts(await patient.say("hi")), "the bot greets in English"
    queue_key = stack_queue.keys.queue("fr")
    saved = await stack_queue.redis.dump(queue_key)
    await stack_queue.redis.delete(queue_key)
    await stack_queue.redis.set(queue_key, "not a queue")  # the enqueue script's ZADD now fails
    try:
        status, replies = await patient.post(FRENCH)
    finally:
        await stack_queue.redis.delete(queue_key)
        if saved is not None:
            await stack_queue.redis.restore(queue_key, 0, saved)
    assert status == 503, replies
    assert PROMISE not in str(replies), "a person was promised though nothing was stored"
    transcript = [entry.text for entry in await stack_queue.transcript(patient.conversation_id)]
    assert FRENCH in transcript and PROMISE not in transcript


async def test_the_promise_follows_the_stored_escalation(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    replies = await patient.say(FRENCH)
    handoff = handoff_of(replies)
    assert handoff is not None and (handoff["queue"], handoff["reason"]) == ("fr", "language_without_bot_flows")
    assert PROMISE in texts(replies)
    assert replies.index(next(r for r in replies if r.get("text") == PROMISE)) > replies.index(
        next(r for r in replies if handoff_of([r]) is not None)
    ), "the promise comes after the stored escalation"
    conversation = await stack_queue.conversation(patient.conversation_id)
    assert conversation is not None and conversation.state == ConversationState.QUEUED
    transcript = [entry.text for entry in await stack_queue.transcript(patient.conversation_id)]
    assert transcript == [FRENCH, PROMISE]
