"""Tamper-evident audit log of agents' access to PHI.

Entries go to a Redis stream. Each entry carries a hash over the previous
entry's hash and its own fields, computed inside one Lua script, so the chain
has no gaps under concurrent writers and any edit or deletion in the middle
breaks verification.
"""

import hashlib
import time
from dataclasses import dataclass
from typing import Optional

from redis.asyncio import Redis

from handoff.keys import KeySpace

GENESIS_HASH = "0" * 40

APPEND_SCRIPT = """
local head = redis.call('GET', KEYS[2]) or ARGV[1]
local body = ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[4] .. '|' .. ARGV[5] .. '|' .. ARGV[6]
local digest = redis.sha1hex(head .. '|' .. body)
redis.call('XADD', KEYS[1], '*', 'at_ms', ARGV[2], 'actor', ARGV[3], 'action', ARGV[4],
  'conversation', ARGV[5], 'source', ARGV[6], 'previous', head, 'hash', digest)
redis.call('SET', KEYS[2], digest)
return digest
"""

FIELDS = ("at_ms", "actor", "action", "conversation", "source")


@dataclass(frozen=True)
class AuditEntry:
    at_ms: int
    actor: str
    action: str
    conversation: str
    source: str


class AuditLog:
    def __init__(self, redis: Redis, keys: KeySpace) -> None:
        self.redis = redis
        self.keys = keys
        self._append = redis.register_script(APPEND_SCRIPT)

    async def record(self, actor: str, action: str, conversation: str, source: Optional[str]) -> None:
        """Appends who did what to which conversation, from where."""
        await self._append(
            keys=[self.keys.audit_log(), self.keys.audit_head()],
            args=[GENESIS_HASH, int(time.time() * 1000), actor, action, conversation, source or "-"],
        )

    async def entries(self) -> list[AuditEntry]:
        rows = await self.redis.xrange(self.keys.audit_log())
        return [
            AuditEntry(
                at_ms=int(fields[b"at_ms"]),
                actor=fields[b"actor"].decode(),
                action=fields[b"action"].decode(),
                conversation=fields[b"conversation"].decode(),
                source=fields[b"source"].decode(),
            )
            for _, fields in rows
        ]

    async def verify(self) -> int:
        """Checks the whole chain; returns the number of entries or raises ``ValueError``."""
        previous = GENESIS_HASH
        rows = await self.redis.xrange(self.keys.audit_log())
        for entry_id, fields in rows:
            values = {key.decode(): value.decode() for key, value in fields.items()}
            body = "|".join(values[name] for name in FIELDS)
            expected = hashlib.sha1(f"{previous}|{body}".encode()).hexdigest()  # noqa: S324 (redis.sha1hex)
            if values["previous"] != previous or values["hash"] != expected:
                raise ValueError(f"audit chain broken at entry {entry_id.decode()}")
            previous = expected
        head = await self.redis.get(self.keys.audit_head())
        if rows and (head or b"").decode() != previous:
            raise ValueError("audit chain head does not match the last entry")
        return len(rows)
