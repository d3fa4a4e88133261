"""Tamper-evident audit log of agents' access to PHI.

Entries go to a Redis stream. Each carries an HMAC-SHA256 (keyed by the data key
ring) over the previous entry's MAC and its own JSON-encoded fields. Appends are
compare-and-set on the chain head in a Lua script, so concurrent writers in any
number of console processes never fork the chain. Without the key, nobody with
write access to Redis can edit, insert, delete or truncate entries unnoticed.
"""

import json
import time
from dataclasses import asdict, dataclass
from typing import Optional

from redis.asyncio import Redis

from handoff.crypto import KeyRing
from handoff.keys import KeySpace

GENESIS = "genesis"
CHAIN_PURPOSE = "audit-chain"
MAX_APPEND_ATTEMPTS = 50

APPEND_SCRIPT = """
local head = redis.call('GET', KEYS[2]) or ARGV[1]
if head ~= ARGV[2] then return 0 end
redis.call('XADD', KEYS[1], '*', 'entry', ARGV[3], 'previous', ARGV[2], 'mac', ARGV[4])
redis.call('SET', KEYS[2], ARGV[4])
return 1
"""


class AuditChainBroken(ValueError):
    """The audit log was edited, reordered, truncated or deleted."""


@dataclass(frozen=True)
class AuditEntry:
    at_ms: int
    actor: str
    action: str
    conversation: str
    source: str

    def encoded(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


class AuditLog:
    def __init__(self, redis: Redis, keys: KeySpace, key_ring: KeyRing) -> None:
        self.redis = redis
        self.keys = keys
        self.key_ring = key_ring
        self._append = redis.register_script(APPEND_SCRIPT)

    async def record(self, actor: str, action: str, conversation: str, source: Optional[str]) -> None:
        """Appends who did what to which conversation, from where."""
        entry = AuditEntry(int(time.time() * 1000), actor, action, conversation, source or "-").encoded()
        for _ in range(MAX_APPEND_ATTEMPTS):
            head = await self.redis.get(self.keys.audit_head())
            previous = head.decode() if head else GENESIS
            mac = self.key_ring.mac(CHAIN_PURPOSE, f"{previous}\n{entry}")
            appended = await self._append(
                keys=[self.keys.audit_log(), self.keys.audit_head()], args=[GENESIS, previous, entry, mac]
            )
            if appended:
                return
        raise RuntimeError("audit log append kept losing the race for the chain head")

    async def entries(self) -> list[AuditEntry]:
        rows = await self.redis.xrange(self.keys.audit_log())
        return [AuditEntry(**json.loads(fields[b"entry"])) for _, fields in rows]

    async def verify(self) -> int:
        """Checks the whole chain; returns the number of entries or raises ``AuditChainBroken``."""
        head = await self.redis.get(self.keys.audit_head())
        rows = await self.redis.xrange(self.keys.audit_log())
        previous = GENESIS
        macs = set()
        for entry_id, fields in rows:
            entry, mac = fields[b"entry"].decode(), fields[b"mac"].decode()
            if fields[b"previous"].decode() != previous or not self.key_ring.verify_mac(
                CHAIN_PURPOSE, f"{previous}\n{entry}", mac
            ):
                raise AuditChainBroken(f"audit chain broken at entry {entry_id.decode()}")
            macs.add(mac)
            previous = mac
        if head is not None and head.decode() not in macs:
            raise AuditChainBroken("audit log entries are missing: the chain head matches no entry")
        return len(rows)
