"""The Redis-backed patient directory, care stores and throttle the actions use, built once per process."""

import time
from dataclasses import dataclass, field
from functools import cache
from typing import Callable

from redis.asyncio import Redis

from actions.settings import VerificationSettings
from handoff.keys import KeySpace
from handoff.redis_connection import async_redis
from handoff.settings import HandoffSettings
from patients import CareRecords, FailureThrottle, IdentityVerifier, RedisCareRecords, RedisPatientDirectory


@dataclass
class IdentityServices:
    verifier: IdentityVerifier
    care: CareRecords
    settings: VerificationSettings
    clock: Callable[[], float] = field(default=time.time)
    """Epoch seconds; tests move it to make a verification lapse."""

    @classmethod
    def on_redis(
        cls, redis: Redis, keys: KeySpace, handoff: HandoffSettings, settings: VerificationSettings
    ) -> "IdentityServices":
        key_ring = handoff.key_ring()
        throttle = FailureThrottle(redis, keys, key_ring, settings.throttle_failures, settings.throttle_window_seconds)
        return cls(
            verifier=IdentityVerifier(RedisPatientDirectory(redis, keys, key_ring), throttle),
            care=RedisCareRecords(redis, keys, key_ring),
            settings=settings,
        )


@cache
def services_from_env() -> IdentityServices:
    """One set per action-server process, configured like every other process (see ``handoff.settings``)."""
    handoff = HandoffSettings.from_env()
    redis = async_redis(handoff.redis_url)
    return IdentityServices.on_redis(redis, KeySpace(handoff.namespace), handoff, VerificationSettings.from_env())
