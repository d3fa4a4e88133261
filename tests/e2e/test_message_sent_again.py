"""A patient message sent again with its id (its answer lost on the way back) on the real stack: the patient gets
an answer again, and the transcript the agent reads holds the message and the bot's answer once; while waiting
on a person, the answer carries the episode's push token again (the lost answer may have been the escalation's)."""

import aiohttp

from handoff import LiveAgentQueue, TranscriptRole
from stack.services import Stack
from tests.e2e.patient_client import Patient, handoff_of, texts
from tests.e2e.training_messages import training_message

HOURS = "Monday to Friday"


async def test_a_message_sent_again_to_the_bot_is_answered_again_and_stored_once_with_its_answer(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    await patient.say(training_message("en", "greet"))
    for _ in range(2):
        status, replies = await patient.post(training_message("en", "ask_hours"), message_id="hours-message-0001")
        assert status == 200 and any(HOURS in text for text in texts(replies)), replies
    status, replies = await patient.post(training_message("en", "ask_hours"), message_id="hours-message-0002")
    assert status == 200 and any(HOURS in text for text in texts(replies)), "a new message is answered and stored"

    transcript = await stack_queue.transcript(patient.conversation_id)
    roles = [(entry.role, HOURS in entry.text) for entry in transcript]
    assert roles == [(TranscriptRole.PATIENT, False), (TranscriptRole.BOT, False),
                     (TranscriptRole.PATIENT, False), (TranscriptRole.BOT, True),
                     (TranscriptRole.PATIENT, False), (TranscriptRole.BOT, True)]


async def test_an_escalation_sent_again_gets_the_push_token_again_and_no_second_escalation(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    await patient.say(training_message("en", "greet"))
    request_human = training_message("en", "request_human")
    status, first = await patient.post(request_human, message_id="human-message-0001")
    escalation = handoff_of(first)
    assert status == 200 and escalation is not None and escalation["status"] == "queued", first
    status, again = await patient.post(request_human, message_id="human-message-0001")
    repeated = handoff_of(again)
    assert status == 200 and repeated == {"status": "repeated", "push_token": escalation["push_token"]}, again
    assert any("in line" in text for text in texts(again))
    conversation = await stack_queue.conversation(patient.conversation_id)
    assert conversation is not None and conversation.episode == 1
    said = [entry.text for entry in await stack_queue.transcript(patient.conversation_id)
            if entry.role == TranscriptRole.PATIENT]
    assert said == [training_message("en", "greet"), request_human]

    status, later = await patient.post("are you there", message_id="waiting-message-0001")
    assert status == 200 and handoff_of(later) is None, "a new message while waiting: no push token again"
