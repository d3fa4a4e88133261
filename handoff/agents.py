"""Live agents: the configured directory and password checks (sessions, sign-in throttling: ``agent_sessions``).

The directory is a YAML file that the clinic's IT team maintains::

    agents:
      - id: maria
        name: Maria Lopez
        display_name: Maria       # what patients see (optional; default the first word of name)
        role: agent            # agent | nurse | pharmacist | supervisor | admin (handoff.permissions)
        languages: [en, es]
        skills: [general, billing] # within the role's (ROLE_SKILLS): clinical skills need nurse or pharmacist
        hipaa_training: 2026-03-01  # date of the last HIPAA workforce training
        capacity: 3                 # most conversations at once (optional; default AGENT_DEFAULT_CAPACITY)
        password_hash: scrypt$...   # python -m handoff.agents hash-password --agent-id maria

Removing an agent from the file, or changing its password hash, ends every
session it holds at once: each session is bound to a fingerprint of the hash it
was opened with, every request checks the directory, and a process that sees
the file change revokes the departed agents' sessions in Redis.
"""

import argparse
import base64
import getpass
import hashlib
import hmac
import logging
import secrets
import sys
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

import yaml

from handoff.permissions import DEFAULT_SKILLS, PERMISSIONS, ROLE_SKILLS, Action, Role, allowed, role_of
from handoff.settings import AgentAccess

logger = logging.getLogger(__name__)

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
"""OWASP's minimum for scrypt (Password Storage Cheat Sheet): 128 MiB and about half a second a hash."""
MAX_SCRYPT_N, MAX_SCRYPT_R, MAX_SCRYPT_P = 2**20, 32, 16
"""Hashes asking for more than this are refused rather than allowed to take gigabytes."""
MAX_CONCURRENT_HASHES = 2
"""Password checks running at once per process: each takes 128 MiB, so a sign-in flood cannot exhaust memory."""
MIN_PASSWORD_LENGTH = 12
DEFAULT_ACCESS = AgentAccess()
SUPERVISOR_ROLE = Role.SUPERVISOR.value
EARLIER_EPISODE_ROLES = frozenset(
    role.value for role, actions in PERMISSIONS.items() if Action.READ_EARLIER_EPISODES in actions
)
"""Roles that may read a conversation's earlier episodes (every such read is audited); others see the current one."""


class AgentDirectoryError(ValueError):
    """The agent directory file is unusable."""


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


@dataclass(frozen=True)
class Agent:
    agent_id: str
    name: str
    role: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    password_hash: str
    hipaa_training: Optional[date] = None
    """Date of the agent's last HIPAA workforce training; None when the directory records none."""
    capacity: Optional[int] = None
    """Most conversations auto-assignment gives the agent at once; None: the console's default
    (``AGENT_DEFAULT_CAPACITY``)."""
    display_name: str = ""
    """The one thing about the agent a patient sees (``patient_name``); empty: the first word of ``name``."""

    @property
    def patient_name(self) -> str:
        """What the patient is told the agent is called: the display name, else the first name; never the id."""
        return self.display_name or self.name.split()[0]

    @property
    def claimable_skills(self) -> Optional[list[str]]:
        """Skills whose conversations this agent may take; None means all (supervisors), [] none (admins)."""
        if not allowed(self.role, Action.CLAIM):
            return []
        return None if self.role == SUPERVISOR_ROLE else list(self.skills)

    @property
    def reads_earlier_episodes(self) -> bool:
        return allowed(self.role, Action.READ_EARLIER_EPISODES)

    @property
    def credential_fingerprint(self) -> str:
        """Changes whenever the password hash changes (a new salt each time), so sessions bound to it end."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:32]

    def training_problem(self, valid_days: int, today: Optional[date] = None) -> Optional[str]:
        """Why this agent may not claim or read conversations for want of training, or None if current."""
        today = today or today_utc()
        if self.hipaa_training is None:
            return "no HIPAA training is on record for this agent: complete it before claiming or reading conversations"
        if self.hipaa_training > today:
            return f"the HIPAA training date {self.hipaa_training.isoformat()} is in the future: have it corrected"
        expired = self.hipaa_training + timedelta(days=valid_days)
        if today > expired:
            return (
                f"HIPAA training of {self.hipaa_training.isoformat()} expired on {expired.isoformat()}: "
                "renew it before claiming or reading conversations"
            )
        return None

    def public_profile(self, training_valid_days: int) -> dict[str, Any]:
        return {
            "id": self.agent_id,
            "name": self.name,
            "role": self.role,
            "languages": list(self.languages),
            "skills": list(self.skills),
            "hipaa_training": self.hipaa_training.isoformat() if self.hipaa_training else None,
            "training_problem": self.training_problem(training_valid_days),
            "capacity": self.capacity,
        }


def hash_password(password: str) -> str:
    """An scrypt hash at OWASP's parameters; the string carries them, so older hashes keep verifying."""
    salt = secrets.token_bytes(16)
    memory = scrypt_memory(SCRYPT_N, SCRYPT_R, SCRYPT_P)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=memory)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encoded[0]}${encoded[1]}"


def scrypt_memory(n: int, r: int, p: int) -> int:
    """OpenSSL's memory bound for these parameters (``128 r (N + p + 2)`` bytes) plus slack; its default is 32 MiB."""
    return 128 * r * (n + p + 2) + 2**20


def password_matches(password: str, password_hash: str) -> bool:
    try:
        scheme, n_text, r_text, p_text, salt, expected = password_hash.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        if scheme != "scrypt" or not (0 < n <= MAX_SCRYPT_N and 0 < r <= MAX_SCRYPT_R and 0 < p <= MAX_SCRYPT_P):
            return False
        digest = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=n, r=r, p=p, maxmem=scrypt_memory(n, r, p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


def password_problem(password: str, agent_id: str) -> Optional[str]:
    """What makes ``password`` unacceptable for ``agent_id`` (length, one kind of character, the id), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password needs at least {MIN_PASSWORD_LENGTH} characters, it has {len(password)}"
    kinds = [str.islower, str.isupper, str.isdigit]
    used = {next((index for index, kind in enumerate(kinds) if kind(char)), len(kinds)) for char in password}
    if len(used) < 2:
        return "the password must mix at least two kinds of character (lower case, upper case, digits, symbols)"
    if agent_id and agent_id.casefold() in password.casefold():
        return "the password must not contain the agent id"
    return None


def training_date(value: Any, agent_id: str) -> Optional[date]:
    """The ``hipaa_training`` field as a date: YAML dates, timestamps and ISO strings are accepted."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise AgentDirectoryError(
            f"agent {agent_id!r}: hipaa_training must be a date such as 2026-03-01, not {value!r}"
        ) from None


def capacity_field(value: Any, agent_id: str) -> Optional[int]:
    """The ``capacity`` field: a whole number of 1 or more, or absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise AgentDirectoryError(f"agent {agent_id!r}: capacity must be a whole number of 1 or more, not {value!r}")
    return value


def role_field(value: Any, agent_id: str) -> Role:
    """The ``role`` field (default ``agent``); an unknown role is an error, never a silent grant."""
    role = role_of(str(value))
    if role is None:
        known = ", ".join(role.value for role in Role)
        raise AgentDirectoryError(f"agent {agent_id!r}: unknown role {value!r}; the roles are {known}")
    return role


def skills_field(value: Any, role: Role, agent_id: str) -> tuple[str, ...]:
    """The ``skills`` field (default by role); a skill the role may not have is an error, never a grant."""
    skills = tuple(str(skill) for skill in (DEFAULT_SKILLS[role] if value is None else value))
    refused = [skill for skill in skills if skill not in ROLE_SKILLS[role]]
    if refused:
        permitted = ", ".join(sorted(ROLE_SKILLS[role])) or "none"
        raise AgentDirectoryError(
            f"agent {agent_id!r}: role {role.value} may not have skill {', '.join(refused)} (its skills: {permitted})"
        )
    return skills


def read_agents(path: Path) -> list[Agent]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
        agents = []
        for item in document.get("agents", []):
            role = role_field(item.get("role", Role.AGENT.value), str(item["id"]))
            agents.append(Agent(
                agent_id=str(item["id"]),
                name=str(item.get("name", item["id"])),
                role=role.value,
                languages=tuple(str(language) for language in item["languages"]),
                skills=skills_field(item.get("skills"), role, str(item["id"])),
                password_hash=str(item["password_hash"]),
                hipaa_training=training_date(item.get("hipaa_training"), str(item["id"])),
                capacity=capacity_field(item.get("capacity"), str(item["id"])),
                display_name=str(item.get("display_name") or "").strip(),
            ))
        return agents
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        raise AgentDirectoryError(f"cannot read agent directory {path}: {error}") from error


class AgentDirectory:
    """The agents allowed to work the queue, read from a YAML file and re-read when it changes."""

    def __init__(self, agents: list[Agent], path: Optional[Path] = None) -> None:
        self._agents = {agent.agent_id: agent for agent in agents}
        self._path = path
        self._modified = path.stat().st_mtime_ns if path else 0
        self._dummy_hash = hash_password(secrets.token_urlsafe(16))
        self._revoked: set[str] = set()
        self._hashing = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)

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
        """Checks a password; an unknown agent costs the same one scrypt as a known one. Blocks while
        ``MAX_CONCURRENT_HASHES`` other checks run (call it from an executor thread)."""
        agent = self.get(agent_id)
        with self._hashing:
            matches = password_matches(password, agent.password_hash if agent else self._dummy_hash)
        return agent if agent and matches else None

    def take_revoked(self) -> set[str]:
        """Agents removed, or given a new password hash, since the last call: their sessions must end."""
        self._reload_if_changed()
        revoked, self._revoked = self._revoked, set()
        return revoked

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
            current = {agent.agent_id: agent for agent in agents}
            self._revoked |= {
                agent_id
                for agent_id, agent in self._agents.items()
                if agent_id not in current or current[agent_id].password_hash != agent.password_hash
            }
            self._agents = current


def main() -> None:
    parser = argparse.ArgumentParser(description="Agent directory tools.")
    parser.add_argument("command", choices=["hash-password"])
    parser.add_argument("--agent-id", required=True, help="the agent the password is for (it may not contain it)")
    args = parser.parse_args()
    password = getpass.getpass("Password: ")
    problem = password_problem(password, args.agent_id)
    if problem is None and getpass.getpass("Repeat the password: ") != password:
        problem = "the two passwords differ"
    if problem:
        print(f"error: {problem}; nothing was hashed", file=sys.stderr)
        raise SystemExit(2)
    print(hash_password(password))


if __name__ == "__main__":
    main()
