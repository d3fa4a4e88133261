"""The console app on a test's own stores, and signing in to it, for integration tests of the console API."""

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Optional

import aiohttp
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from handoff import AuditLog, KeySpace, LiveAgentQueue
from handoff.agent_sessions import AgentSessions, LoginThrottle
from handoff.agents import AgentDirectory, hash_password
from handoff.console import create_console_app
from handoff.settings import AgentAccess
from tests.conftest import AGENT_PASSWORDS
from tests.reaping import CATALOG

EVENT_DEADLINE_SECONDS = 10


def console_app(queue: LiveAgentQueue, audit: AuditLog, redis: Redis, keys: KeySpace, agents_file: Path,
                access: Optional[AgentAccess] = None, **options: Any) -> web.Application:
    """The console with the directory ``agents_file`` and the language catalog of ``languages/``."""
    access = access or AgentAccess()
    return create_console_app(queue, AgentSessions(redis, keys, AgentDirectory.from_file(agents_file), access), audit,
                              LoginThrottle(redis, keys, access), CATALOG, **options)


async def token_of(client: TestClient, agent_id: str, password: Optional[str] = None) -> str:
    response = await client.post("/api/login", json={"agent_id": agent_id,
                                                     "password": password or AGENT_PASSWORDS[agent_id]})
    assert response.status == 200, await response.text()
    return str((await response.json())["token"])


async def sign_in(client: TestClient, agent_id: str, password: Optional[str] = None) -> dict[str, str]:
    """The bearer header of a fresh session of ``agent_id`` (the test directory's password by default)."""
    return {"Authorization": f"Bearer {await token_of(client, agent_id, password)}"}


def write_staff(path: Path, staff: list[dict[str, Any]], password: str) -> Path:
    """An agent directory at ``path`` of ``staff`` (id, role, languages, skills, any other field), every one with
    current training and ``password``."""
    password_hash = hash_password(password)
    trained = date.today() - timedelta(days=10)
    path.write_text(yaml.safe_dump({"agents": [
        {"hipaa_training": trained, "password_hash": password_hash, **member} for member in staff]}))
    return path


async def next_event(socket: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    """The next event of ``kind`` on a console event socket (others are skipped), within a deadline."""
    while True:
        message = await asyncio.wait_for(socket.receive(), EVENT_DEADLINE_SECONDS)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        event = json.loads(message.data)
        if event.get("type") == kind:
            return dict(event)
