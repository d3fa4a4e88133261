"""PHI is not kept forever, and an open conversation never expires: expiries and the purge on a real Redis.

Data "written before this change" is written here the way the earlier code did, with raw
Redis commands and no expiry, so that the purge has something past retention to find.
"""

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from handoff import AuditLog, CloseOutcome, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.crypto import generate_key_ring_spec
from handoff.models import CrisisDisposition, CrisisFlag, TranscriptEntry
from handoff.queue import OUTBOX_DRAIN_MS, now_ms
from handoff.retention import TRACKER_KEY_PREFIX, RetentionPurge, tracker_context
from handoff.retention_scripts import PURGE_CONVERSATION_SCRIPT
from handoff.sealed_records import ConversationSeals
from handoff.settings import DAY_MS
from stack.redis_server import RedisServer
from tests.conftest import AUDIT_KEYS
from tests.redis_contents import every_stored_value, snapshot

RETENTION_MS = 30 * DAY_MS


@pytest.fixture
def queue(redis: Redis, key_ring: KeyRing, keys: KeySpace) -> LiveAgentQueue:
    return LiveAgentQueue(redis, key_ring, keys, RETENTION_MS)


def purge(queue: LiveAgentQueue, audit_keys: KeyRing, retention_ms: int = RETENTION_MS) -> RetentionPurge:
    return RetentionPurge(queue, AuditLog(queue.redis, queue.keys, audit_keys), retention_ms, "tester")


def reach(keys: KeySpace) -> tuple[str, str]:
    """The keys a purge of the namespace may change: the namespace's own, and Rasa's trackers."""
    return f"{{{keys.namespace}}}:*", f"{TRACKER_KEY_PREFIX}*"


async def expiries(redis: Redis, keys: KeySpace, conversation_id: str) -> list[int]:
    return [await redis.pttl(key) for key in
            (keys.conversation(conversation_id), keys.transcript(conversation_id), keys.episodes(conversation_id))]


async def test_an_open_conversation_never_expires_and_a_closed_one_does(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await queue.record("p1", TranscriptRole.PATIENT, "hello")
    await queue.remember_language("p1", "en")
    assert [0 < ttl <= RETENTION_MS for ttl in (await expiries(redis, keys, "p1"))[:2]] == [True, True]
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert await expiries(redis, keys, "p1") == [-1, -1, -2]
    await queue.record("p1", TranscriptRole.PATIENT, "still there?")
    await queue.remember_language("p1", "es")
    await queue.claim("p1", "amy", ["es"])
    await queue.send_agent_message("p1", "amy", "hi")
    await queue.enqueue_escalation("p1", "es", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_suicide_self_harm",
                                   CrisisFlag("suicide_self_harm", "end it"))
    await queue.record("p1", TranscriptRole.PATIENT, "please")
    assert await expiries(redis, keys, "p1") == [-1, -1, -2]
    assert await redis.pttl(keys.outbox("p1", 1)) == -1

    await queue.close("p1", "amy", CloseOutcome.BACK_TO_BOT, CrisisDisposition.PHONE_FOLLOW_UP_DONE)
    assert all(0 < ttl <= RETENTION_MS for ttl in await expiries(redis, keys, "p1"))
    assert 0 < await redis.pttl(keys.outbox("p1", 1)) <= OUTBOX_DRAIN_MS
    await queue.take_resume_pending("p1")
    await queue.record("p1", TranscriptRole.PATIENT, "back with the bot")
    assert all(0 < ttl <= RETENTION_MS for ttl in await expiries(redis, keys, "p1"))
    await queue.enqueue_escalation("p1", "es", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert await expiries(redis, keys, "p1") == [-1, -1, -1]


async def test_an_expired_conversation_is_gone_from_every_key_and_an_open_one_stays(
    redis: Redis, key_ring: KeyRing, keys: KeySpace, audit_keys: KeyRing
) -> None:
    brief = LiveAgentQueue(redis, key_ring, keys, retention_ms=200)
    closed, waiting = f"p-{uuid.uuid4().hex[:8]}", f"p-{uuid.uuid4().hex[:8]}"
    for conversation_id in (closed, waiting):
        await brief.record(conversation_id, TranscriptRole.PATIENT, "I need help")
        await brief.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    audit = AuditLog(redis, keys, audit_keys)
    await brief.claim(closed, "amy", ["en"], audit=audit.prepare("amy", "claim", closed, "-"))
    await brief.enqueue_escalation(closed, "en", Skill.NURSE, Priority.CRISIS, "crisis_medical_emergency",
                                   CrisisFlag("medical_emergency", "chest pain"))
    await brief.send_agent_message(closed, "amy", "calling you")
    await brief.close(closed, "amy", CloseOutcome.CLOSED, CrisisDisposition.EMERGENCY_SERVICES_CONTACTED,
                      audit.prepare("amy", "close_closed", closed, "-"))
    namespace = f"{{{keys.namespace}}}:*"
    for _ in range(100):
        if not [key for key in await redis.keys(namespace) if closed.encode() in key]:
            break
        await asyncio.sleep(0.1)
    await purge(brief, audit_keys, retention_ms=200).run(apply=True)

    holding = [key for key in await redis.keys(namespace)
               if any(closed.encode() in value for value in [key, *await every_stored_value(redis, key.decode())])]
    assert holding == [keys.audit_log().encode()], "only the audit log (kept six years) still names it"
    assert await expiries(redis, keys, waiting) == [-1, -1, -2]
    still = await brief.conversation(waiting)
    assert still is not None and still.state.value == "QUEUED"
    assert [entry.text for entry in await brief.transcript(waiting)] == ["I need help"]


def sealed_entry(key_ring: KeyRing, conversation_id: str, text: str, at_ms: int) -> str:
    entry = TranscriptEntry(TranscriptRole.PATIENT, text, at_ms)
    return ConversationSeals(key_ring).transcript_entry(conversation_id, 0, entry)


async def write_as_before_expiries(redis: Redis, keys: KeySpace, key_ring: KeyRing, conversation_id: str,
                                   state: str, at_ms: int) -> None:
    """A conversation the way the code before retention left it: every key, no expiry."""
    await redis.hset(keys.conversation(conversation_id), mapping={
        "state": state, "language": "en", "updated_at": at_ms, "enqueued_at": at_ms - 60_000, "episode": 1})
    await redis.rpush(keys.transcript(conversation_id), sealed_entry(key_ring, conversation_id, "my words", at_ms))
    if state == "QUEUED":
        await redis.zadd(keys.queue("en"), {conversation_id: at_ms})
        return
    record = {"episode": 1, "closed_by": "amy", "closed_at_ms": at_ms, "outcome": "closed"}
    sealed_record = ConversationSeals(key_ring).episode_record(conversation_id, 0, record)
    await redis.rpush(keys.episodes(conversation_id), sealed_record)
    await redis.xadd(keys.outbox(conversation_id, 1), {"entry": "sealed"}, id=f"{at_ms - 1000}-0")


async def write_tracker(redis: Redis, key_ring: KeyRing, sender_id: str, at_ms: int) -> str:
    tracker = {"name": sender_id, "events": [{"event": "user", "timestamp": (at_ms - 5000) / 1000},
                                             {"event": "bot", "timestamp": at_ms / 1000}]}
    sealed = key_ring.seal(json.dumps(tracker).encode(), tracker_context(sender_id))
    await redis.set(TRACKER_KEY_PREFIX + sender_id, sealed)
    return TRACKER_KEY_PREFIX + sender_id


async def test_the_purge_deletes_what_is_past_retention_dates_the_rest_and_never_touches_open_or_audit(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace, key_ring: KeyRing, audit_keys: KeyRing
) -> None:
    now = now_ms()
    old, recent, bot_only, waiting, retired = (f"p-{name}-{uuid.uuid4().hex[:6]}"
                                               for name in ("old", "recent", "bot", "open", "retired"))
    await write_as_before_expiries(redis, keys, key_ring, old, "CLOSED", now - 40 * DAY_MS)
    await write_as_before_expiries(redis, keys, key_ring, recent, "BOT", now - 5 * DAY_MS)
    await write_as_before_expiries(redis, keys, key_ring, waiting, "QUEUED", now - 400 * DAY_MS)
    await redis.rpush(keys.transcript(bot_only), sealed_entry(key_ring, bot_only, "hi", now - 31 * DAY_MS))
    other_ring = KeyRing.from_spec(generate_key_ring_spec("gone"))
    await redis.rpush(keys.transcript(retired), sealed_entry(other_ring, retired, "hi", now - 90 * DAY_MS))
    old_tracker = await write_tracker(redis, key_ring, old, now - 40 * DAY_MS)
    recent_tracker = await write_tracker(redis, key_ring, recent, now - 5 * DAY_MS)
    old_alert = await redis.xadd(keys.crisis_alerts(), {"conversation": old}, id=f"{now - 40 * DAY_MS}-0")
    await redis.xadd(keys.crisis_alerts(), {"conversation": recent})
    audit = AuditLog(redis, keys, audit_keys)
    await redis.xadd(keys.audit_log(), audit.prepare("amy", "claim", old, "-"), id=f"{now - 7 * 365 * DAY_MS}-0")
    open_before = await snapshot(redis, f"*{waiting}*", keys.queue("en"))

    before = await snapshot(redis, *reach(keys))
    report = await purge(queue, audit_keys).run(apply=False)
    after = await snapshot(redis, *reach(keys))
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert changed == {keys.audit_log().encode()}, "a dry run changes nothing but the audit log"
    assert [entry.action for entry in await audit.entries()][-1] == "retention_purge_dry_run"
    assert (len(report.deleted), len(report.expiring), report.kept_open) == (2, 1, 1)
    assert (report.trackers_deleted, report.trackers_expiring, report.alerts_trimmed) == (1, 1, 1)
    assert report.unreadable == [queue.pseudonym(retired)]

    await purge(queue, audit_keys).run(apply=True)
    for gone in (old, bot_only):
        assert await redis.exists(keys.conversation(gone), keys.transcript(gone), keys.episodes(gone),
                                  keys.outbox(gone, 1)) == 0
    expected = now - 5 * DAY_MS + RETENTION_MS
    for key in (keys.conversation(recent), keys.transcript(recent), keys.episodes(recent)):
        assert await redis.execute_command("PEXPIRETIME", key) == expected
    assert await redis.exists(old_tracker) == 0
    assert await redis.execute_command("PEXPIRETIME", recent_tracker) == expected
    assert old_alert not in [entry_id for entry_id, _ in await redis.xrange(keys.crisis_alerts())]
    assert await snapshot(redis, f"*{waiting}*", keys.queue("en")) == open_before
    assert await redis.pttl(keys.transcript(retired)) == -1

    trail = [(entry.actor, entry.action, entry.conversation) for entry in await audit.entries()]
    assert trail[0] == ("amy", "claim", old), "the audit log is never purged"
    assert {("retention-purge", "retention_deleted", old), ("retention-purge", "retention_deleted", bot_only),
            ("retention-purge", "retention_expiry_set", recent),
            ("retention-purge", "retention_deleted_tracker", old),
            ("retention-purge", "retention_expiry_set_tracker", recent),
            ("retention-purge", "retention_trimmed_alerts", "-")} <= set(trail)
    assert not {entry for entry in trail if entry[2] in (waiting, retired)}


async def test_a_conversation_that_changed_after_the_purge_read_it_is_left_alone(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace, key_ring: KeyRing, audit_keys: KeyRing
) -> None:
    """The purge read a conversation past retention; meanwhile the patient came back, or it was escalated."""
    at = now_ms() - 40 * DAY_MS
    await write_as_before_expiries(redis, keys, key_ring, "p1", "CLOSED", at)
    script = redis.register_script(PURGE_CONVERSATION_SCRIPT)
    family = [keys.conversation("p1"), keys.transcript("p1"), keys.episodes("p1"), keys.audit_log()]
    read_by_the_purge = ["delete", 0, "CLOSED", str(at), 1, 1, "", "", ""]
    await queue.record("p1", TranscriptRole.PATIENT, "I am back")
    assert await script(keys=family, args=read_by_the_purge) == b"changed"
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert await script(keys=family, args=[*read_by_the_purge[:3], await redis.hget(family[0], "updated_at"), 2,
                                           *read_by_the_purge[5:]]) == b"open"
    assert [entry.text for entry in await queue.transcript("p1")] == ["my words", "I am back"]
    assert await expiries(redis, keys, "p1") == [-1, -1, -1]


def run_purge(redis_url: str, namespace: str, key_ring_spec: str, arguments: list[str],
              environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("HANDOFF_", "PHI_", "REDIS_"))}
    env.update(REDIS_URL=redis_url, HANDOFF_NAMESPACE=namespace, HANDOFF_DATA_KEYS=key_ring_spec,
               HANDOFF_AUDIT_KEYS=AUDIT_KEYS, HANDOFF_AUDIT_ANCHOR=os.devnull)
    env.update(environment)
    return subprocess.run([sys.executable, "-m", "handoff.retention", *arguments], env=env, capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])


@pytest.mark.parametrize(
    ("arguments", "environment", "says"),
    [
        ([], {}, "required"),
        (["purge"], {}, "one of the arguments --dry-run --apply is required"),
        (["purge", "--dry-run", "--apply"], {}, "not allowed with"),
        (["purge", "--apply", "--days", "1"], {}, "unrecognized arguments"),
        (["erase", "--apply"], {}, "invalid choice"),
        (["purge", "--apply"], {"PHI_RETENTION_DAYS": "0"}, "PHI_RETENTION_DAYS must be a whole number of 1 or more"),
        (["purge", "--apply"], {"PHI_RETENTION_DAYS": "-3"}, "PHI_RETENTION_DAYS must be a whole number"),
        (["purge", "--apply"], {"PHI_RETENTION_DAYS": "ten"}, "PHI_RETENTION_DAYS must be a whole number"),
        (["purge", "--apply"], {"PHI_RETENTION_DAYS": "99999999999"}, "PHI_RETENTION_DAYS must be at most"),
        (["purge", "--apply"], {"HANDOFF_AUDIT_KEYS": ""}, "HANDOFF_AUDIT_KEYS is not set"),
        (["purge", "--apply"], {"HANDOFF_DATA_KEYS": "k1:c2hvcnQ="}, "must be 32 bytes"),
    ],
)
async def test_bad_input_to_the_purge_command_changes_nothing(
    redis_server: RedisServer, redis: Redis, keys: KeySpace, key_ring: KeyRing, key_ring_spec: str,
    arguments: list[str], environment: dict[str, str], says: str,
) -> None:
    conversation_id = f"p-{uuid.uuid4().hex[:8]}"
    await write_as_before_expiries(redis, keys, key_ring, conversation_id, "CLOSED", now_ms() - 40 * DAY_MS)
    before = await snapshot(redis, *reach(keys))
    refused = await asyncio.to_thread(run_purge, redis_server.url, keys.namespace, key_ring_spec, arguments,
                                      environment)
    assert refused.returncode == 2 and says in refused.stderr, refused.stderr
    assert await snapshot(redis, *reach(keys)) == before


async def test_the_purge_command_reports_then_applies(
    redis_server: RedisServer, redis: Redis, keys: KeySpace, key_ring: KeyRing, key_ring_spec: str
) -> None:
    conversation_id = f"p-{uuid.uuid4().hex[:8]}"
    await write_as_before_expiries(redis, keys, key_ring, conversation_id, "CLOSED", now_ms() - 40 * DAY_MS)
    for mode, says in (("--dry-run", "conversations past retention to delete: 1"),
                       ("--apply", "conversations past retention deleted: 1")):
        done = await asyncio.to_thread(run_purge, redis_server.url, keys.namespace, key_ring_spec, ["purge", mode],
                                       {"PHI_RETENTION_DAYS": "30"})
        assert done.returncode == 0 and says in done.stdout, done.stderr
        assert conversation_id not in done.stdout, "it names conversations by their log pseudonyms"
    assert await redis.exists(keys.conversation(conversation_id), keys.transcript(conversation_id)) == 0
