"""Console sessions against a real Redis: idle logoff, absolute lifetime, revocation on directory changes."""

import asyncio
import os
import time
from pathlib import Path

import pytest
import yaml
from redis.asyncio import Redis

from handoff import AgentDirectory, AgentSessions, KeySpace
from handoff.agent_sessions import token_digest
from handoff.settings import AgentAccess


def write_directory(path: Path, hashes: dict[str, str]) -> None:
    """Writes the agents with the given password hashes (sessions never check passwords), with a new mtime."""
    agents = [{"id": agent_id, "languages": ["en"], "password_hash": value} for agent_id, value in hashes.items()]
    previous = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(yaml.safe_dump({"agents": agents}))
    stamp = max(time.time_ns(), previous + 1_000_000)
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def agents_path(tmp_path: Path) -> Path:
    path = tmp_path / "agents.yml"
    write_directory(path, {"amy": "scrypt$amy-hash-1", "bob": "scrypt$bob-hash-1"})
    return path


def sessions_for(redis: Redis, keys: KeySpace, path: Path, idle: int = 900, lifetime: int = 3600) -> AgentSessions:
    access = AgentAccess(session_idle_seconds=idle, session_max_seconds=lifetime)
    return AgentSessions(redis, keys, AgentDirectory.from_file(path), access)


async def open_for(sessions: AgentSessions, agent_id: str) -> str:
    agent = sessions.directory.get(agent_id)
    assert agent is not None
    return await sessions.open(agent)


async def test_an_idle_session_ends_and_every_request_renews_it(
    redis: Redis, keys: KeySpace, agents_path: Path
) -> None:
    sessions = sessions_for(redis, keys, agents_path, idle=1)
    token = await open_for(sessions, "amy")
    for _ in range(3):  # 1.8 s in all, longer than the idle time: each request starts it again
        await asyncio.sleep(0.6)
        assert await sessions.agent_for(token) is not None
    await asyncio.sleep(1.3)
    assert await sessions.agent_for(token) is None
    assert await redis.exists(keys.agent_session(token_digest(token))) == 0


async def test_a_busy_session_still_ends_at_its_absolute_lifetime(
    redis: Redis, keys: KeySpace, agents_path: Path
) -> None:
    sessions = sessions_for(redis, keys, agents_path, idle=1, lifetime=2)
    token = await open_for(sessions, "amy")
    started = time.monotonic()
    while time.monotonic() - started < 1.6:
        assert await sessions.agent_for(token) is not None
        await asyncio.sleep(0.3)
    await asyncio.sleep(max(0.0, 2.2 - (time.monotonic() - started)))
    assert await sessions.agent_for(token) is None


async def test_removing_an_agent_ends_all_its_sessions_at_once(
    redis: Redis, keys: KeySpace, agents_path: Path
) -> None:
    sessions = sessions_for(redis, keys, agents_path)
    amy_tokens = [await open_for(sessions, "amy") for _ in range(2)]
    bob = await open_for(sessions, "bob")
    write_directory(agents_path, {"bob": "scrypt$bob-hash-1"})

    assert await sessions.agent_for(bob) is not None, "another agent's request notices the change"
    for token in amy_tokens:
        assert await redis.exists(keys.agent_session(token_digest(token))) == 0, "gone from Redis, not only refused"
        assert await sessions.agent_for(token) is None
    assert await redis.exists(keys.agent_sessions("amy")) == 0


async def test_a_password_change_ends_all_sessions_of_that_agent(
    redis: Redis, keys: KeySpace, agents_path: Path
) -> None:
    sessions = sessions_for(redis, keys, agents_path)
    old = [await open_for(sessions, "amy") for _ in range(2)]
    bob = await open_for(sessions, "bob")
    write_directory(agents_path, {"amy": "scrypt$amy-hash-2", "bob": "scrypt$bob-hash-1"})

    for token in old:
        assert await sessions.agent_for(token) is None
    assert await sessions.agent_for(bob) is not None
    new = await open_for(sessions, "amy")
    assert (await sessions.agent_for(new) or pytest.fail("no agent")).agent_id == "amy"


async def test_a_re_added_agent_with_a_new_password_does_not_get_an_old_token_back(
    redis: Redis, keys: KeySpace, agents_path: Path
) -> None:
    sessions = sessions_for(redis, keys, agents_path)
    token = await open_for(sessions, "amy")
    write_directory(agents_path, {"bob": "scrypt$bob-hash-1"})
    assert await sessions.agent_for(token) is None
    write_directory(agents_path, {"amy": "scrypt$amy-hash-2", "bob": "scrypt$bob-hash-1"})
    assert sessions.directory.get("amy") is not None
    assert await sessions.agent_for(token) is None


async def test_a_process_that_missed_the_removal_still_refuses_the_old_token(
    redis: Redis, keys: KeySpace, agents_path: Path
) -> None:
    """Removed and re-added with a new password while this console was down: the hash fingerprint differs."""
    token = await open_for(sessions_for(redis, keys, agents_path), "amy")
    write_directory(agents_path, {"bob": "scrypt$bob-hash-1"})
    write_directory(agents_path, {"amy": "scrypt$amy-hash-2", "bob": "scrypt$bob-hash-1"})
    restarted = sessions_for(redis, keys, agents_path)
    assert await restarted.agent_for(token) is None
    assert await redis.exists(keys.agent_sessions("amy")) == 0
