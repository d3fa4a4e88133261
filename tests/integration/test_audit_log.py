import asyncio
import json

import pytest
from redis.asyncio import Redis

from handoff import AuditLog, KeyRing, KeySpace
from handoff.audit import AuditChainBroken


async def recorded_log(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> AuditLog:
    audit = AuditLog(redis, keys, key_ring)
    assert await audit.verify() == 0
    await audit.record("amy", "claim", "p1", "127.0.0.1")
    await audit.record("amy", "read_transcript", "p1", "127.0.0.1")
    await audit.record("amy", "close_bot", "p1", None)
    return audit


async def test_audit_chain_verifies_and_lists_entries(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> None:
    audit = await recorded_log(redis, keys, key_ring)
    assert await audit.verify() == 3
    assert [(e.actor, e.action, e.conversation, e.source) for e in await audit.entries()] == [
        ("amy", "claim", "p1", "127.0.0.1"),
        ("amy", "read_transcript", "p1", "127.0.0.1"),
        ("amy", "close_bot", "p1", "-"),
    ]


async def test_concurrent_appends_keep_one_chain(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> None:
    audit = AuditLog(redis, keys, key_ring)
    await asyncio.gather(*(audit.record(f"agent{i}", "claim", f"p{i}", None) for i in range(20)))
    assert await audit.verify() == 20


async def test_deleting_an_entry_is_detected(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> None:
    audit = await recorded_log(redis, keys, key_ring)
    entry_id = (await redis.xrange(keys.audit_log()))[1][0]
    await redis.xdel(keys.audit_log(), entry_id)
    with pytest.raises(AuditChainBroken):
        await audit.verify()


async def test_editing_an_entry_is_detected_even_with_a_recomputed_hash(
    redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    audit = await recorded_log(redis, keys, key_ring)
    rows = await redis.xrange(keys.audit_log())
    last_id, fields = rows[-1]
    forged = json.loads(fields[b"entry"])
    forged["actor"] = "someone-else"
    await redis.xdel(keys.audit_log(), last_id)
    await redis.xadd(
        keys.audit_log(),
        {"entry": json.dumps(forged), "previous": fields[b"previous"], "mac": fields[b"mac"]},
    )
    with pytest.raises(AuditChainBroken):
        await audit.verify()


async def test_deleting_the_whole_log_is_detected(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> None:
    audit = await recorded_log(redis, keys, key_ring)
    await redis.delete(keys.audit_log())
    with pytest.raises(AuditChainBroken, match="missing"):
        await audit.verify()
