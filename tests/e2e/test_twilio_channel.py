"""Rasa's Twilio channel (SMS, WhatsApp) behind the gate, against a local stand-in for the Twilio API.

Twilio's webhooks are posted signed as Twilio signs them; what the bot and the agents send is what the
stand-in records. A request without Twilio's signature, or with one that does not match, is refused and
changes nothing.
"""


import aiohttp
import pytest
from redis.asyncio import Redis

from connectors.gated_channel import SENDER_PURPOSE
from handoff import ConversationState, KeyRing, LiveAgentQueue, Priority
from handoff.models import TranscriptRole
from stack.services import Stack
from tests.conftest import TWILIO_NUMBER, TWILIO_WHATSAPP_NUMBER
from tests.e2e.patient_client import AgentClient
from tests.e2e.training_messages import training_message
from tests.e2e.twilio_api import TwilioApi, TwilioWebhook, new_phone

IN_LINE = "in line for a member of our team"


@pytest.fixture
def twilio(http: aiohttp.ClientSession, stack: Stack) -> TwilioWebhook:
    return TwilioWebhook(http, stack)


def conversation_of(stack: Stack, sender: str) -> str:
    return "twilio-" + KeyRing.from_spec(stack.config.data_keys).mac(SENDER_PURPOSE, sender)


async def keys_naming(redis: Redis, text: str) -> list[bytes]:
    return [key async for key in redis.scan_iter(match=f"*{text}*")]


async def test_unsigned_or_wrongly_signed_webhooks_are_refused_and_change_nothing(
    stack: Stack, twilio: TwilioWebhook, twilio_api: TwilioApi, stack_queue: LiveAgentQueue, redis: Redis
) -> None:
    phone = new_phone()
    conversation = conversation_of(stack, phone)
    params = twilio.params(phone, "I don't want to be here anymore")
    signed_for_other_text = twilio.signature(twilio.params(phone, "hello"))
    assert await twilio.post(params, None) == 403
    assert await twilio.post(params, "") == 403
    assert await twilio.post(params, signed_for_other_text) == 403
    assert await twilio.post(params, twilio.signature(params)[:-2] + "AA") == 403
    assert await twilio.post({**params, "From": new_phone()}, twilio.signature(params)) == 403

    assert await stack_queue.conversation(conversation) is None
    assert await stack_queue.transcript(conversation) == []
    assert await keys_naming(redis, conversation) == []
    assert twilio_api.to(phone) == []


async def test_crisis_resources_are_the_first_sms(
    stack: Stack, twilio: TwilioWebhook, twilio_api: TwilioApi, stack_queue: LiveAgentQueue, amy: AgentClient
) -> None:
    phone = new_phone()
    await twilio.send(phone, "I don't want to be here anymore")
    sent = await twilio_api.wait_for(phone, IN_LINE)
    assert "988" in sent[0].body and "911" in sent[0].body
    assert {message.sender for message in sent} == {TWILIO_NUMBER}
    conversation = await stack_queue.conversation(conversation_of(stack, phone))
    assert conversation is not None and conversation.priority == Priority.CRISIS and conversation.phone_follow_up
    await amy.call("POST", f"/api/conversations/{conversation.conversation_id}/claim")
    status, _ = await amy.call("POST", f"/api/conversations/{conversation.conversation_id}/close",
                               {"outcome": "closed", "crisis_disposition": "resources_given_patient_safe"})
    assert status == 200


async def test_sms_bot_handoff_agent_reply_and_back_to_the_bot(
    stack: Stack, twilio: TwilioWebhook, twilio_api: TwilioApi, amy: AgentClient, stack_queue: LiveAgentQueue,
    redis: Redis, empty_english_queue: None,
) -> None:
    phone = new_phone()
    conversation = conversation_of(stack, phone)
    await twilio.send(phone, training_message("en", "greet"))
    await twilio_api.wait_for(phone, "virtual assistant")
    await twilio.send(phone, training_message("en", "request_human"))
    await twilio_api.wait_for(phone, IN_LINE)
    queued = await stack_queue.conversation(conversation)
    assert queued is not None and queued.state == ConversationState.QUEUED
    assert await keys_naming(redis, phone.lstrip("+")) == []

    status, _ = await amy.call("POST", f"/api/conversations/{conversation}/claim")
    assert status == 200
    twilio_api.fail_next = 1
    status, _ = await amy.call("POST", f"/api/conversations/{conversation}/messages",
                               {"text": "Hi, this is Amy. How can I help?"})
    assert status == 201
    await twilio_api.wait_for(phone, "Hi, this is Amy")

    sent_before = len(twilio_api.to(phone))
    await twilio.send(phone, "I need to move my appointment")
    _, transcript = await amy.call("GET", f"/api/conversations/{conversation}/transcript")
    assert [entry["text"] for entry in transcript["entries"]][-1] == "I need to move my appointment"
    assert len(twilio_api.to(phone)) == sent_before, "the bot must not answer while an agent has the patient"

    status, _ = await amy.call("POST", f"/api/conversations/{conversation}/close", {"outcome": "bot"})
    assert status == 200
    await twilio.send(phone, training_message("en", "ask_hours"))
    sent = await twilio_api.wait_for(phone, "Monday to Friday")
    assert [message.body for message in sent].count("Hi, this is Amy. How can I help?") == 1


async def test_whatsapp_replies_come_from_the_whatsapp_number(
    stack: Stack, twilio: TwilioWebhook, twilio_api: TwilioApi, amy: AgentClient, empty_english_queue: None
) -> None:
    sender = "whatsapp:" + new_phone()
    conversation = conversation_of(stack, sender)
    await twilio.send(sender, training_message("en", "request_human"))
    await twilio_api.wait_for(sender, IN_LINE)
    await amy.call("POST", f"/api/conversations/{conversation}/claim")
    await amy.call("POST", f"/api/conversations/{conversation}/messages", {"text": "Amy on WhatsApp"})
    sent = await twilio_api.wait_for(sender, "Amy on WhatsApp")
    assert {message.sender for message in sent} == {TWILIO_WHATSAPP_NUMBER}
    await amy.call("POST", f"/api/conversations/{conversation}/close", {"outcome": "closed"})


async def test_a_message_twilio_posts_again_with_its_message_sid_is_stored_once(
    stack: Stack, twilio: TwilioWebhook, twilio_api: TwilioApi, amy: AgentClient, stack_queue: LiveAgentQueue,
    empty_english_queue: None,
) -> None:
    """Twilio posts a webhook again, same ``MessageSid``, when it got no answer in time: the agent reads the message
    once. A new message with the same words is a new message; one whose ``MessageSid`` is malformed is still stored
    (and answered), once per post."""
    phone = new_phone()
    conversation = conversation_of(stack, phone)
    await twilio.send(phone, training_message("en", "request_human"))
    await twilio_api.wait_for(phone, IN_LINE)

    moved = twilio.params(phone, "my new address is 12 Elm Street")
    for _ in range(2):
        assert await twilio.post(moved, twilio.signature(moved)) == 204
    again = twilio.params(phone, "my new address is 12 Elm Street")
    assert again["MessageSid"] != moved["MessageSid"]
    assert await twilio.post(again, twilio.signature(again)) == 204
    malformed = {**twilio.params(phone, "is anyone there"), "MessageSid": "SM 1"}
    for _ in range(2):
        assert await twilio.post(malformed, twilio.signature(malformed)) == 204

    status, _ = await amy.call("POST", f"/api/conversations/{conversation}/claim")
    assert status == 200
    _, transcript = await amy.call("GET", f"/api/conversations/{conversation}/transcript")
    said = [entry["text"] for entry in transcript["entries"] if entry["role"] == TranscriptRole.PATIENT.value]
    assert said == [training_message("en", "request_human"), "my new address is 12 Elm Street",
                    "my new address is 12 Elm Street", "is anyone there", "is anyone there"]
    await amy.call("POST", f"/api/conversations/{conversation}/close", {"outcome": "closed"})
