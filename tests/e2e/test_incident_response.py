"""Incidents raised by the running stack's Rasa server, seen by a supervisor at the stack's console.

Other tests share the stack: each test first acknowledges any open incident of its kind, so that the
burst it replays opens a new one (acknowledging ends an incident's window, ``handoff.incidents``).
"""

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from redis.asyncio import Redis

from handoff import KeyRing, KeySpace
from handoff.log_privacy import pseudonym
from stack.services import SERVICE_NAMES, Stack
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient, Patient, handoff_of
from tests.e2e.training_messages import training_message


@pytest_asyncio.fixture
async def sam(stack: Stack, http: aiohttp.ClientSession) -> AgentClient:
    """The supervisor, signed in."""
    client = AgentClient(http, stack)
    await client.login("sam", AGENT_PASSWORDS["sam"])
    return client


async def open_incidents(supervisor: AgentClient, kind: str) -> list[dict[str, Any]]:
    status, body = await supervisor.call("GET", "/api/incidents?unacknowledged=1")
    assert status == 200, body
    return [incident for incident in body["incidents"] if incident["kind"] == kind]


async def acknowledge_open(supervisor: AgentClient, kind: str) -> None:
    for incident in await open_incidents(supervisor, kind):
        status, body = await supervisor.call("POST", f"/api/incidents/{incident['id']}/acknowledge")
        assert status in (200, 409), body


async def audited_incidents(supervisor: AgentClient, action: str) -> list[str]:
    """The incidents of one kind in the audit log; a Rasa server's come through the intake (it has no audit keys)."""
    status, body = await supervisor.call("GET", "/api/audit?limit=1000")
    assert status == 200, body
    entries = [entry for entry in body["entries"] if entry["action"] == action]
    assert all(entry["via"] == "intake" for entry in entries), entries
    return [entry["conversation"] for entry in entries]


def test_only_the_console_holds_the_audit_keys(stack: Stack) -> None:
    """A Rasa or action server that is broken into cannot forge, rewrite or delete the audit log."""
    environments = {
        name: dict(line.split("=", 1) for line in Path(f"/proc/{process.pid}/environ").read_text().split("\0")
                   if "=" in line)
        for name, process in zip(SERVICE_NAMES, stack.processes, strict=True)
    }
    assert environments["console"]["HANDOFF_AUDIT_KEYS"] == stack.config.audit_keys
    assert "HANDOFF_AUDIT_KEYS" not in environments["rasa"] and "HANDOFF_AUDIT_KEYS" not in environments["actions"]
    assert environments["rasa"]["HANDOFF_DATA_KEYS"] == stack.config.data_keys


async def test_fifty_wrong_patient_tokens_raise_one_incident(
    stack: Stack, http: aiohttp.ClientSession, sam: AgentClient
) -> None:
    await acknowledge_open(sam, "patient_credential_flood")
    attacker = Patient(http, stack)
    victims = [f"web-{uuid.uuid4().hex}" for _ in range(5)]
    for attempt in range(50):
        status, body = await attacker.post("hello", sender=victims[attempt % 5], token=f"forged-{attempt}")
        assert status == 401, body

    [incident] = await open_incidents(sam, "patient_credential_flood")
    assert incident["details"] == {"limit_per_minute": "25"} and incident["occurrences"] >= 2
    assert not any(victim in repr(incident) for victim in victims) and "forged-" not in repr(incident)
    assert (await audited_incidents(sam, "incident_patient_credential_flood")).count(incident["id"]) == 1


async def test_a_patient_whose_sealed_health_facts_were_moved_raises_an_undecryptable_data_incident(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis, sam: AgentClient
) -> None:
    await acknowledge_open(sam, "undecryptable_data")
    keys = KeySpace(stack.config.namespace)
    patient, other = Patient(http, stack), Patient(http, stack)
    for someone in (patient, other):
        await someone.say(training_message("en", "request_human"))
    victim = keys.conversation(patient.conversation_id)
    original = await redis.hget(victim, "reason")
    await redis.hset(victim, "reason", await redis.hget(keys.conversation(other.conversation_id), "reason"))
    try:  # another patient's sealed reason, moved in
        for _ in range(3):
            status, body = await patient.post(training_message("en", "ask_hours"))
            assert status == 503, body
    finally:
        await redis.hset(victim, "reason", original)

    [incident] = await open_incidents(sam, "undecryptable_data")
    assert incident["details"] == {"where": "patient channel", "conversation": stack_pseudonym(stack, patient)}
    assert incident["occurrences"] == 3 and patient.conversation_id not in repr(incident)
    assert (await audited_incidents(sam, "incident_undecryptable_data")).count(incident["id"]) == 1


def stack_pseudonym(stack: Stack, patient: Patient) -> str:
    return pseudonym(KeyRing.from_spec(stack.config.data_keys), patient.conversation_id)


async def test_a_tracker_moved_from_another_patient_raises_an_undecryptable_data_incident(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis, sam: AgentClient
) -> None:
    """Rasa's fail-safe tracker store carries on with a fresh tracker; the tracker store still reports it."""
    await acknowledge_open(sam, "undecryptable_data")
    patient, other = Patient(http, stack), Patient(http, stack)
    await patient.say(training_message("en", "greet"))
    await other.say(training_message("en", "greet"))
    [tracker] = await redis.keys(f"tracker:*{patient.conversation_id}")
    [others] = await redis.keys(f"tracker:*{other.conversation_id}")
    original = await redis.get(tracker)
    await redis.set(tracker, await redis.get(others))  # another patient's sealed tracker, moved in
    try:
        await patient.say(training_message("en", "ask_hours"))
        for _ in range(600):  # the tracker store raises the incident in the background: at most a minute
            raised = await open_incidents(sam, "undecryptable_data")
            if raised:
                break
            await asyncio.sleep(0.1)
    finally:  # the retention tests scan every tracker of the shared Redis
        await redis.set(tracker, original)
    [incident] = raised
    assert incident["details"] == {"where": "tracker store", "conversation": stack_pseudonym(stack, patient)}
    assert (await audited_incidents(sam, "incident_undecryptable_data")).count(incident["id"]) == 1


async def test_an_agent_message_replayed_in_the_outbox_is_not_delivered_twice_and_raises_an_incident(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis, sam: AgentClient, amy: AgentClient
) -> None:
    """Someone with Redis write access copies the agent's message to the end of the patient's outbox."""
    await acknowledge_open(sam, "undecryptable_data")
    patient = Patient(http, stack)
    handoff = handoff_of(await patient.say(training_message("en", "request_human")))
    assert handoff is not None
    conversation = f"/api/conversations/{patient.conversation_id}"
    assert (await amy.call("POST", f"{conversation}/claim"))[0] == 200
    assert (await amy.call("POST", f"{conversation}/messages", {"text": "Your refill is ready"}))[0] == 201
    [outbox] = await redis.keys(KeySpace(stack.config.namespace).outbox(patient.conversation_id, 0)[:-1] + "*")
    [(_, fields)] = await redis.xrange(outbox)
    await redis.xadd(outbox, fields)

    delivered, closed = [], None
    params = {"sender": patient.conversation_id, "token": handoff["push_token"]}
    async with http.ws_connect(stack.patient_push_url, params=params) as push:
        while closed is None:
            message = await push.receive(timeout=30)
            if message.type == aiohttp.WSMsgType.TEXT:
                delivered.append(json.loads(message.data)["text"])
            else:
                closed = push.close_code

    assert delivered == ["Your refill is ready"] and closed == 1011
    [incident] = await open_incidents(sam, "undecryptable_data")
    assert incident["details"] == {"where": "patient push", "conversation": stack_pseudonym(stack, patient)}
    assert (await audited_incidents(sam, "incident_undecryptable_data")).count(incident["id"]) == 1
