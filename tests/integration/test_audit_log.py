"""The audit log against a real Redis, attacked the way the operator-HIPAA issue did.

Whoever has write access to Redis (but not the audit key) edits, inserts,
deletes, reorders and truncates entries, deletes the whole log, and replays an
entry; each must be caught by ``verify``, which names the first broken record.
"""

import asyncio
import io
import json
from pathlib import Path

import pytest
from redis.asyncio import Redis

from handoff import AuditLog, KeyRing, KeySpace
from handoff.audit import AuditChainBroken
from handoff.crypto import EnvelopeError, generate_key_ring_spec


@pytest.fixture
def anchor(tmp_path: Path) -> Path:
    return tmp_path / "audit-anchor.jsonl"


async def recorded_log(redis: Redis, keys: KeySpace, audit_keys: KeyRing, anchor: Path) -> AuditLog:
    audit = AuditLog(redis, keys, audit_keys, anchor)
    await audit.record("amy", "claim", "p1", "127.0.0.1")
    await audit.record("amy", "read_transcript", "p1", "127.0.0.1")
    await audit.record("amy", "close_bot", "p1", None)
    await audit.seal()
    return audit


async def rebuild(redis: Redis, stream: str, rows: list) -> None:
    """What an attacker with Redis write access does: rewrites the stream with chosen ids and contents."""
    await redis.delete(stream)
    for entry_id, fields in sorted(rows, key=lambda row: tuple(int(part) for part in row[0].split(b"-"))):
        await redis.xadd(stream, fields, id=entry_id)


async def test_a_replayed_unsealed_entry_is_named(
    redis: Redis, keys: KeySpace, audit_keys: KeyRing, anchor: Path
) -> None:
    audit = await recorded_log(redis, keys, audit_keys, anchor)
    first = (await redis.xrange(keys.audit_log()))[0][1]
    replayed = await redis.xadd(keys.audit_log(), first)
    with pytest.raises(AuditChainBroken, match=f"{replayed.decode()} replays"):
        await audit.verify()


async def test_the_log_verifies_and_lists_entries(
    redis: Redis, keys: KeySpace, audit_keys: KeyRing, anchor: Path
) -> None:
    audit = await recorded_log(redis, keys, audit_keys, anchor)
    await audit.record("amy", "list_queue", "-", None)
    verified = await audit.verify()
    assert (verified.entries, verified.sealed, verified.checkpoints) == (4, 3, 1)
    assert [(e.actor, e.action, e.conversation, e.source) for e in await audit.entries()][:3] == [
        ("amy", "claim", "p1", "127.0.0.1"),
        ("amy", "read_transcript", "p1", "127.0.0.1"),
        ("amy", "close_bot", "p1", "-"),
    ]


async def test_500_concurrent_appends_lose_nothing(
    redis: Redis, keys: KeySpace, audit_keys: KeyRing, anchor: Path
) -> None:
    audit = AuditLog(redis, keys, audit_keys, anchor)
    results = await asyncio.gather(
        *(audit.record(f"agent{i}", "claim", f"p{i}", None) for i in range(500)), return_exceptions=True
    )
    assert [r for r in results if isinstance(r, BaseException)] == []
    await asyncio.gather(audit.seal(), audit.seal())
    verified = await audit.verify()
    assert verified.entries == verified.sealed == 500


async def test_an_edited_entry_is_named(redis: Redis, keys: KeySpace, audit_keys: KeyRing, anchor: Path) -> None:
    audit = await recorded_log(redis, keys, audit_keys, anchor)
    rows = await redis.xrange(keys.audit_log())
    entry_id, fields = rows[1]
    forged = json.loads(fields[b"entry"])
    forged["actor"] = "someone-else"
    rows[1] = (entry_id, {b"entry": json.dumps(forged).encode(), b"key": fields[b"key"], b"mac": fields[b"mac"]})
    await rebuild(redis, keys.audit_log(), rows)
    with pytest.raises(AuditChainBroken, match=entry_id.decode()):
        await audit.verify()


async def test_an_entry_made_with_the_data_keys_is_refused(
    redis: Redis, keys: KeySpace, audit_keys: KeyRing, key_ring: KeyRing, anchor: Path
) -> None:
    """A process that holds only the data keys (every Rasa process) cannot forge the log."""
    await recorded_log(redis, keys, audit_keys, anchor)
    forger = AuditLog(redis, keys, key_ring)
    await forger.record("amy", "claim", "p2", None)
    with pytest.raises(AuditChainBroken, match="altered, inserted"):
        await AuditLog(redis, keys, audit_keys, anchor).verify()


@pytest.mark.parametrize("attack", ["delete", "reorder", "replay", "truncate"])
async def test_deleting_reordering_replaying_or_truncating_sealed_entries_is_detected(
    redis: Redis, keys: KeySpace, audit_keys: KeyRing, anchor: Path, attack: str
) -> None:
    audit = await recorded_log(redis, keys, audit_keys, anchor)
    rows = await redis.xrange(keys.audit_log())
    ids = [entry_id for entry_id, _ in rows]
    contents = [fields for _, fields in rows]
    if attack == "delete":
        await redis.xdel(keys.audit_log(), ids[1])
    elif attack == "reorder":
        await rebuild(redis, keys.audit_log(), list(zip(ids, [contents[1], contents[0], contents[2]], strict=True)))
    elif attack == "replay":
        await rebuild(redis, keys.audit_log(), [(ids[0], contents[0]), (b"0-1", contents[0])][::-1] + rows[1:])
    else:
        await redis.xdel(keys.audit_log(), ids[-1])
    with pytest.raises(AuditChainBroken, match=r"deleted, inserted or reordered|replays"):
        await audit.verify()


async def test_deleting_the_whole_log_and_its_checkpoints_is_caught_by_the_anchor(
    redis: Redis, keys: KeySpace, audit_keys: KeyRing, anchor: Path
) -> None:
    audit = await recorded_log(redis, keys, audit_keys, anchor)
    await redis.delete(keys.audit_log(), keys.audit_checkpoints())
    with pytest.raises(AuditChainBroken, match="anchor file but not in Redis"):
        await audit.verify()


async def test_dropping_the_newest_checkpoint_with_its_entries_is_caught_by_the_anchor(
    redis: Redis, keys: KeySpace, audit_keys: KeyRing, anchor: Path
) -> None:
    audit = await recorded_log(redis, keys, audit_keys, anchor)
    await audit.record("amy", "send_message", "p1", None)
    await audit.seal()
    last_entry = (await redis.xrevrange(keys.audit_log(), count=1))[0][0]
    last_checkpoint = (await redis.xrevrange(keys.audit_checkpoints(), count=1))[0][0]
    await redis.xdel(keys.audit_log(), last_entry)
    await redis.xdel(keys.audit_checkpoints(), last_checkpoint)
    with pytest.raises(AuditChainBroken, match="checkpoint 2"):
        await audit.verify()


async def test_a_new_audit_key_keeps_old_segments_verifiable(
    redis: Redis, keys: KeySpace, audit_keys: KeyRing, anchor: Path
) -> None:
    await recorded_log(redis, keys, audit_keys, anchor)
    rotated = KeyRing.from_spec(f"{generate_key_ring_spec('a2')},{_spec_of(audit_keys)}")
    audit = AuditLog(redis, keys, rotated, anchor)
    await audit.record("amy", "claim", "p3", None)
    await audit.seal()
    assert (await audit.verify()).checkpoints == 2


async def test_export_writes_signed_lines_sealed_so_no_conversation_id_is_on_disk_in_clear(
    redis: Redis, keys: KeySpace, audit_keys: KeyRing, anchor: Path
) -> None:
    audit = await recorded_log(redis, keys, audit_keys, anchor)
    await audit.record("amy", "read_transcript", "sms:+15550104477", "10.0.0.7")
    out = io.StringIO()
    assert await audit.export(0, out) == 4
    written = out.getvalue()
    assert written.count("\n") == 1 and "15550104477" not in written and "read_transcript" not in written
    tampered = written[:-6] + ("A" if written[-6] != "A" else "B") + written[-5:]
    with pytest.raises(EnvelopeError):
        audit.open_export(tampered)
    lines = audit.open_export(written).splitlines()
    assert "sms:+15550104477" in lines[3]
    trailer = json.loads(lines[-1])["export"]
    assert trailer["entries"] == 4 and audit_keys.verify_signed(trailer["key"], "audit-export", trailer["sha256"],
                                                                 trailer["mac"])


def _spec_of(ring: KeyRing) -> str:
    from tests.conftest import AUDIT_KEYS

    assert KeyRing.from_spec(AUDIT_KEYS).signed("x", "y") == ring.signed("x", "y")
    return AUDIT_KEYS
