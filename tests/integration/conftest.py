"""Fixtures of the integration tests: the handoff library's stores on the test's own key space."""

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from handoff import AuditLog, KeyRing, KeySpace, LiveAgentQueue
from handoff.incidents import IncidentLog
from tests.console_clients import console_app
from tests.integration.test_operations_metrics import console_on


class CountingRedis(Redis):
    """A client that counts the commands it sends (a script counts as EVALSHA)."""

    sent: Counter[str]

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.sent[str(args[0]).upper()] += 1
        return await super().execute_command(*args, **options)


@pytest_asyncio.fixture
async def counting(redis: Redis) -> CountingRedis:
    client = CountingRedis(connection_pool=redis.connection_pool)
    client.sent = Counter()
    return client


@pytest.fixture
def queue(redis: Redis, key_ring: KeyRing, keys: KeySpace) -> LiveAgentQueue:
    return LiveAgentQueue(redis, key_ring, keys)


@pytest.fixture
def audit(redis: Redis, keys: KeySpace, audit_keys: KeyRing) -> AuditLog:
    return AuditLog(redis, keys, audit_keys)


@pytest.fixture
def incidents(redis: Redis, keys: KeySpace, queue: LiveAgentQueue, audit: AuditLog) -> IncidentLog:
    return IncidentLog(redis, keys, queue.pseudonym, audit)


@pytest_asyncio.fixture
async def operations_console(redis: Redis, key_ring: KeyRing, keys: KeySpace, audit_keys: KeyRing,
                             agents_file: Path) -> AsyncIterator[TestClient]:
    """The console app on the test's stores, its ``/metrics`` open to ``METRICS_TOKEN``."""
    client = await console_on(redis, key_ring, keys, audit_keys, agents_file)
    yield client
    await client.close()


@pytest_asyncio.fixture
async def console(queue: LiveAgentQueue, audit: AuditLog, redis: Redis, keys: KeySpace, agents_file: Path
                  ) -> AsyncIterator[TestClient]:
    """The console app on the test's stores and the session's agent directory."""
    async with TestClient(TestServer(console_app(queue, audit, redis, keys, agents_file))) as client:
        yield client


@pytest_asyncio.fixture
async def staff_console(queue: LiveAgentQueue, audit: AuditLog, redis: Redis, keys: KeySpace, staff_file: Path
                        ) -> AsyncIterator[TestClient]:
    """The console app on the test's stores with the test module's own agent directory (its ``staff_file``)."""
    async with TestClient(TestServer(console_app(queue, audit, redis, keys, staff_file))) as client:
        yield client
