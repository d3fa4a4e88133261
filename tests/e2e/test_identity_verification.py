"""Identity verification before PHI, through the patient channel of the running stack.

The form itself is tested per language by the story tests and by pytest on the
actions; these tests check what only the whole path can show: no PHI before
verification, the same answer whichever detail is wrong, the console told how
the patient was verified (never what they typed), the verification lapsing when
an agent hands back, a portal identity standing in for the form, and a crisis
typed mid-form.
"""

from typing import Any

import aiohttp

from handoff import LiveAgentQueue
from handoff.patient_sessions import identity_hash
from languages import LanguageCatalog
from stack.services import Stack
from tests.conftest import AGENT_PASSWORDS, PORTAL_SECRET
from tests.e2e.patient_client import AgentClient, Patient, custom_of, handoff_of, texts
from tests.e2e.training_messages import training_message

CATALOG = LanguageCatalog.load()
REFILL = training_message("en", "refill_status")
PHI = "Lisinopril"
MARIA = ("María López", "03/14/1962", "HCB-100-200")


async def verify(patient: Patient, name: str, dob: str, member_id: str) -> list[dict[str, Any]]:
    """Answers the form's three questions; returns the replies to the last answer."""
    await patient.say(name)
    await patient.say(dob)
    return await patient.say(member_id)


async def test_refill_status_is_answered_only_after_verification(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    asked = texts(await patient.say(REFILL))
    assert any("confirm who you are" in text for text in asked) and not any(PHI in text for text in asked)
    replies = await verify(patient, *MARIA)
    assert any(PHI in text and "ready for pickup" in text for text in texts(replies)), replies
    assert custom_of(replies, "identity_verified") is None, "the marker never reaches the patient"
    conversation = await stack_queue.conversation(patient.conversation_id)
    assert conversation is not None and conversation.verified_via == "form" and conversation.verified_at_ms


async def test_each_wrong_detail_gets_the_same_answer_and_no_phi(stack: Stack, http: aiohttp.ClientSession) -> None:
    answers = []
    for details in [
        ("Maria Lopez", "03/15/1962", "HCB-100-200"),
        ("María López", "03/14/1962", "HCB-100-299"),
        ("Mario Lopes", "03/14/1962", "HCB-100-200"),
    ]:
        patient = Patient(http, stack)
        await patient.say(REFILL)
        replies = texts(await verify(patient, *details))
        assert not any(PHI in text for text in replies)
        answers.append(replies)
    assert answers[0] == answers[1] == answers[2]
    assert any("couldn't verify" in text for text in answers[0])


async def test_verification_lapses_when_an_agent_hands_the_conversation_back(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    await patient.say(REFILL)
    assert any(PHI in text for text in texts(await verify(patient, *MARIA)))
    assert handoff_of(await patient.say(training_message("en", "request_human"))) is not None
    amy = AgentClient(http, stack)
    await amy.login("amy", AGENT_PASSWORDS["amy"])
    conversation = f"/api/conversations/{patient.sender}"
    assert (await amy.call("POST", f"{conversation}/claim"))[0] == 200
    _, transcript = await amy.call("GET", f"{conversation}/transcript")
    assert transcript["conversation"]["verified_via"] == "form"
    shown = str(transcript["conversation"])
    assert "1962" not in shown and "HCB-100-200" not in shown
    assert (await amy.call("POST", f"{conversation}/close", {"outcome": "bot"}))[0] == 200
    after = texts(await patient.say(REFILL))
    assert not any(PHI in text for text in after), after
    assert any("confirm who you are" in text for text in after)
    record = await stack_queue.conversation(patient.conversation_id)
    assert record is not None and record.verified_via is None


async def test_a_portal_identity_stands_in_for_the_form(stack: Stack, http: aiohttp.ClientSession) -> None:
    patient = Patient(http, stack)
    identity = {"patient_id": "demo-0001", "identity_hash": identity_hash(PORTAL_SECRET, "demo-0001")}
    replies = texts(await patient.say(REFILL, metadata={"portal_identity": identity}))
    assert any(PHI in text for text in replies), replies


async def test_a_crisis_typed_mid_form_gets_the_resources_and_the_front_of_the_queue(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    await patient.say(REFILL)
    await patient.say(MARIA[0])
    replies = await patient.say("i took all my pills an hour ago")
    assert texts(replies)[0] == CATALOG.notice("en", "crisis_resources")
    handoff = handoff_of(replies)
    assert handoff is not None and handoff["priority"] == "crisis"
    conversation = await stack_queue.conversation(patient.conversation_id)
    assert conversation is not None and conversation.crisis_category == "overdose_poisoning"
