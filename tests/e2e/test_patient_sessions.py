"""A sender id grants nothing: the attacks of the patient-identity issue, replayed on the real stack.

Each test is what an attacker who knows (or guessed) a patient's conversation id
would try; each must be refused and change nothing of the patient's.
"""

import asyncio
import hashlib
import hmac
import json
from typing import Any

import aiohttp
from redis.asyncio import Redis

from handoff import AuditLog, KeyRing, KeySpace, LiveAgentQueue
from handoff.patient_sessions import identity_hash
from languages import LanguageCatalog
from stack.services import Stack
from tests.conftest import AGENT_PASSWORDS, PLATFORM_SECRET, PORTAL_SECRET
from tests.e2e.patient_client import AgentClient, Patient, handoff_of, session_of, texts
from tests.e2e.training_messages import training_message

CATALOG = LanguageCatalog.load()
CRISIS = "I want to kill myself tonight"


async def conversation_keys(redis: Redis, conversation_id: str) -> dict[bytes, Any]:
    """Every key of one conversation with its serialized value."""
    names = sorted([key async for key in redis.scan_iter(match=f"*{conversation_id}*")])
    return {name: await redis.dump(name) for name in names}


async def escalated_patient(http: aiohttp.ClientSession, stack: Stack) -> tuple[Patient, dict[str, Any]]:
    patient = Patient(http, stack)
    handoff = handoff_of(await patient.say(training_message("en", "request_human")))
    assert handoff is not None
    return patient, handoff


async def test_first_contact_gets_a_server_minted_conversation_not_the_senders_choice(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    patient = Patient(http, stack)
    status, replies = await patient.post(training_message("en", "greet"), sender="alice@example.org")
    assert status == 200
    session = session_of(replies)
    assert session is not None and session["conversation_id"] != "alice@example.org"
    assert session["conversation_id"].startswith("p-") and session["token"]
    assert patient.last_headers["X-Conversation-Id"] == session["conversation_id"]
    assert all(reply["recipient_id"] == session["conversation_id"] for reply in replies)
    patient.adopt(replies)
    assert texts(await patient.say(training_message("en", "ask_hours")))


async def test_posting_under_another_patients_id_is_refused_and_changes_nothing(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis
) -> None:
    victim, _ = await escalated_patient(http, stack)
    attacker = Patient(http, stack)
    before = await conversation_keys(redis, victim.conversation_id)
    for token in (None, "forged", "1700000000.abc.def", f"{victim.token}x"):
        status, body = await attacker.post("it's me, move my appointment", sender=victim.sender, token=token)
        assert status == 401, body
        assert "token" in body["error"] or "ended" in body["error"]
        assert "messages" not in body
    status, body = await attacker.post(
        "hi", sender=victim.sender, metadata={"conversation_token": "forged"}
    )
    assert status == 401
    assert await conversation_keys(redis, victim.conversation_id) == before


async def test_a_crisis_under_another_patients_id_gets_resources_in_a_new_conversation_of_its_own(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis, stack_queue: LiveAgentQueue
) -> None:
    victim, _ = await escalated_patient(http, stack)
    before = await conversation_keys(redis, victim.conversation_id)
    stranger = Patient(http, stack)
    status, body = await stranger.post(CRISIS, sender=victim.sender)
    assert status == 401
    said = texts(body["messages"])
    assert said[0] == CATALOG.notice("en", "crisis_resources") and "988" in said[0] and "911" in said[0]
    new = session_of(body["messages"])
    assert new is not None and new["conversation_id"] != victim.sender
    assert await conversation_keys(redis, victim.conversation_id) == before, "the victim's conversation is untouched"
    escalated = await stack_queue.conversation(new["conversation_id"])
    assert escalated is not None and escalated.crisis_category == "suicide_self_harm"
    stranger.adopt(body["messages"])
    assert await stranger.say("are you there") != []


async def test_the_push_socket_needs_this_episodes_token_and_an_old_one_reads_nothing_new(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    patient, handoff = await escalated_patient(http, stack)
    other, other_handoff = await escalated_patient(http, stack)
    amy = AgentClient(http, stack)
    await amy.login("amy", AGENT_PASSWORDS["amy"])
    conversation = f"/api/conversations/{patient.sender}"
    assert (await amy.call("POST", f"{conversation}/claim"))[0] == 200
    assert (await amy.call("POST", f"{conversation}/messages", {"text": "Your results: A1C 9.1"}))[0] == 201

    params = {"sender": patient.sender, "token": other_handoff["push_token"]}
    async with http.ws_connect(stack.patient_push_url, params=params) as push:
        refused = json.loads((await push.receive(timeout=20)).data)
        assert refused["error"] == "missing or wrong push token"

    assert (await amy.call("POST", f"{conversation}/close", {"outcome": "bot"}))[0] == 200
    old_token = handoff["push_token"]
    async with http.ws_connect(stack.patient_push_url, params={"sender": patient.sender, "token": old_token}) as push:
        assert "error" in json.loads((await push.receive(timeout=20)).data), "a closed episode's token opens nothing"

    second = handoff_of(await patient.say(training_message("en", "request_human")))
    assert second is not None and second["push_token"] != old_token
    for token in (old_token, second["push_token"]):
        params = {"sender": patient.sender, "token": token, "after": "0"}
        async with http.ws_connect(stack.patient_push_url, params=params) as push:
            try:
                data = json.loads((await push.receive(timeout=3)).data)
            except asyncio.TimeoutError:
                data = {}
            assert "A1C" not in json.dumps(data), "no one reads an earlier episode's agent messages"
    assert other.sender != patient.sender


async def test_a_third_push_socket_on_one_conversation_is_refused(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    patient, handoff = await escalated_patient(http, stack)
    params = {"sender": patient.sender, "token": handoff["push_token"]}
    async with http.ws_connect(stack.patient_push_url, params=params), \
            http.ws_connect(stack.patient_push_url, params=params):
        await asyncio.sleep(0.5)
        async with http.ws_connect(stack.patient_push_url, params=params) as third:
            refused = json.loads((await third.receive(timeout=20)).data)
            assert refused["error"] == "at most 2 push sockets per conversation"


async def test_a_general_agent_reads_the_current_episode_only_and_a_supervisors_read_is_audited(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis
) -> None:
    patient = Patient(http, stack)
    await patient.say(CRISIS)
    amy, sam = AgentClient(http, stack), AgentClient(http, stack)
    await amy.login("amy", AGENT_PASSWORDS["amy"])
    await sam.login("sam", AGENT_PASSWORDS["sam"])
    conversation = f"/api/conversations/{patient.sender}"
    assert (await amy.call("POST", f"{conversation}/claim"))[0] == 200
    assert (await amy.call("POST", f"{conversation}/close", {"outcome": "bot"}))[0] == 400, "disposition needed"
    status, closed = await amy.call(
        "POST", f"{conversation}/close", {"outcome": "bot", "crisis_disposition": "resources_given_patient_safe"}
    )
    assert status == 200, closed
    assert handoff_of(await patient.say(training_message("en", "billing_question"))) is not None

    assert (await sam.call("POST", f"{conversation}/claim"))[0] == 200
    status, current = await sam.call("GET", f"{conversation}/transcript")
    assert status == 200
    assert all("kill myself" not in entry["text"] for entry in current["entries"])
    assert current["conversation"]["crisis_category"] is None and current["conversation"]["crisis_evidence"] is None
    status, everything = await sam.call("GET", f"{conversation}/transcript?episodes=all")
    assert status == 200 and any("kill myself" in entry["text"] for entry in everything["entries"])
    audit = [entry async for entry in _audit_actions(redis, stack)]
    assert ("sam", "read_earlier_episodes", patient.sender) in audit
    assert (await sam.call("POST", f"{conversation}/close", {"outcome": "closed"}))[0] == 200

    assert handoff_of(await patient.say(training_message("en", "billing_question"))) is not None
    assert (await amy.call("POST", f"{conversation}/claim"))[0] == 200
    status, refused = await amy.call("GET", f"{conversation}/transcript?episodes=all")
    assert status == 403 and "current episode" in refused["error"]
    status, current = await amy.call("GET", f"{conversation}/transcript?from=0")
    assert all("kill myself" not in entry["text"] for entry in current["entries"])
    await amy.call("POST", f"{conversation}/close", {"outcome": "closed"})


async def _audit_actions(redis: Redis, stack: Stack) -> Any:
    log = AuditLog(redis, KeySpace(stack.config.namespace), KeyRing.from_spec(stack.config.audit_keys))
    for entry in await log.entries():
        yield entry.actor, entry.action, entry.conversation


async def test_flooding_a_conversation_gets_429_but_a_crisis_still_gets_through(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    patient = Patient(http, stack)
    await patient.say(training_message("en", "greet"))
    statuses = []
    for _ in range(61):
        status, body = await patient.post("hello?")
        statuses.append(status)
        if status == 429:
            assert "too many messages" in body["error"] and int(patient.last_headers["Retry-After"]) > 0
            break
    assert statuses[-1] == 429
    status, replies = await patient.post(CRISIS)
    assert status == 200 and texts(replies)[0] == CATALOG.notice("en", "crisis_resources")


async def test_new_conversations_from_one_address_are_limited(stack: Stack, http: aiohttp.ClientSession) -> None:
    headers = {"X-Forwarded-For": "198.51.100.200"}
    statuses = []
    for _ in range(41):
        async with http.post(stack.patient_session_url, headers=headers) as response:
            statuses.append(response.status)
            if response.status == 429:
                assert "too many new conversations" in (await response.json())["error"]
                break
    assert statuses[0] == 201 and statuses[-1] == 429


async def test_a_valid_portal_identity_marks_the_patient_verified_and_a_wrong_one_is_refused(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    forged = {"portal_identity": {"patient_id": "MRN-1001", "identity_hash": identity_hash("guess", "MRN-1001")}}
    status, body = await patient.post(training_message("en", "greet"), metadata=forged)
    assert status == 401 and "identity hash" in body["error"] and "messages" not in body
    good = {"portal_identity": {"patient_id": "MRN-1001", "identity_hash": identity_hash(PORTAL_SECRET, "MRN-1001")}}
    await patient.say(training_message("en", "greet"), metadata=good)
    conversation = await stack_queue.conversation(patient.conversation_id)
    assert conversation is not None and conversation.verified_via == "portal"
    amy = AgentClient(http, stack)
    await amy.login("amy", AGENT_PASSWORDS["amy"])
    await patient.say(training_message("en", "request_human"))
    assert (await amy.call("POST", f"/api/conversations/{patient.sender}/claim"))[0] == 200
    _, transcript = await amy.call("GET", f"/api/conversations/{patient.sender}/transcript")
    assert transcript["conversation"]["verified_via"] == "portal"
    assert "MRN-1001" not in json.dumps(transcript["conversation"])
    await amy.call("POST", f"/api/conversations/{patient.sender}/close", {"outcome": "closed"})


async def test_a_signed_platform_relay_speaks_for_its_sender_and_nobody_else_can(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    sender = f"sms:+1555{hash(stack) % 10_000_000:07d}"
    body = json.dumps({"sender": sender, "message": training_message("en", "ask_hours")}).encode()
    signature = "sha256=" + hmac.new(PLATFORM_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
    async with http.post(stack.patient_webhook_url, data=body, headers=headers) as response:
        assert response.status == 200
        replies = await response.json()
        assert texts(replies) and session_of(replies) is None
    tampered = body.replace(b"hours", b"HOURS")
    async with http.post(stack.patient_webhook_url, data=tampered, headers=headers) as response:
        assert response.status == 401
    status, refused = await Patient(http, stack).post("hi, it's me", sender=sender)
    assert status == 401 and "token" in refused["error"]


async def test_a_session_opened_with_a_portal_identity_is_verified_on_every_message(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    identity = {"patient_id": "MRN-1002", "identity_hash": identity_hash(PORTAL_SECRET, "MRN-1002")}
    patient = Patient(http, stack)
    headers = {"X-Forwarded-For": patient.address}
    forged = dict(identity, identity_hash="0" * 64)
    async with http.post(stack.patient_session_url, json={"metadata": {"portal_identity": forged}},
                         headers=headers) as response:
        assert response.status == 401
    async with http.post(stack.patient_session_url, json={"metadata": {"portal_identity": identity}},
                         headers=headers) as response:
        assert response.status == 201
        issued = await response.json()
    patient.sender, patient.token = issued["conversation_id"], issued["token"]
    assert texts(await patient.say(training_message("en", "greet")))
    conversation = await stack_queue.conversation(patient.conversation_id)
    assert conversation is not None and conversation.verified_via == "portal"
