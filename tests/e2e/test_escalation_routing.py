"""Each escalation trigger hands off with the right queue (language and skill) and priority."""

import uuid

import aiohttp
import pytest

from handoff import LiveAgentQueue, Priority, Skill
from stack.services import Stack
from tests.e2e.patient_client import Patient, handoff_of, texts


@pytest.mark.parametrize(
    ("messages", "language", "skill", "priority", "reason"),
    [
        (["I want to talk to a real person"], "en", Skill.GENERAL, Priority.NORMAL, "patient_request"),
        (["is my prescription refill ready yet"], "en", Skill.PHARMACY, Priority.NORMAL, "refill_status"),
        (["I need to change the dose of my blood pressure medication"], "en", Skill.PHARMACY, Priority.NORMAL,
         "prescription_change"),
        (["are my blood test results back"], "en", Skill.NURSE, Priority.NORMAL, "ask_test_results"),
        (["I have had a rash on my arm for three days, is that normal"], "en", Skill.NURSE, Priority.NORMAL,
         "clinical_question"),
        (["do you accept blue cross insurance"], "en", Skill.BILLING, Priority.NORMAL, "ask_insurance"),
        (["there is a charge on my bill I don't understand"], "en", Skill.BILLING, Priority.NORMAL,
         "billing_question"),
        (["what's the status of my referral to the cardiologist"], "en", Skill.GENERAL, Priority.NORMAL,
         "referral_status"),
        (["can someone call me back please"], "en", Skill.GENERAL, Priority.NORMAL, "request_callback"),
        (["I'm so scared about my surgery and I don't know what to do"], "en", Skill.GENERAL, Priority.URGENT,
         "express_distress"),
        (["who won the football game last night", "what's the weather in paris tomorrow"], "en", Skill.GENERAL,
         Priority.NORMAL, "unplaced_two_exchanges"),
        (["quiero hablar con una persona"], "es", Skill.GENERAL, Priority.NORMAL, "patient_request"),
        (["tengo una pregunta sobre los resultados de mi examen de sangre"], "es", Skill.NURSE, Priority.NORMAL,
         "ask_test_results"),
        (["我想跟真人说话"], "zh", Skill.GENERAL, Priority.NORMAL, "patient_request"),
        (["tôi muốn nói chuyện với nhân viên"], "vi", Skill.GENERAL, Priority.NORMAL, "patient_request"),
        (["약을 리필하고 싶어요"], "ko", Skill.GENERAL, Priority.NORMAL, "language_without_bot_flows"),
    ],
)
async def test_escalation_reaches_the_right_queue(
    stack: Stack,
    http: aiohttp.ClientSession,
    stack_queue: LiveAgentQueue,
    messages: list[str],
    language: str,
    skill: Skill,
    priority: Priority,
    reason: str,
) -> None:
    patient = Patient(http, stack, f"route-{uuid.uuid4().hex[:8]}")
    replies = []
    for message in messages:
        replies = await patient.say(message)
    handoff = handoff_of(replies)
    assert handoff is not None, replies
    assert (handoff["queue"], handoff["priority"], handoff["reason"]) == (language, priority.value, reason)
    conversation = await stack_queue.conversation(patient.sender)
    assert conversation is not None and conversation.skill == skill
    assert texts(replies), "the patient is told a person is coming, in words"


async def test_the_first_unplaced_message_gets_one_rephrase_request_not_a_handoff(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    patient = Patient(http, stack, f"route-{uuid.uuid4().hex[:8]}")
    first = await patient.say("who won the football game last night")
    assert handoff_of(first) is None
    assert any("another way" in text for text in texts(first))


async def test_bot_answers_in_the_patients_language_and_switches_on_request(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    patient = Patient(http, stack, f"lang-{uuid.uuid4().hex[:8]}")
    spanish = texts(await patient.say("hola buenos dias"))
    english = texts(await patient.say("in English please"))
    still_english = texts(await patient.say("hola"))
    assert spanish and english and still_english
    assert "virtual assistant" not in " ".join(spanish)
    assert any("English" in text for text in english)
    assert not any(text in spanish for text in still_english), "one word does not flip the language back"

