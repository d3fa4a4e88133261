import pytest
from redis.asyncio import Redis

from handoff import AuditLog, KeySpace


async def test_audit_chain_verifies_and_detects_tampering(redis: Redis, keys: KeySpace) -> None:
    audit = AuditLog(redis, keys)
    assert await audit.verify() == 0
    await audit.record("amy", "claim", "p1", "127.0.0.1")
    await audit.record("amy", "read_transcript", "p1", "127.0.0.1")
    await audit.record("amy", "close_bot", "p1", None)
    assert await audit.verify() == 3
    assert [(e.actor, e.action, e.conversation) for e in await audit.entries()] == [
        ("amy", "claim", "p1"),
        ("amy", "read_transcript", "p1"),
        ("amy", "close_bot", "p1"),
    ]
    entry_id = (await redis.xrange(keys.audit_log()))[1][0]
    await redis.xdel(keys.audit_log(), entry_id)
    with pytest.raises(ValueError, match="audit chain broken"):
        await audit.verify()
