"""Every read of PHI or health facts by an agent is in the audit log, and the running system's log verifies."""

import asyncio
import os
import sys
from asyncio.subprocess import PIPE

import aiohttp
from redis.asyncio import Redis

from handoff import AuditLog, KeyRing, KeySpace
from stack.services import Stack
from tests.e2e.patient_client import AgentClient, Patient, handoff_of
from tests.e2e.training_messages import training_message


async def test_lists_pages_and_changes_are_all_audited_and_the_log_verifies(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis, amy: AgentClient
) -> None:
    audit = AuditLog(redis, KeySpace(stack.config.namespace), KeyRing.from_spec(stack.config.audit_keys),
                     stack.audit_anchor)
    before = len(await audit.entries())
    patient = Patient(http, stack)
    assert handoff_of(await patient.say(training_message("en", "request_human"))) is not None
    conversation = f"/api/conversations/{patient.sender}"
    calls = [
        ("GET", "/api/queue", None),
        ("POST", f"{conversation}/claim", None),
        ("GET", f"{conversation}/transcript", None),
        ("GET", f"{conversation}/transcript?from=2", None),
        ("POST", f"{conversation}/messages", {"text": "Hello from Amy"}),
        ("GET", "/api/mine", None),
        ("GET", "/api/alerts", None),
        ("POST", f"{conversation}/close", {"outcome": "closed"}),
    ]
    for method, path, body in calls:
        status, response = await amy.call(method, path, body)
        assert status in (200, 201), (path, response)
    mine = [(e.action, e.conversation) for e in (await audit.entries())[before:] if e.actor == "amy"]
    expected = [
        ("list_queue", "-"), ("claim", patient.sender), ("read_transcript", patient.sender),
        ("read_transcript", patient.sender), ("send_message", patient.sender), ("list_mine", "-"),
        ("read_alerts", "-"), ("close_closed", patient.sender),
    ]
    assert [entry for entry in mine if entry in expected] == expected

    await asyncio.sleep(6)
    assert stack.audit_anchor.exists(), "the console seals checkpoints into the anchor file"
    verify = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "handoff.audit", "verify",
        env=dict(stack.console_environment(), PYTHONPATH=os.getcwd()), stdout=PIPE, stderr=PIPE,
    )
    out, err = await asyncio.wait_for(verify.communicate(), timeout=60)
    assert verify.returncode == 0, err.decode()
    assert "audit log intact" in out.decode()


async def audit_command(stack: Stack, *arguments: str, **environment: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "handoff.audit", *arguments,
        env=dict(stack.console_environment(), PYTHONPATH=os.getcwd(), **environment), stdout=PIPE, stderr=PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_archive_command_keeps_young_entries_and_refuses_a_retention_shorter_than_the_archive_age(
    stack: Stack, redis: Redis
) -> None:
    keys = KeySpace(stack.config.namespace)
    before = await redis.xlen(keys.audit_log())

    status, out, err = await audit_command(stack, "archive", AUDIT_RETENTION_DAYS="30", AUDIT_ARCHIVE_AFTER_DAYS="90")
    assert status == 2 and "AUDIT_RETENTION_DAYS (30) must be at least AUDIT_ARCHIVE_AFTER_DAYS (90)" in err
    assert "nothing was read or changed" in err and await redis.xlen(keys.audit_log()) == before

    status, out, err = await audit_command(stack, "archive")
    assert status == 0, err
    assert "nothing old enough to archive" in out and "audit log intact" in out
    status, out, err = await audit_command(stack, "verify", "--archives")
    assert status == 0, err
    assert "archive files intact: 0 entries" in out and not stack.audit_archive.exists()
