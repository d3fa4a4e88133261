"""Failed verifications per member ID, across conversations, in a fixed window.

Someone who tries member IDs (or names and dates of birth for one member ID)
from many conversations is stopped here: once a member ID has failed
``max_failures`` times within ``window_seconds``, every further attempt with it
fails, whatever was typed, until the window ends. The counter's key is an HMAC
of the member ID (never the member ID itself) under its own purpose, so it
cannot be matched with the directory's key either. Failures count under the
current data key and are read under every key of the ring, so rotating the
data keys (``python -m handoff.keys rotate``) gives a guesser no fresh attempts.
"""

from redis.asyncio import Redis

from handoff.crypto import KeyRing
from handoff.keys import KeySpace

VERIFICATION_FAILURES = "verification-failures"
"""Key kind: ``{ns}:verification-failures:<HMAC of the member ID>`` -> failure count (expires)."""
THROTTLE_PURPOSE = "verification-throttle"


class FailureThrottle:
    def __init__(
        self, redis: Redis, keys: KeySpace, key_ring: KeyRing, max_failures: int, window_seconds: int
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.key_ring = key_ring
        self.max_failures = max_failures
        self.window_seconds = window_seconds

    def counter_key(self, member_id: str) -> str:
        """Where a failure now counts: the member ID's HMAC under the current key."""
        return self.keys.key(VERIFICATION_FAILURES, self.key_ring.mac(THROTTLE_PURPOSE, member_id))

    async def failures(self, member_id: str) -> int:
        """The failures in the window, counted under any key of the ring."""
        keys = [self.keys.key(VERIFICATION_FAILURES, mac) for mac in self.key_ring.macs(THROTTLE_PURPOSE, member_id)]
        return sum(int(raw) for raw in await self.redis.mget(keys) if raw is not None)

    async def is_throttled(self, member_id: str) -> bool:
        return await self.failures(member_id) >= self.max_failures

    async def record_failure(self, member_id: str) -> int:
        """Counts one failure; the window starts with the first failure (one MULTI, so it always expires). Returns
        the failures in the window under every key."""
        key = self.counter_key(member_id)
        async with self.redis.pipeline(transaction=True) as pipeline:
            pipeline.set(key, 0, ex=self.window_seconds, nx=True)
            pipeline.incr(key)
            await pipeline.execute()
        return await self.failures(member_id)
