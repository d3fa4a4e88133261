"""The audit intake on a real Redis: what a process without the audit keys writes reaches the signed log once,
marked as coming through the intake; what it cannot do is write to the log itself, and an intake entry
someone slipped in with Redis access alone is rejected and raises an incident."""

import asyncio
import json
from dataclasses import asdict, replace

import pytest
from redis.asyncio import Redis

from handoff import AuditLog, KeyRing, KeySpace, LiveAgentQueue
from handoff.audit import AuditChainBroken, new_entry
from handoff.audit_intake import INTAKE_PURPOSE, AuditIntake, IntakeAdmission
from handoff.crypto import generate_key_ring_spec
from handoff.incidents import IncidentKind, IncidentLog


@pytest.fixture
def admission(redis: Redis, audit: AuditLog, key_ring: KeyRing, incidents: IncidentLog) -> IntakeAdmission:
    return IntakeAdmission(redis, audit, key_ring, incidents)


async def test_an_incident_raised_without_the_audit_keys_reaches_the_signed_log_through_the_intake(
    redis: Redis, keys: KeySpace, key_ring: KeyRing, queue: LiveAgentQueue, audit: AuditLog,
    admission: IntakeAdmission
) -> None:
    rasa_side = IncidentLog(redis, keys, queue.pseudonym, AuditIntake(keys, key_ring))
    incident = await rasa_side.raise_incident(IncidentKind.PATIENT_CREDENTIAL_FLOOD, limit_per_minute="25")

    assert await audit.entries() == []
    assert await admission.admit() == 1
    [entry] = await audit.entries()
    assert (entry.action, entry.conversation, entry.via) == ("incident_patient_credential_flood", incident, "intake")
    assert await redis.xlen(keys.audit_intake()) == 0
    await audit.seal()
    assert (await audit.verify()).entries == 1


async def test_two_consoles_admitting_at_once_admit_each_entry_once(
    redis: Redis, keys: KeySpace, key_ring: KeyRing, audit: AuditLog, incidents: IncidentLog
) -> None:
    intake = AuditIntake(keys, key_ring)
    for number in range(300):
        await redis.xadd(keys.audit_intake(), intake.prepare("system", "incident_login_flood", f"i-{number}", None))
    consoles = [IntakeAdmission(redis, audit, key_ring, incidents) for _ in range(2)]

    admitted = await asyncio.gather(*(console.admit() for console in consoles))

    assert sum(admitted) == 300
    assert sorted(entry.conversation for entry in await audit.entries()) == sorted(f"i-{n}" for n in range(300))
    await audit.seal()
    assert (await audit.verify()).entries == 300


async def test_a_process_with_only_the_data_keys_cannot_write_to_the_log_itself(
    redis: Redis, keys: KeySpace, key_ring: KeyRing, audit: AuditLog
) -> None:
    await audit.record("amy", "claim", "web-1", "10.0.0.1")
    forged = AuditIntake(keys, key_ring).prepare("amy", "close_resolved", "web-1", "10.0.0.1")
    await redis.xadd(keys.audit_log(), forged)

    with pytest.raises(AuditChainBroken, match="altered, inserted or made with a key"):
        await audit.verify()


@pytest.mark.parametrize("forgery", ["unkeyed", "other data key", "already admitted", "not an entry"])
async def test_an_intake_entry_slipped_in_with_redis_access_alone_is_rejected_and_raises_an_incident(
    redis: Redis, keys: KeySpace, key_ring: KeyRing, audit: AuditLog, admission: IntakeAdmission,
    incidents: IncidentLog, forgery: str
) -> None:
    entry = new_entry("amy", "acknowledge_crisis", "web-7", "10.0.0.9")
    if forgery == "other data key":
        other = KeyRing.from_spec(generate_key_ring_spec("k1"))
        key_id, mac = other.signed(INTAKE_PURPOSE, entry.encoded())
    elif forgery == "already admitted":
        entry = replace(entry, via="intake")
        key_id, mac = key_ring.signed(INTAKE_PURPOSE, entry.encoded())
    elif forgery == "not an entry":
        key_id, mac = key_ring.signed(INTAKE_PURPOSE, '{"actor": "amy"}')
    else:
        key_id, mac = "", ""
    encoded = '{"actor": "amy"}' if forgery == "not an entry" else entry.encoded()
    await redis.xadd(keys.audit_intake(), {"entry": encoded, "key": key_id, "mac": mac})

    assert await admission.admit() == 1

    rejected, raised = await audit.entries()
    assert (rejected.action, rejected.conversation, rejected.via) == ("audit_intake_rejected", "-", "intake")
    assert "web-7" not in json.dumps([asdict(rejected), asdict(raised)])
    [incident] = await incidents.incidents(unacknowledged_only=True)
    assert incident.kind == IncidentKind.AUDIT_CHAIN_BROKEN.value
    assert incident.details == {"fault": "1 audit intake entries failed their MAC"}
    assert (raised.action, raised.conversation) == ("incident_audit_chain_broken", incident.incident_id)
    await audit.seal()
    assert (await audit.verify()).entries == 2
