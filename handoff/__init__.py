"""Live-agent handoff: queue, conversation states, transcripts, agents, audit, console.

Imports nothing from Rasa, so the console and any other tool can use it alone.
"""

from handoff.agent_sessions import AgentSessions
from handoff.agents import Agent, AgentDirectory, hash_password
from handoff.audit import AuditLog
from handoff.crypto import KeyRing
from handoff.errors import ConversationNotFound, HandoffError, InvalidTransition, NotAssignedAgent
from handoff.keys import KeySpace
from handoff.models import (
    CloseOutcome,
    Conversation,
    ConversationState,
    EnqueueResult,
    HandoffRequest,
    Priority,
    Skill,
    TranscriptEntry,
    TranscriptRole,
)
from handoff.queue import LiveAgentQueue
from handoff.settings import MAX_MESSAGE_BYTES, HandoffSettings

__all__ = [
    "MAX_MESSAGE_BYTES",
    "Agent",
    "AgentDirectory",
    "AgentSessions",
    "AuditLog",
    "CloseOutcome",
    "Conversation",
    "ConversationNotFound",
    "ConversationState",
    "EnqueueResult",
    "HandoffError",
    "HandoffRequest",
    "HandoffSettings",
    "InvalidTransition",
    "KeyRing",
    "KeySpace",
    "LiveAgentQueue",
    "NotAssignedAgent",
    "Priority",
    "Skill",
    "TranscriptEntry",
    "TranscriptRole",
    "hash_password",
]
