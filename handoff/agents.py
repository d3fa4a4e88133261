"""Live agents: the configured directory, password checks and console sessions.

The directory is a YAML file that the clinic's IT team maintains::

    agents:
      - id: maria
        name: Maria Lopez
        role: agent            # agent | nurse | pharmacist | supervisor
        languages: [en, es]
        skills: [general, billing]
        password_hash: scrypt$...   # python -m handoff.agents hash-password

Removing an agent from the file revokes access at once: every request checks
the directory, not only the session.
"""

import argparse
import base64
import getpass
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml
from redis.asyncio import Redis

from handoff.keys import KeySpace

logger = logging.getLogger(__name__)

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SESSION_TTL_SECONDS = 8 * 3600
SUPERVISOR_ROLE = "supervisor"
EARLIER_EPISODE_ROLES = frozenset({SUPERVISOR_ROLE})
"""Roles that may read a conversation's earlier episodes (every such read is audited); others see the current one."""


class AgentDirectoryError(ValueError):
    """The agent directory file is unusable."""


@dataclass(frozen=True)
class Agent:
    agent_id: str
    name: str
    role: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    password_hash: str

    @property
    def claimable_skills(self) -> Optional[list[str]]:
        """Skills whose conversations this agent may take; None means all (supervisors)."""
        return None if self.role == SUPERVISOR_ROLE else list(self.skills)

    @property
    def reads_earlier_episodes(self) -> bool:
        return self.role in EARLIER_EPISODE_ROLES

    def public_profile(self) -> dict[str, Any]:
        return {
            "id": self.agent_id,
            "name": self.name,
            "role": self.role,
            "languages": list(self.languages),
            "skills": list(self.skills),
        }


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encoded[0]}${encoded[1]}"


def password_matches(password: str, password_hash: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = password_hash.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


def read_agents(path: Path) -> list[Agent]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
        return [
            Agent(
                agent_id=str(item["id"]),
                name=str(item.get("name", item["id"])),
                role=str(item.get("role", "agent")),
                languages=tuple(str(language) for language in item["languages"]),
                skills=tuple(str(skill) for skill in item.get("skills", ["general"])),
                password_hash=str(item["password_hash"]),
            )
            for item in document.get("agents", [])
        ]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        raise AgentDirectoryError(f"cannot read agent directory {path}: {error}") from error


class AgentDirectory:
    """The agents allowed to work the queue, read from a YAML file and re-read when it changes."""

    def __init__(self, agents: list[Agent], path: Optional[Path] = None) -> None:
        self._agents = {agent.agent_id: agent for agent in agents}
        self._path = path
        self._modified = path.stat().st_mtime_ns if path else 0
        self._dummy_hash = hash_password(secrets.token_urlsafe(16))

    @classmethod
    def from_file(cls, path: Path) -> "AgentDirectory":
        return cls(read_agents(path), path)

    def get(self, agent_id: str) -> Optional[Agent]:
        self._reload_if_changed()
        return self._agents.get(agent_id)

    def agents(self) -> list[Agent]:
        """Every agent of the directory as it is now."""
        self._reload_if_changed()
        return list(self._agents.values())

    def authenticate(self, agent_id: str, password: str) -> Optional[Agent]:
        """Checks a password; an unknown agent costs the same one scrypt as a known one."""
        agent = self.get(agent_id)
        matches = password_matches(password, agent.password_hash if agent else self._dummy_hash)
        return agent if agent and matches else None

    def _reload_if_changed(self) -> None:
        if self._path is None:
            return
        try:
            modified = self._path.stat().st_mtime_ns
        except OSError:
            modified = -1
        if modified != self._modified:
            self._modified = modified
            try:
                agents = read_agents(self._path) if modified >= 0 else []
            except AgentDirectoryError:
                logger.exception("agents.directory_unreadable: every agent is locked out until it is fixed")
                agents = []
            self._agents = {agent.agent_id: agent for agent in agents}


class AgentSessions:
    """Bearer tokens for the console; Redis holds only each token's SHA-256."""

    def __init__(self, redis: Redis, keys: KeySpace, ttl_seconds: int = SESSION_TTL_SECONDS) -> None:
        self.redis = redis
        self.keys = keys
        self.ttl_seconds = ttl_seconds

    async def open(self, agent_id: str) -> str:
        token = secrets.token_urlsafe(32)
        await self.redis.set(self._key(token), agent_id, ex=self.ttl_seconds)
        return token

    async def agent_id_for(self, token: str) -> Optional[str]:
        value = await self.redis.get(self._key(token))
        return value.decode() if isinstance(value, bytes) else value

    async def end(self, token: str) -> None:
        await self.redis.delete(self._key(token))

    def _key(self, token: str) -> str:
        return self.keys.agent_session(hashlib.sha256(token.encode()).hexdigest())


def main() -> None:
    parser = argparse.ArgumentParser(description="Agent directory tools.")
    parser.add_argument("command", choices=["hash-password"])
    parser.parse_args()
    print(hash_password(getpass.getpass("Password: ")))


if __name__ == "__main__":
    main()
