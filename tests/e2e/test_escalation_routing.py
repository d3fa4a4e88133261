"""Each escalation trigger hands off with the right queue (language and skill) and priority.

The messages are training examples of their intents (``training_messages``): these tests check
routing, and the model's quality on unseen text is measured by ``make eval``."""


import aiohttp
import pytest

from handoff import LiveAgentQueue, Priority, Skill
from stack.services import Stack
from tests.e2e.patient_client import Patient, handoff_of, texts
from tests.e2e.training_messages import TRAINING_MESSAGES, training_message


@pytest.mark.parametrize(
    ("messages", "language", "skill", "priority", "reason"),
    [
        ([("en", "request_human")], "en", Skill.GENERAL, Priority.NORMAL, "patient_request"),
        ([("en", "refill_status"), ("en", "decline_verification")], "en", Skill.PHARMACY, Priority.NORMAL,
         "identity_declined"),
        ([("en", "prescription_change")], "en", Skill.PHARMACY, Priority.NORMAL, "prescription_change"),
        ([("en", "ask_test_results"), ("en", "decline_verification")], "en", Skill.NURSE, Priority.NORMAL,
         "identity_declined"),
        ([("en", "clinical_question")], "en", Skill.NURSE, Priority.NORMAL, "clinical_question"),
        ([("en", "ask_insurance")], "en", Skill.BILLING, Priority.NORMAL, "ask_insurance"),
        ([("en", "billing_question")], "en", Skill.BILLING, Priority.NORMAL, "billing_question"),
        ([("en", "referral_status")], "en", Skill.GENERAL, Priority.NORMAL, "referral_status"),
        ([("en", "request_callback")], "en", Skill.GENERAL, Priority.NORMAL, "request_callback"),
        ([("en", "express_distress")], "en", Skill.GENERAL, Priority.URGENT, "express_distress"),
        ([("en", "out_of_scope"), ("en", "out_of_scope")], "en", Skill.GENERAL, Priority.NORMAL,
         "unplaced_two_exchanges"),
        ([("es", "request_human")], "es", Skill.GENERAL, Priority.NORMAL, "patient_request"),
        ([("es", "ask_test_results"), ("es", "decline_verification")], "es", Skill.NURSE, Priority.NORMAL,
         "identity_declined"),
        ([("zh", "request_human")], "zh", Skill.GENERAL, Priority.NORMAL, "patient_request"),
        ([("vi", "request_human")], "vi", Skill.GENERAL, Priority.NORMAL, "patient_request"),
        ([("ko", "request_human")], "ko", Skill.GENERAL, Priority.NORMAL, "patient_request"),
        ([("ko", "ask_test_results"), ("ko", "decline_verification")], "ko", Skill.NURSE, Priority.NORMAL,
         "identity_declined"),
        ([("ru", "request_human")], "ru", Skill.GENERAL, Priority.NORMAL, "patient_request"),
        ([("ru", "prescription_change")], "ru", Skill.PHARMACY, Priority.NORMAL, "prescription_change"),
    ],
)
async def test_escalation_reaches_the_right_queue(
    stack: Stack,
    http: aiohttp.ClientSession,
    stack_queue: LiveAgentQueue,
    messages: list[tuple[str, str]],
    language: str,
    skill: Skill,
    priority: Priority,
    reason: str,
) -> None:
    patient = Patient(http, stack)
    replies = []
    for language_and_intent in messages:
        replies = await patient.say(TRAINING_MESSAGES[language_and_intent])
    handoff = handoff_of(replies)
    assert handoff is not None, replies
    assert (handoff["queue"], handoff["priority"], handoff["reason"]) == (language, priority.value, reason)
    conversation = await stack_queue.conversation(patient.sender)
    assert conversation is not None and conversation.skill == skill
    assert texts(replies), "the patient is told a person is coming, in words"


async def test_a_language_without_bot_flows_goes_straight_to_its_own_queue(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    handoff = handoff_of(await patient.say("je voudrais renouveler mon ordonnance"))
    assert handoff is not None
    assert (handoff["queue"], handoff["priority"], handoff["reason"]) == ("fr", "normal", "language_without_bot_flows")
    conversation = await stack_queue.conversation(patient.sender)
    assert conversation is not None and conversation.skill == Skill.GENERAL


async def test_the_first_unplaced_message_gets_one_rephrase_request_not_a_handoff(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    patient = Patient(http, stack)
    first = await patient.say(training_message("en", "out_of_scope"))
    assert handoff_of(first) is None
    assert any("another way" in text for text in texts(first))


async def test_bot_answers_in_the_patients_language_and_switches_on_request(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    patient = Patient(http, stack)
    spanish = texts(await patient.say("hola buenos dias"))
    english = texts(await patient.say("in English please"))
    still_english = texts(await patient.say("hola"))
    assert spanish and english and still_english
    assert "virtual assistant" not in " ".join(spanish)
    assert any("English" in text for text in english)
    assert not any(text in spanish for text in still_english), "one word does not flip the language back"

