"""A patient who asks for a person of another language keeps their own language with the bot, and the task
waits in the queue of the language asked for, with the reason on it.

An agent who does not speak the language asked for cannot take the task, and writing on in the patient's
own language while waiting never moves it back. A language named in passing routes nowhere."""

import aiohttp
import pytest

from handoff import ConversationState, LiveAgentQueue
from stack.services import Stack
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient, Patient, handoff_of, texts

REASON = "language_concordant_request"


@pytest.mark.parametrize(
    ("request_text", "queue", "patient_language", "announced", "waiting_text", "in_line", "other_agent"),
    [
        ("is there a Chinese-speaking doctor", "zh", "en", "who speaks 中文",
         "ok thanks, how long is the wait for the doctor today", "in line", "amy"),
        ("my mother only speaks Korean", "ko", "en", "who speaks 한국어",
         "thank you, she is right here with me", "in line", "amy"),
        ("¿tienen un médico que hable vietnamita?", "vi", "es", "que habla Tiếng Việt",
         "gracias, aqui espero con mi mama", "en la fila", "luis"),
    ],
)
async def test_the_task_waits_in_the_requested_languages_queue_while_the_bot_keeps_the_patients_language(
    stack: Stack,
    http: aiohttp.ClientSession,
    stack_queue: LiveAgentQueue,
    request_text: str,
    queue: str,
    patient_language: str,
    announced: str,
    waiting_text: str,
    in_line: str,
    other_agent: str,
) -> None:
    patient = Patient(http, stack)
    replies = await patient.say(request_text)
    handoff = handoff_of(replies)
    assert handoff is not None, replies
    assert (handoff["queue"], handoff["reason"], handoff["priority"]) == (queue, REASON, "normal")
    assert any(announced in text for text in texts(replies)), texts(replies)
    conversation = await stack_queue.conversation(patient.sender)
    assert conversation is not None
    assert (conversation.language, conversation.patient_language, conversation.reason) == (
        queue, patient_language, REASON
    )
    assert patient.sender in [waiting.conversation_id for waiting in await stack_queue.waiting([queue])]
    assert patient.sender not in [waiting.conversation_id for waiting in await stack_queue.waiting([patient_language])]

    later = await patient.say(waiting_text)
    assert handoff_of(later) is None
    assert any(in_line in text for text in texts(later)), "told where they stand, in their own language"
    still = await stack_queue.conversation(patient.sender)
    assert still is not None and still.state == ConversationState.QUEUED
    assert (still.language, still.patient_language) == (queue, patient_language), "the task did not move"

    agent = AgentClient(http, stack)
    await agent.login(other_agent, AGENT_PASSWORDS[other_agent])
    status, _ = await agent.call("POST", f"/api/conversations/{patient.sender}/claim")
    assert status != 200, "only an agent who speaks the language asked for takes the task"
    claimed = await stack_queue.conversation(patient.sender)
    assert claimed is not None and claimed.state == ConversationState.QUEUED


@pytest.mark.parametrize(
    "text", ["are french fries healthy", "my chinese food order is late", "how do you say thank you in korean"]
)
async def test_a_language_named_in_passing_routes_to_no_other_languages_queue(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue, text: str
) -> None:
    patient = Patient(http, stack)
    replies = await patient.say(text)
    handoff = handoff_of(replies)
    assert handoff is None or (handoff["queue"] == "en" and handoff["reason"] != REASON), replies
    conversation = await stack_queue.conversation(patient.sender)
    assert conversation is not None and conversation.spoken_language == "en"
    assert conversation.reason != REASON and conversation.patient_language is None
