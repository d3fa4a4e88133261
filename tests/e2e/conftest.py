"""Fixtures shared by the end-to-end tests: an HTTP session, the stack's queue, agents.

The stack runs on the session's Redis server, so the ``redis`` fixture reads what it stored."""

from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio
from redis.asyncio import Redis

from handoff import KeyRing, KeySpace, LiveAgentQueue
from stack.services import Stack
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient
from tests.e2e.twilio_api import TwilioApi


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


@pytest_asyncio.fixture(scope="session")
async def twilio_api(twilio_api_port: int) -> AsyncIterator[TwilioApi]:
    """The stand-in for the Twilio REST API that every stack with Twilio sends to."""
    api = await TwilioApi().start(twilio_api_port)
    yield api
    await api.stop()


@pytest_asyncio.fixture
async def stack_queue(stack: Stack, redis: Redis) -> LiveAgentQueue:
    """The stack's own queue, for reading what the connector stored."""
    return LiveAgentQueue(redis, KeyRing.from_spec(stack.config.data_keys), KeySpace(stack.config.namespace))


@pytest_asyncio.fixture
async def amy(stack: Stack, http: aiohttp.ClientSession) -> AgentClient:
    """The English-speaking agent, logged in."""
    client = AgentClient(http, stack)
    await client.login("amy", AGENT_PASSWORDS["amy"])
    return client


@pytest_asyncio.fixture
async def empty_english_queue(amy: AgentClient) -> None:
    """Amy works through whatever earlier tests left waiting, so positions start at 1."""
    _, queue = await amy.call("GET", "/api/queue")
    for waiting in queue["waiting"]:
        conversation = waiting["conversation_id"]
        await amy.call("POST", f"/api/conversations/{conversation}/claim")
        await amy.call("POST", f"/api/conversations/{conversation}/close", {"outcome": "closed"})
