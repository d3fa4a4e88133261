"""The language a patient picks on the chat page (``metadata.language``), on the running stack: it outranks the
language of the message and the browser's locale, a queue-only language goes to its queue as detection would, it
never spares a message the crisis screen, and anything but a code of ``languages/*.yml`` gets 400 and changes
nothing (a crisis message among them still gets the resources)."""

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest_asyncio
from redis.asyncio import Redis

from handoff import CloseOutcome, ConversationState, LiveAgentQueue
from handoff.models import CrisisDisposition
from stack.services import Stack
from tests.e2e.patient_client import Patient, handoff_of, texts
from tests.e2e.training_messages import training_message
from tests.reaping import CATALOG
from tests.redis_contents import snapshot

BAD_CHOICES: list[Any] = ["xx", "EN", "es-MX", "", "e" * 8000, 7, None, ["es"], {"code": "es"}]
CRISES = [("es", "I don't want to be here anymore"), ("en", "me tomé todas las pastillas del frasco"),
          ("fr", "I took all my pills")]


@pytest_asyncio.fixture
async def escalated(stack_queue: LiveAgentQueue) -> AsyncIterator[list[str]]:
    """Conversations a test queued; taken out of their queues afterwards, so later tests' positions hold."""
    conversation_ids: list[str] = []
    yield conversation_ids
    for conversation_id in conversation_ids:
        conversation = await stack_queue.conversation(conversation_id)
        if conversation is not None and conversation.state == ConversationState.QUEUED:
            await stack_queue.claim(conversation_id, "cleanup", [str(conversation.language)])
            disposition = CrisisDisposition.RESOURCES_GIVEN_PATIENT_SAFE if conversation.crisis_category else None
            await stack_queue.close(conversation_id, "cleanup", CloseOutcome.CLOSED, disposition)


async def test_the_language_picked_outranks_the_message_and_the_locale(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    spanish = await patient.say(training_message("en", "ask_hours"), {"locale": "en-US", "language": "es"})
    assert any("lunes a viernes" in text for text in texts(spanish)), spanish
    conversation = await stack_queue.conversation(patient.conversation_id)
    assert conversation is not None and conversation.spoken_language == "es"

    english = await patient.say(training_message("es", "ask_hours"), {"locale": "es-MX", "language": "en"})
    assert any("Monday to Friday" in text for text in texts(english)), english
    conversation = await stack_queue.conversation(patient.conversation_id)
    assert conversation is not None and conversation.spoken_language == "en"


async def test_a_queue_only_language_picked_goes_to_its_queue(
    stack: Stack, http: aiohttp.ClientSession, escalated: list[str]
) -> None:
    patient = Patient(http, stack)
    replies = await patient.say(training_message("en", "greet"), {"locale": "en-US", "language": "fr"})
    escalated.append(patient.conversation_id)
    handoff = handoff_of(replies)
    assert handoff is not None and (handoff["queue"], handoff["reason"]) == ("fr", "language_without_bot_flows")
    assert texts(replies) == [CATALOG.notice("fr", "unsupported_language")], "no English bot reply"


async def test_a_bad_language_value_gets_400_and_changes_nothing(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis
) -> None:
    patient = Patient(http, stack)
    await patient.say(training_message("en", "greet"))
    stored = f"*{patient.conversation_id}*"
    before = await snapshot(redis, stored)
    for choice in BAD_CHOICES:
        status, body = await patient.post(training_message("en", "ask_hours"), {"language": choice})
        assert status == 400, (choice, body)
        assert body["error"].startswith("metadata.language must be one of ar, en, es"), body
        assert "messages" not in body
    assert await snapshot(redis, stored) == before, "the refused messages changed nothing"

    newcomer = Patient(http, stack)
    status, body = await newcomer.post(training_message("en", "greet"), {"language": "klingon"})
    assert status == 400 and "messages" not in body, body
    assert "X-Conversation-Id" not in newcomer.last_headers, "no conversation opened"


async def test_a_choice_never_spares_a_message_the_crisis_screen(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue, escalated: list[str]
) -> None:
    for choice, words in CRISES:
        patient = Patient(http, stack)
        replies = await patient.say(words, {"locale": "en-US", "language": choice})
        escalated.append(patient.conversation_id)
        assert texts(replies)[0] == CATALOG.notice(choice, "crisis_resources"), (choice, words)
        handoff = handoff_of(replies)
        assert handoff is not None and (handoff["priority"], handoff["queue"]) == ("crisis", choice), replies

    patient = Patient(http, stack)
    await patient.say(training_message("en", "greet"))
    status, body = await patient.post("I took all my pills", {"language": "klingon"})
    assert status == 400 and body["error"].startswith("metadata.language must be one of"), body
    escalated.append(patient.conversation_id)
    assert texts(body["messages"])[0] == CATALOG.notice("en", "crisis_resources"), "the resources all the same"
    handoff = handoff_of(body["messages"])
    assert handoff is not None and handoff["priority"] == "crisis"
    conversation = await stack_queue.conversation(patient.conversation_id)
    assert conversation is not None and conversation.state == ConversationState.QUEUED
