"""Crisis alerts wait for a person to acknowledge them; unacknowledged, they reach the supervisors
(invariant 11: an unacknowledged crisis alert reaches a supervisor).

A crisis opens an alert when it is stored (``ENQUEUE_SCRIPT``): the conversation waits at the head of
its queue flagged CALL BY PHONE, or the agent who has it gets an alert on its console. The alert waits,
in a sorted set scored by when it was raised, until a person acknowledges it (``POST
/api/conversations/<id>/acknowledge-crisis``, audited as ``acknowledge_crisis``): the agent who has the
conversation or, once the alert is escalated, a supervisor. A conversation that goes back to the queue
(``handoff.presence``) raises its open crisis again, for its next agent.

The reaper of every console process escalates an alert nobody acknowledged within
``AGENT_CRISIS_ACK_TIMEOUT_SECONDS``: once (one Lua script, whichever process gets there first),
audited as ``crisis_escalated`` once for each supervisor present (a role that may view escalations,
with current training, whose console beats), or as ``crisis_escalated_no_supervisor_present``. Every
supervisor sees it (``GET /api/escalations``; the console page shows it on top, in red) until someone
acknowledges it or the crisis episode is closed with its disposition.
"""

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Optional

from handoff.agents import Agent, AgentDirectory
from handoff.audit import AuditLog
from handoff.crisis_scripts import ACKNOWLEDGE_CRISIS_SCRIPT, ESCALATE_CRISIS_SCRIPT
from handoff.errors import raise_for
from handoff.permissions import Action, allowed
from handoff.presence import AgentPresence
from handoff.queue import AuditFields, LiveAgentQueue, now_ms
from handoff.redis_values import text_of
from handoff.settings import AgentAccess

logger = logging.getLogger(__name__)

ESCALATOR = "crisis-escalator"


@dataclass(frozen=True)
class EscalatedCrisis:
    """What a supervisor sees of an escalated crisis: where it is and since when, no message content."""

    conversation_id: str
    category: str
    language: Optional[str]
    state: str
    agent_id: Optional[str]
    raised_at_ms: int
    escalated_at_ms: int

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "crisis_category": self.category,
            "language": self.language,
            "state": self.state,
            "agent_id": self.agent_id,
            "raised_at_ms": self.raised_at_ms,
            "escalated_at_ms": self.escalated_at_ms,
        }


class CrisisAlerts:
    def __init__(
        self, queue: LiveAgentQueue, presence: AgentPresence, directory: AgentDirectory, access: AgentAccess
    ) -> None:
        self.redis = queue.redis
        self.keys = queue.keys
        self.queue = queue
        self.presence = presence
        self.directory = directory
        self.access = access
        self._acknowledge = self.redis.register_script(ACKNOWLEDGE_CRISIS_SCRIPT)
        self._escalate = self.redis.register_script(ESCALATE_CRISIS_SCRIPT)

    async def unacknowledged(self, conversation_ids: Collection[str]) -> set[str]:
        """Those of the conversations whose crisis alert waits for acknowledgement."""
        if not conversation_ids:
            return set()
        ordered = list(conversation_ids)
        scores = await self.redis.zmscore(self.keys.crisis_unacknowledged(), ordered)
        return {conversation_id for conversation_id, score in zip(ordered, scores, strict=True) if score is not None}

    async def acknowledge(self, conversation_id: str, agent: Agent, audit: AuditFields) -> None:
        """The agent takes responsibility for the open crisis; raises ``NotAssignedAgent`` unless it has the
        conversation (or is a supervisor and the alert was escalated), ``InvalidTransition`` when none waits."""
        outcome = await self._acknowledge(
            keys=[self.keys.conversation(conversation_id), self.keys.crisis_unacknowledged(),
                  self.keys.crisis_escalated(), self.keys.audit_log(), self.keys.console_changes()],
            args=[conversation_id, agent.agent_id, "1" if allowed(agent.role, Action.VIEW_ESCALATIONS) else "",
                  audit["entry"], audit["key"], audit["mac"]],
        )
        raise_for(text_of(outcome), conversation_id)

    async def escalate_overdue(self, audit: AuditLog) -> list[str]:
        """Escalates every alert unacknowledged for the timeout to the supervisors; lists those it escalated."""
        raised_by = int((time.time() - self.access.crisis_ack_timeout_seconds) * 1000)
        overdue = await self.redis.zrangebyscore(self.keys.crisis_unacknowledged(), "-inf", raised_by)
        if not overdue:
            return []
        supervisors = await self.presence.present([
            agent.agent_id for agent in self.directory.agents()
            if allowed(agent.role, Action.VIEW_ESCALATIONS)
            and agent.training_problem(self.access.training_valid_days) is None
        ])
        escalated = []
        for member in overdue:
            conversation_id = text_of(member)
            records = [audit.prepare(ESCALATOR, "crisis_escalated", conversation_id, supervisor)
                       for supervisor in supervisors] or [
                audit.prepare(ESCALATOR, "crisis_escalated_no_supervisor_present", conversation_id, "-")]
            if await self._escalate(
                keys=[self.keys.conversation(conversation_id), self.keys.crisis_unacknowledged(),
                      self.keys.crisis_escalated(), self.keys.audit_log(), self.keys.console_changes()],
                args=[conversation_id, raised_by, now_ms(),
                      *(field for record in records for field in (record["entry"], record["key"], record["mac"]))],
            ):
                escalated.append(conversation_id)
                log = logger.warning if supervisors else logger.critical
                log("crisis.escalated unacknowledged for %s s; supervisors present: %s",
                    self.access.crisis_ack_timeout_seconds, len(supervisors))
        return escalated

    async def escalated(self) -> list[EscalatedCrisis]:
        """Escalated crises that still wait for acknowledgement, the longest-escalated first."""
        crises = []
        for member, escalated_at in await self.redis.zrange(self.keys.crisis_escalated(), 0, -1, withscores=True):
            conversation_id = text_of(member)
            raised_at = await self.redis.zscore(self.keys.crisis_unacknowledged(), conversation_id)
            conversation = await self.queue.conversation(conversation_id)
            if raised_at is None or conversation is None or conversation.crisis_category is None:
                continue
            crises.append(EscalatedCrisis(
                conversation_id, conversation.crisis_category, conversation.language, conversation.state.value,
                conversation.agent_id, int(raised_at), int(escalated_at),
            ))
        return crises
