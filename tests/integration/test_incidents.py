"""Incident response on a real Redis: each attack is replayed, and each burst makes exactly one incident,
audited, naming no patient; supervisors and admins see and acknowledge incidents, agents get 403.

The console runs in this process (aiohttp's test server) on the test's own key space. The patient side's
401 burst is replayed against the running stack in ``tests/e2e/test_incident_response.py``.
"""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from handoff import AgentDirectory, AgentSessions, AuditLog, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.agent_sessions import LoginThrottle
from handoff.audit import AuditChainBroken
from handoff.background import stop_tasks
from handoff.console import create_console_app
from handoff.incidents import CredentialRefusals, IncidentKind, IncidentLog, verify_audit_log, verify_periodically
from handoff.models import TranscriptRole
from handoff.settings import AgentAccess
from stack.redis_server import RedisServer
from tests.conftest import AGENT_PASSWORDS, AUDIT_KEYS

PROJECT_DIR = Path(__file__).resolve().parents[2]
PATIENT = "sms:+15550104477"
PATIENT_WORDS = "my insulin pump alarm keeps going off"


@pytest.fixture
def audit(redis: Redis, keys: KeySpace, audit_keys: KeyRing, tmp_path: Path) -> AuditLog:
    return AuditLog(redis, keys, audit_keys, tmp_path / "audit-anchor.jsonl")


@pytest_asyncio.fixture
async def console(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace, audit: AuditLog, agents_file: Path
) -> AsyncIterator[TestClient]:
    access = AgentAccess()
    app = create_console_app(
        queue, AgentSessions(redis, keys, AgentDirectory.from_file(agents_file), access), audit,
        LoginThrottle(redis, keys, access),
    )
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


async def sign_in(client: TestClient, agent_id: str) -> dict[str, str]:
    response = await client.post("/api/login", json={"agent_id": agent_id, "password": AGENT_PASSWORDS[agent_id]})
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def audited(audit: AuditLog, action: str) -> list[str]:
    """The ``conversation`` field (for incidents: the incident id) of every audit entry with ``action``."""
    return [entry.conversation for entry in await audit.entries() if entry.action == action]


async def everything_stored_about(incidents: IncidentLog) -> str:
    """Every incident record and every key of the incident store, as text: what must name no patient."""
    keys = incidents.keys
    stored = [await incidents.redis.hgetall(keys.incidents(part)) for part in ("records", "acknowledgements")]
    return repr(stored) + json.dumps([incident.to_json() for incident in await incidents.incidents()])


async def test_a_tampered_audit_log_raises_one_incident_however_often_it_is_verified(
    redis: Redis, redis_server: RedisServer, keys: KeySpace, key_ring_spec: str, audit: AuditLog,
    incidents: IncidentLog, tmp_path: Path,
) -> None:
    for _ in range(4):
        await audit.record("amy", "read_transcript", PATIENT, "10.1.2.3")
    await audit.seal()
    hidden = (await redis.xrange(keys.audit_log()))[2][0]
    await redis.xdel(keys.audit_log(), hidden)  # an insider deletes the record of one read

    environment = dict(
        os.environ, PYTHONPATH=str(PROJECT_DIR), REDIS_URL=redis_server.url, HANDOFF_DATA_KEYS=key_ring_spec,
        HANDOFF_AUDIT_KEYS=AUDIT_KEYS, HANDOFF_NAMESPACE=keys.namespace, HANDOFF_AUDIT_ANCHOR=str(audit.anchor),
    )
    for _ in range(2):
        result = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "handoff.audit", "verify"], env=environment, cwd=tmp_path,
            capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 1, result.stdout + result.stderr
        assert "AUDIT LOG BROKEN (incident raised)" in result.stderr
    with pytest.raises(AuditChainBroken):
        await verify_audit_log(audit, incidents)  # the console's periodic check

    [incident] = await incidents.incidents()
    assert (incident.kind, incident.occurrences, incident.acknowledged) == ("audit_chain_broken", 3, False)
    assert "deleted, inserted or reordered" in incident.details["fault"]
    assert await audited(audit, "incident_audit_chain_broken") == [incident.incident_id]
    stored = await everything_stored_about(incidents)
    assert PATIENT not in stored and "+1555" not in stored


async def test_the_consoles_background_verifier_finds_a_rewritten_entry(
    redis: Redis, keys: KeySpace, audit: AuditLog, incidents: IncidentLog
) -> None:
    await audit.record("amy", "claim", PATIENT, "10.1.2.3")
    [(entry_id, fields)] = await redis.xrange(keys.audit_log())
    forged = fields[b"entry"].replace(b'"actor":"amy"', b'"actor":"sam"')
    await redis.xadd(keys.audit_log(), {b"entry": forged, b"key": fields[b"key"], b"mac": fields[b"mac"]})
    await redis.xdel(keys.audit_log(), entry_id)  # the record now blames someone else

    verifier = asyncio.ensure_future(verify_periodically(audit, incidents, 0.05))
    try:
        for _ in range(1200):  # at most a minute: three rounds of the verifier each find the forgery
            found = await incidents.incidents()
            if found and found[0].occurrences >= 3:
                break
            await asyncio.sleep(0.05)
    finally:
        await stop_tasks(verifier)
    [incident] = await incidents.incidents()
    assert incident.kind == IncidentKind.AUDIT_CHAIN_BROKEN.value and "altered" in incident.details["fault"]
    assert len(await audited(audit, "incident_audit_chain_broken")) == 1


async def test_thirty_wrong_passwords_make_one_login_flood_incident(
    console: TestClient, incidents: IncidentLog, audit: AuditLog
) -> None:
    statuses = []
    for attempt in range(30):
        response = await console.post("/api/login", json={"agent_id": "amy", "password": f"guess-{attempt}"})
        statuses.append(response.status)
    assert statuses == [401] * 5 + [429] * 25

    [incident] = await incidents.incidents()
    assert incident.kind == "login_flood" and incident.occurrences == 26
    assert incident.details == {"agent": "amy", "address": "127.0.0.1"}
    assert await audited(audit, "incident_login_flood") == [incident.incident_id]
    assert "guess-" not in await everything_stored_about(incidents)


async def test_a_guessed_agent_id_is_not_repeated_in_the_incident_and_acknowledging_reopens_detection(
    console: TestClient, incidents: IncidentLog, audit: AuditLog
) -> None:
    for attempt in range(6):
        await console.post("/api/login", json={"agent_id": "amy", "password": f"guess-{attempt}"})
    supervisor = await sign_in(console, "sam")
    [first] = (await (await console.get("/api/incidents", headers=supervisor)).json())["incidents"]
    acknowledged = await console.post(f"/api/incidents/{first['id']}/acknowledge", headers=supervisor)
    assert acknowledged.status == 200
    again = await console.post(f"/api/incidents/{first['id']}/acknowledge", headers=supervisor)
    assert again.status == 409, "acknowledged once; the second changes nothing"

    for attempt in range(6):
        await console.post("/api/login", json={"agent_id": "Maria Lopez 1961-03-02", "password": f"pw-{attempt}"})
    open_incidents = (await (await console.get("/api/incidents?unacknowledged=1", headers=supervisor)).json())
    [second] = open_incidents["incidents"]
    assert second["id"] != first["id"] and second["details"]["agent"] == "not in the directory"
    assert "Maria" not in await everything_stored_about(incidents)
    assert await audited(audit, "acknowledge_incident") == [first["id"]]
    assert [entry.actor for entry in await audit.entries() if entry.action == "acknowledge_incident"] == ["sam"]


async def test_only_supervisors_and_admins_see_or_acknowledge_incidents(
    console: TestClient, incidents: IncidentLog, audit: AuditLog
) -> None:
    incident_id = await incidents.raise_incident(IncidentKind.LOGIN_FLOOD, agent="amy", address="10.9.9.9")
    agent = await sign_in(console, "luis")
    listed = await console.get("/api/incidents", headers=agent)
    assert listed.status == 403 and "may not view security incidents" in (await listed.json())["error"]
    refused = await console.post(f"/api/incidents/{incident_id}/acknowledge", headers=agent)
    assert refused.status == 403
    assert [incident.acknowledged for incident in await incidents.incidents()] == [False], "a refusal changes nothing"
    assert await audited(audit, "forbidden_view_incidents") == ["-", "-"]
    assert (await console.get("/api/incidents")).status == 401

    supervisor = await sign_in(console, "sam")
    for path, status in (("/api/incidents/i-0000000000000000/acknowledge", 404),
                         ("/api/incidents/not-an-id/acknowledge", 400)):
        assert (await console.post(path, headers=supervisor)).status == status
    assert (await console.get("/api/incidents?unacknowledged=yes", headers=supervisor)).status == 400


async def test_fifty_wrong_patient_tokens_make_one_credential_flood_incident(
    queue: LiveAgentQueue, incidents: IncidentLog, audit: AuditLog
) -> None:
    refusals = CredentialRefusals(incidents, limit=20)
    for _ in range(50):
        await refusals.refused()
    [incident] = await incidents.incidents()
    assert incident.kind == "patient_credential_flood" and incident.details == {"limit_per_minute": "20"}
    assert incident.occurrences >= 2, "the 20th refusal of a minute on each counts"
    assert await audited(audit, "incident_patient_credential_flood") == [incident.incident_id]


async def test_a_corrupted_transcript_entry_makes_one_undecryptable_data_incident(
    console: TestClient, queue: LiveAgentQueue, redis: Redis, keys: KeySpace, incidents: IncidentLog,
    audit: AuditLog,
) -> None:
    patient, other = "sms:15550104477", "sms:15550109999"
    for conversation in (patient, other):
        await queue.enqueue_escalation(conversation, "en", Skill.NURSE, Priority.NORMAL, "clinical_question")
        await queue.record(conversation, TranscriptRole.PATIENT, PATIENT_WORDS)
    agent = await sign_in(console, "amy")
    claimed = await console.post(f"/api/conversations/{patient}/claim", headers=agent)
    assert claimed.status == 200, await claimed.text()
    moved = await redis.lindex(keys.transcript(other), 0)
    await redis.lset(keys.transcript(patient), 0, moved)  # another patient's sealed entry, moved in

    for _ in range(3):
        response = await console.get(f"/api/conversations/{patient}/transcript", headers=agent)
        assert response.status == 500 and "cannot be decrypted" in (await response.json())["error"]

    [incident] = await incidents.incidents()
    assert incident.kind == "undecryptable_data" and incident.occurrences == 3
    assert incident.details == {
        "conversation": queue.pseudonym(patient),
        "where": "console GET /api/conversations/{conversation_id}/transcript",
    }
    assert await audited(audit, "incident_undecryptable_data") == [incident.incident_id]
    stored = await everything_stored_about(incidents)
    assert "15550104477" not in stored and "insulin" not in stored
