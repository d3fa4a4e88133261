"""Auto-assignment: each waiting conversation goes to the longest-idle available agent who can take it.

A round (every console process runs one in its background loop, ``AGENT_AUTO_ASSIGN``) walks the waiting
conversations of every language next to serve first (priority, then first come; a crisis first of all) and
gives each to the agent who

* may claim and whose HIPAA training is current, and is not a supervisor (supervisors pull or take over);
* is available: its console beats and it did not say it is away (``handoff.presence``);
* speaks the conversation's language (or its fallback language, for a crisis), has its skill, and has fewer
  conversations than its capacity (``capacity`` in the directory, else ``AGENT_DEFAULT_CAPACITY``);
* was given a conversation longest ago (never is longest of all).

The assignment itself is the claim script with the capacity: atomic, audited as ``auto_assigned`` in the same
step, and refused when another process took the conversation or filled the agent meanwhile, so rounds in
several processes never assign one conversation twice or an agent past its capacity. Pull-claim stays: an agent
may still claim a conversation from its queue, within its capacity too, except a crisis, which is never refused
for capacity (``POST /api/conversations/<id>/claim``); a supervisor's take-over or reassignment is not bound by it.
"""

import logging
from dataclasses import dataclass, replace
from typing import Any, Optional

from handoff.agents import SUPERVISOR_ROLE, Agent, AgentDirectory
from handoff.audit import AuditLog
from handoff.errors import AtCapacity, HandoffError
from handoff.models import Conversation
from handoff.permissions import Action, allowed
from handoff.presence import AgentPresence, PresenceStatus
from handoff.queue import LiveAgentQueue
from handoff.settings import AgentAccess
from handoff.transcripts import now_ms

logger = logging.getLogger(__name__)

ASSIGNER = "auto-assigner"


@dataclass(frozen=True)
class AgentLoad:
    """An agent as the supervisor view shows it: presence and load, no conversation content."""

    agent_id: str
    name: str
    role: str
    languages: tuple[str, ...]
    presence: PresenceStatus
    conversations: int
    capacity: int
    last_assigned_ms: Optional[int]

    def to_json(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "name": self.name,
            "role": self.role,
            "languages": list(self.languages),
            "presence": self.presence.value,
            "conversations": self.conversations,
            "capacity": self.capacity,
            "last_assigned_ms": self.last_assigned_ms,
        }


class AutoAssigner:
    def __init__(
        self, queue: LiveAgentQueue, presence: AgentPresence, directory: AgentDirectory, access: AgentAccess
    ) -> None:
        self.queue = queue
        self.presence = presence
        self.directory = directory
        self.access = access

    def capacity_of(self, agent: Agent) -> int:
        return agent.capacity or self.access.default_capacity

    async def loads(self, agents: Optional[list[Agent]] = None) -> list[AgentLoad]:
        """Presence and load of the given agents (default: every agent who may claim), in the directory's order."""
        members = agents if agents is not None else [
            agent for agent in self.directory.agents() if allowed(agent.role, Action.CLAIM)
        ]
        ids = [agent.agent_id for agent in members]
        statuses = await self.presence.status_of(ids)
        redis, keys = self.queue.redis, self.queue.keys
        last = await redis.zmscore(keys.agent_last_assigned(), ids) if ids else []
        loads = []
        for agent, last_ms in zip(members, last, strict=True):
            count = int(await redis.scard(keys.agent_conversations(agent.agent_id)))
            loads.append(AgentLoad(agent.agent_id, agent.name, agent.role, agent.languages, statuses[agent.agent_id],
                                   count, self.capacity_of(agent), None if last_ms is None else int(last_ms)))
        return loads

    async def assign_waiting(self, audit: AuditLog) -> list[str]:
        """One round: assigns what it can, in queue order; lists the conversations it assigned."""
        candidates = {agent.agent_id: agent for agent in self.directory.agents() if self._routable(agent)}
        loads = {load.agent_id: load for load in await self.loads(list(candidates.values()))
                 if load.presence == PresenceStatus.AVAILABLE and load.conversations < load.capacity}
        if not loads:
            return []
        languages = sorted({language for agent_id in loads for language in candidates[agent_id].languages})
        assigned = []
        for conversation in await self.queue.waiting(languages):
            idle_first = sorted(loads.values(), key=lambda load: (load.last_assigned_ms or 0, load.agent_id))
            for load in idle_first:
                agent = candidates[load.agent_id]
                if load.conversations >= load.capacity or not can_take(agent, conversation):
                    continue
                taken = await self._assign(conversation.conversation_id, agent, load.capacity, audit)
                if taken is None:
                    break
                if taken:
                    loads[agent.agent_id] = replace(load, conversations=load.conversations + 1,
                                                    last_assigned_ms=now_ms())
                    assigned.append(conversation.conversation_id)
                    break
                loads[agent.agent_id] = replace(load, conversations=load.capacity)
        return assigned

    async def _assign(self, conversation_id: str, agent: Agent, capacity: int, audit: AuditLog) -> Optional[bool]:
        """True when the agent got the conversation; False when the agent filled up meanwhile (try the next);
        None when the conversation is no longer there to assign (another process took it)."""
        record = audit.prepare(ASSIGNER, "auto_assigned", conversation_id, agent.agent_id)
        try:
            await self.queue.claim(conversation_id, agent.agent_id, list(agent.languages), agent.claimable_skills,
                                   record, self.access.answer_timeout_seconds, capacity)
        except AtCapacity:
            return False
        except HandoffError:
            return None
        logger.info("assignment.assigned conversation=%s agent=%s", self.queue.pseudonym(conversation_id),
                    agent.agent_id)
        return True

    def _routable(self, agent: Agent) -> bool:
        return (allowed(agent.role, Action.CLAIM) and agent.role != SUPERVISOR_ROLE
                and agent.training_problem(self.access.training_valid_days) is None)


def can_take(agent: Agent, conversation: Conversation) -> bool:
    """The agent speaks the conversation's language (or its fallback language) and has its skill."""
    speaks = conversation.language in agent.languages or conversation.fallback_language in agent.languages
    skills = agent.claimable_skills
    has_skill = skills is None or (conversation.skill is not None and conversation.skill.value in skills)
    return speaks and has_skill
