"""Outside a queue's coverage hours the message is captured for callback and the patient is told when."""


import aiohttp

from handoff import ConversationState, LiveAgentQueue
from stack.services import Stack
from tests.e2e.patient_client import Patient, handoff_of, texts


async def test_message_outside_coverage_is_captured_for_callback(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    replies = await patient.say("Olá, preciso falar com alguém sobre a minha receita, por favor")
    handoff = handoff_of(replies)
    assert handoff is not None, replies
    assert (handoff["status"], handoff["queue"]) == ("after_hours", "pt")
    assert handoff["reply_after"]
    notices = texts(replies)
    assert len(notices) == 1 and "Recebemos a sua mensagem" in notices[0], notices

    later = texts(await patient.say("O meu telefone é o mesmo de sempre"))
    assert len(later) == 1 and "Recebemos a sua mensagem" in later[0]

    conversation = await stack_queue.conversation(patient.sender)
    assert conversation is not None and conversation.state == ConversationState.QUEUED
    assert conversation.reply_after_ms is not None
    transcript = [entry.text for entry in await stack_queue.transcript(patient.sender)]
    assert "O meu telefone é o mesmo de sempre" in transcript


async def test_a_crisis_is_never_held_back_by_coverage_hours(stack: Stack, http: aiohttp.ClientSession) -> None:
    patient = Patient(http, stack)
    await patient.say("Olá, preciso falar com alguém sobre a minha receita, por favor")
    replies = await patient.say("I took all my pills")
    assert "988" in texts(replies)[0]
    handoff = handoff_of(replies)
    assert handoff is not None and handoff["status"] == "queued" and handoff["priority"] == "crisis"
