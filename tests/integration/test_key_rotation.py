"""``python -m handoff.keys rotate`` on a real Redis: after it the old data key can be retired and everything opens.

The tests use a Redis database of their own (Rasa trackers are not in a namespace: the rotation takes
every tracker of the database, and other tests' trackers must stay as they are).
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
from redis.asyncio import Redis

from compliance.rules import EpisodeFacts, Finding
from compliance.store import ComplianceStore
from handoff import AuditLog, CloseOutcome, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.crypto import EnvelopeError, generate_key_ring_spec
from handoff.key_rotation import KeyRotation
from handoff.models import CrisisFlag
from handoff.operations import OperationsEvents
from handoff.patient_sessions import PORTAL_FIELD, PatientSessions, portal_context
from handoff.redis_connection import async_redis
from handoff.retention import TRACKER_KEY_PREFIX, tracker_context
from handoff.rotation_scripts import RESEAL_STREAM_SCRIPT
from handoff.settings import PatientAccess
from handoff.spool import CrisisSpool, SpooledCrisis
from patients import RedisCareRecords, RedisPatientDirectory
from patients.key_rotation import patient_records
from patients.seed import DEMO_PATIENTS, load_patients, seed
from stack.redis_server import RedisServer
from tests.conftest import AUDIT_KEYS
from tests.redis_contents import every_stored_value, snapshot

ROTATION_DB = 7
KEY_A, KEY_B = generate_key_ring_spec("ka"), generate_key_ring_spec("kb")
OLD, ROTATING, RETIRED = KEY_A, f"{KEY_B},{KEY_A}", KEY_B
PORTAL_ID = "portal-patient-4471"
CRISIS_WORDS = "I want to end my life"


@pytest.fixture
def rotation_url(redis_server: RedisServer) -> str:
    return redis_server.url.rpartition("/")[0] + f"/{ROTATION_DB}"


@pytest_asyncio.fixture
async def db(rotation_url: str) -> AsyncIterator[Redis]:
    client = async_redis(rotation_url)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.close()


def ring(spec: str) -> KeyRing:
    return KeyRing.from_spec(spec)


async def write_everything(db: Redis, keys: KeySpace, spool_path: Path) -> str:
    """Every kind of sealed record, under key A alone; returns the conversation id of the patient session."""
    queue = LiveAgentQueue(db, ring(OLD), keys)
    await queue.record("p1", TranscriptRole.PATIENT, "my bill is wrong")
    await queue.enqueue_escalation("p1", "en", Skill.BILLING, Priority.NORMAL, "billing_question")
    await queue.claim("p1", "amy", ["en"])
    await queue.send_agent_message("p1", "amy", "Let me check")
    await queue.close("p1", "amy", CloseOutcome.BACK_TO_BOT)
    await queue.record("p1", TranscriptRole.PATIENT, CRISIS_WORDS)
    await queue.enqueue_escalation("p1", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_suicide_self_harm",
                                   CrisisFlag("suicide_self_harm", CRISIS_WORDS))
    await queue.claim("p1", "amy", ["en"])
    await queue.enqueue_escalation("p1", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_suicide_self_harm",
                                   CrisisFlag("suicide_self_harm", CRISIS_WORDS))
    await queue.send_agent_message("p1", "amy", "I am calling you now")
    sessions = PatientSessions(db, keys, ring(OLD), PatientAccess())
    credential = await sessions.open("198.51.100.7", PORTAL_ID)
    tracker = {"name": "p1", "events": [{"event": "user", "text": CRISIS_WORDS}]}
    await db.set(TRACKER_KEY_PREFIX + "p1", ring(OLD).seal(json.dumps(tracker).encode(), tracker_context("p1")))
    await seed(db, keys, ring(OLD), load_patients(DEMO_PATIENTS))
    CrisisSpool(spool_path, ring(OLD), keys.namespace).append(SpooledCrisis(
        "p2", "en", "behavioral-health", "crisis_suicide_self_harm", "suicide_self_harm", CRISIS_WORDS,
        CRISIS_WORDS, ("Call or text 988",), 1_700_000_000_000))
    await queue.enqueue_escalation("q1", "en", Skill.NURSE, Priority.URGENT, "test_results")
    return credential.conversation_id


async def read_everything(db: Redis, keys: KeySpace, spec: str, spool_path: Path, session: str) -> dict[str, object]:
    """Opens every record written by ``write_everything`` with the ring ``spec``."""
    key_ring = ring(spec)
    queue = LiveAgentQueue(db, key_ring, keys)
    conversation = await queue.conversation("p1")
    assert conversation is not None
    portal = await db.hget(keys.patient_session(session), PORTAL_FIELD)
    patient = load_patients(DEMO_PATIENTS)[0]
    tracker = await db.get(TRACKER_KEY_PREFIX + "p1")
    return {
        "transcript": [entry.text for entry in await queue.transcript("p1")],
        "outbox": [message.entry.text for message in await queue.agent_messages("p1", conversation.episode)],
        "episodes": [record["reason"] for record in await queue.closed_episodes("p1")],
        "facts": (conversation.reason, conversation.skill, conversation.crisis_category),
        "evidence": await queue.crisis_evidence("p1"),
        "alerts": [alert["category"] for alert in await queue.crisis_alerts("amy")],
        "portal": key_ring.open(portal.decode(), portal_context(session)).decode(),
        "tracker": json.loads(key_ring.open(tracker.decode(), tracker_context("p1")))["events"][0]["text"],
        "directory": (await RedisPatientDirectory(db, keys, key_ring).find_by_member_id(patient.member_id)),
        "refills": len(await RedisCareRecords(db, keys, key_ring).refills(patient.record.patient_id)),
        "spool": [crisis.evidence for crisis in CrisisSpool(spool_path, key_ring, keys.namespace).pending()],
    }


def run_keys(
    url: str, namespace: str, spec: str, arguments: list[str], spool: Path
) -> "subprocess.CompletedProcess[str]":
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HANDOFF_", "REDIS_"))}
    env.update(REDIS_URL=url, HANDOFF_NAMESPACE=namespace, HANDOFF_AUDIT_KEYS=AUDIT_KEYS,
               HANDOFF_AUDIT_ANCHOR=os.devnull, HANDOFF_CRISIS_SPOOL=str(spool))
    if spec:
        env["HANDOFF_DATA_KEYS"] = spec
    return subprocess.run([sys.executable, "-m", "handoff.keys", *arguments], env=env, capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])


async def test_after_rotation_the_old_key_is_retired_and_everything_opens(
    db: Redis, keys: KeySpace, rotation_url: str, tmp_path: Path
) -> None:
    spool = tmp_path / "crisis-spool.jsonl"
    session = await write_everything(db, keys, spool)
    before = await read_everything(db, keys, OLD, spool, session)
    assert before["transcript"] == ["my bill is wrong", "Let me check", CRISIS_WORDS, "I am calling you now"]
    assert before["evidence"] == CRISIS_WORDS and before["portal"] == PORTAL_ID
    with pytest.raises(EnvelopeError):
        await read_everything(db, keys, RETIRED, spool, session)

    rotated = await asyncio.to_thread(run_keys, rotation_url, keys.namespace, ROTATING, ["rotate"], spool)
    assert rotated.returncode == 0, rotated.stderr
    report = rotated.stdout
    for line in ("conversation fields: 6 re-encrypted", "skill tags: 2 re-encrypted",
                 "transcript entries: 4 re-encrypted",
                 "episode records: 1 re-encrypted", "outbox messages: 2 re-encrypted", "crisis alerts: 1 re-encrypted",
                 "patient sessions: 1 re-encrypted", "trackers: 1 re-encrypted", "crisis spool: 1 re-encrypted"):
        assert line in report
    patients = len(load_patients(DEMO_PATIENTS))
    assert f"patient directory: {patients} re-encrypted" in report
    assert f"care records: {3 * patients} re-encrypted" in report

    assert await read_everything(db, keys, RETIRED, spool, session) == before
    stored = await every_stored_value(db)
    assert not [value for value in stored if b"v1.ka." in value], "nothing is left under the retired key"
    assert b"v1.ka." not in spool.read_bytes()
    again = await asyncio.to_thread(run_keys, rotation_url, keys.namespace, RETIRED, ["rotate"], spool)
    assert again.returncode == 0
    assert "transcript entries: 0 re-encrypted, 4 already under the newest key" in again.stdout
    actions = [entry.action for entry in await AuditLog(db, keys, ring(AUDIT_KEYS)).entries()]
    assert actions.count("key_rotation") == 2
    claimed = await LiveAgentQueue(db, ring(RETIRED), keys).claim("q1", "nina", ["en"], ["nurse"])
    assert claimed.agent_id == "nina", "a skill tag made with the retired key is made again with the newest"


async def test_a_dry_run_counts_and_changes_nothing_but_its_audit_entry(
    db: Redis, keys: KeySpace, rotation_url: str, tmp_path: Path
) -> None:
    spool = tmp_path / "crisis-spool.jsonl"
    await write_everything(db, keys, spool)
    before, spooled = await snapshot(db, "*"), spool.read_bytes()
    dry = await asyncio.to_thread(run_keys, rotation_url, keys.namespace, ROTATING, ["rotate", "--dry-run"], spool)
    assert dry.returncode == 0, dry.stderr
    assert "dry run, nothing changed" in dry.stdout and "transcript entries: 4 to re-encrypt" in dry.stdout
    after = await snapshot(db, "*")
    audit_log = keys.audit_log().encode()
    assert {k: v for k, v in after.items() if k != audit_log} == {k: v for k, v in before.items() if k != audit_log}
    assert spool.read_bytes() == spooled
    assert [entry.action for entry in await AuditLog(db, keys, ring(AUDIT_KEYS)).entries()] == ["key_rotation_dry_run"]


@pytest.mark.parametrize(
    ("spec", "arguments", "says"),
    [
        ("", ["rotate"], "HANDOFF_DATA_KEYS is not set"),
        ("kb:AAAA", ["rotate"], "must be 32 bytes"),
        (ROTATING, ["rotate", "--all"], "unrecognized arguments: --all"),
        (ROTATING, ["retire"], "invalid choice: 'retire'"),
        (ROTATING, [], "required"),
    ],
)
async def test_bad_input_exits_2_and_changes_nothing(
    db: Redis, keys: KeySpace, rotation_url: str, tmp_path: Path, spec: str, arguments: list[str], says: str
) -> None:
    spool = tmp_path / "crisis-spool.jsonl"
    await write_everything(db, keys, spool)
    before, spooled = await snapshot(db, "*"), spool.read_bytes()
    refused = await asyncio.to_thread(run_keys, rotation_url, keys.namespace, spec, arguments, spool)
    assert refused.returncode == 2 and says in refused.stderr
    assert await snapshot(db, "*") == before and spool.read_bytes() == spooled


async def test_a_record_that_does_not_open_is_named_left_and_fails_the_run(
    db: Redis, keys: KeySpace, rotation_url: str, tmp_path: Path
) -> None:
    spool = tmp_path / "crisis-spool.jsonl"
    await write_everything(db, keys, spool)
    foreign = ring(generate_key_ring_spec("kz")).seal(b"sealed elsewhere", "transcript")
    await db.rpush(keys.transcript("p1"), foreign)
    result = await asyncio.to_thread(run_keys, rotation_url, keys.namespace, ROTATING, ["rotate"], spool)
    assert result.returncode == 1
    assert "unreadable, left as they are (do not retire a key yet): transcript entries c-" in result.stdout
    assert await db.lindex(keys.transcript("p1"), -1) == foreign.encode()


async def test_appends_during_the_rotation_are_never_lost(db: Redis, rotation_url: str, keys: KeySpace) -> None:
    """Patient and agent messages keep arriving (sealed with the new key) while the rotation runs."""
    old = LiveAgentQueue(db, ring(OLD), keys)
    for conversation_id in ("p1", "p2", "p3"):
        for n in range(60):
            await old.record(conversation_id, TranscriptRole.PATIENT, f"before {n}")
        await old.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
        await old.claim(conversation_id, "amy", ["en"])
        await old.send_agent_message(conversation_id, "amy", "before")
    async with async_redis(rotation_url) as elsewhere:
        live = LiveAgentQueue(elsewhere, ring(ROTATING), keys)
        rotation = KeyRotation(db, keys, ring(ROTATING), AuditLog(db, keys, ring(AUDIT_KEYS)), "test",
                               patient_records(db, keys, ring(ROTATING)))
        writes = [live.record(conversation_id, TranscriptRole.PATIENT, f"during {n}")
                  for n in range(20) for conversation_id in ("p1", "p2", "p3")]
        writes += [live.send_agent_message(conversation_id, "amy", f"agent {n}")
                   for n in range(10) for conversation_id in ("p1", "p2", "p3")]
        report, *_ = await asyncio.gather(rotation.run(apply=True), *writes)
    assert report.unreadable == []
    retired = LiveAgentQueue(db, ring(RETIRED), keys)
    for conversation_id in ("p1", "p2", "p3"):
        texts = [entry.text for entry in await retired.transcript(conversation_id)]
        assert texts[:61] == [*(f"before {n}" for n in range(60)), "before"]
        assert sorted(texts[61:]) == sorted([*(f"during {n}" for n in range(20)), *(f"agent {n}" for n in range(10))])
        outbox = [message.entry.text for message in await retired.agent_messages(conversation_id, 1)]
        assert outbox[0] == "before" and sorted(outbox[1:]) == sorted(f"agent {n}" for n in range(10))


async def test_a_stale_outbox_rewrite_is_refused_and_the_new_message_kept(db: Redis, keys: KeySpace) -> None:
    """The rotation read the outbox, then an agent message arrived: its rewrite must not drop that message."""
    queue = LiveAgentQueue(db, ring(ROTATING), keys)
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("p1", "amy", ["en"])
    await queue.send_agent_message("p1", "amy", "first")
    outbox = keys.outbox("p1", 1)
    read = [(entry_id.decode(), [part.decode() for item in fields.items() for part in item])
            for entry_id, fields in await db.xrange(outbox)]
    await queue.send_agent_message("p1", "amy", "second")
    rewrite = db.register_script(RESEAL_STREAM_SCRIPT)
    assert await rewrite(keys=[outbox], args=[json.dumps(read)]) == 0
    assert [message.entry.text for message in await queue.agent_messages("p1", 1)] == ["first", "second"]


async def test_events_totals_and_findings_are_resealed_and_the_figures_add_up(
    db: Redis, keys: KeySpace, rotation_url: str, tmp_path: Path
) -> None:
    """The operations events and the review's findings go along: the figures add up totals made under both keys."""
    await OperationsEvents(db, keys, ring(OLD)).bot_turn("en")
    store = ComplianceStore(db, keys, ring(OLD))
    facts = EpisodeFacts("web-rotated", 1, 0, 2, closed_at_ms=1_700_000_000_000)
    review_id = await store.hold_for_review(facts)
    await store.save_review(review_id, facts, (Finding("phi_to_unverified_patient", "critical", "DOB 03/14/1962",
                                                       1_700_000_000_000),))
    await store.hold_for_review(EpisodeFacts("web-waiting", 1, 0, 3, closed_at_ms=1_700_000_000_000))
    await OperationsEvents(db, keys, ring(ROTATING)).bot_turn("en")

    rotated = await asyncio.to_thread(run_keys, rotation_url, keys.namespace, ROTATING, ["rotate"],
                                      tmp_path / "spool.jsonl")
    assert rotated.returncode == 0, rotated.stderr
    for line in ("compliance findings: 1 re-encrypted", "episodes held for review: 1 re-encrypted",
                 "operations events: 1 re-encrypted, 1 already under the newest key",
                 "operations total names: 1 re-encrypted, 1 already under the newest key"):
        assert line in rotated.stdout

    assert not [value for value in await every_stored_value(db) if b"v1.ka." in value]
    retired = OperationsEvents(db, keys, ring(RETIRED))
    assert (await retired.totals())["bot_turn|language=en"] == 2, "totals under the old and the new key add up"
    assert [event.kind for event in await retired.events(0)] == ["bot_turn", "bot_turn"]
    [finding] = await ComplianceStore(db, keys, ring(RETIRED)).findings(0)
    assert finding.finding.evidence == "DOB 03/14/1962"
    [(_, waiting)] = await ComplianceStore(db, keys, ring(RETIRED)).pending(0)
    assert waiting.conversation_id == "web-waiting"
