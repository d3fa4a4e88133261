"""Fixtures of the integration tests: the handoff library's stores on the test's own key space."""

import pytest
from redis.asyncio import Redis

from handoff import AuditLog, KeyRing, KeySpace, LiveAgentQueue
from handoff.incidents import IncidentLog


@pytest.fixture
def queue(redis: Redis, key_ring: KeyRing, keys: KeySpace) -> LiveAgentQueue:
    return LiveAgentQueue(redis, key_ring, keys)


@pytest.fixture
def audit(redis: Redis, keys: KeySpace, audit_keys: KeyRing) -> AuditLog:
    return AuditLog(redis, keys, audit_keys)


@pytest.fixture
def incidents(redis: Redis, keys: KeySpace, queue: LiveAgentQueue, audit: AuditLog) -> IncidentLog:
    return IncidentLog(redis, keys, queue.pseudonym, audit)
