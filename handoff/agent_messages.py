"""An agent's messages to the patient: the transcript entry and the outbox message, stored by one script.

The agent message half of ``LiveAgentQueue``. Both are sealed for the message's transcript position and its
episode (``handoff.sealed_records``), so the sender must know them before the script runs
(``AGENT_MESSAGE_SCRIPT``), which refuses a message sealed for another position (``moved``) or episode
(``not_assigned``) before it writes anything. The sender reads them in one round trip; or, for a conversation this
process claimed or wrote an agent message in last, it first tries the episode and transcript end it left
(``RememberedEnds``), and when the script refuses those (another process wrote since), it reads them and sends
again, as a sender that knew nothing. Either way the message is stored once, at the place it was sealed for.
"""

from typing import Optional

from redis.commands.core import AsyncScript

from handoff.durable_writes import AGENT, run_durably
from handoff.errors import OUTCOMES, ConversationNotFound, raise_for
from handoff.escalations import Escalations
from handoff.models import TranscriptEntry, TranscriptRole
from handoff.redis_values import text_of
from handoff.transcripts import MOVED, now_ms

OUTBOX_MAX_LENGTH = 1000
AuditFields = dict[str, str]
"""An audit entry's stream fields (``AuditLog.prepare``), written by the script that makes the change."""


class AgentMessages(Escalations):
    """Agent messages on ``redis``; ``LiveAgentQueue`` is one."""

    _agent_message: AsyncScript

    def remember_end(self, conversation_id: str, episode: int, length: int) -> None:
        """Keeps the conversation's episode and transcript length, as just written or read, for its next message."""
        self.known_episodes.learn(conversation_id, episode)
        self.lengths.learn(self.keys.transcript(conversation_id), length)

    async def send_agent_message(
        self, conversation_id: str, agent_id: str, text: str, audit: Optional[AuditFields] = None, message_id: str = ""
    ) -> str:
        """Records an agent's message and puts it in the patient's outbox of this episode; returns its id once the
        replicas ``replica_acks`` asks for hold it. ``message_id``: the console's id of the message; the agent's
        message sent again with the id of one of its recent ones is not stored again (its outbox id is answered)."""
        entry = TranscriptEntry(TranscriptRole.AGENT, text, now_ms())
        conversation_key, transcript = self.keys.conversation(conversation_id), self.keys.transcript(conversation_id)
        known_episode, known_length = self.known_episodes.guess(conversation_id), self.lengths.guess(transcript)
        if known_episode is not None and known_length is not None:
            outcome = await self._store(conversation_id, agent_id, entry, audit, message_id, known_episode,
                                        known_length)
            if outcome != MOVED and outcome not in OUTCOMES:
                self.remember_end(conversation_id, known_episode, known_length + 1)
                return outcome
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(conversation_key)
            pipe.hget(conversation_key, "episode")
            pipe.llen(transcript)
            exists, episode_field, length = await pipe.execute()
        if not exists:
            raise ConversationNotFound(f"no conversation {conversation_id!r}")
        episode = int(episode_field or 0)

        async def append(position: int) -> Optional[tuple[str, int]]:
            outcome = await self._store(conversation_id, agent_id, entry, audit, message_id, episode, position)
            return None if outcome == MOVED else (outcome, position)

        outcome, position = await self.appending(transcript, append, int(length))
        raise_for(outcome, conversation_id, success_is_id=True)
        self.remember_end(conversation_id, episode, position + 1)
        return outcome

    async def _store(self, conversation_id: str, agent_id: str, entry: TranscriptEntry, audit: Optional[AuditFields],
                     message_id: str, episode: int, position: int) -> str:
        """The script's answer to the message sealed for ``episode`` and transcript ``position``."""
        return text_of(await run_durably(
            self.redis,
            self._agent_message,
            [self.keys.conversation(conversation_id), self.keys.transcript(conversation_id),
             self.keys.outbox(conversation_id, episode), self.keys.audit_log(), self.keys.unanswered_assignments(),
             self.keys.message_stored(conversation_id, AGENT), self.keys.console_changes()],
            [agent_id, self.seals.transcript_entry(conversation_id, position, entry), OUTBOX_MAX_LENGTH,
             episode, *audit_args(audit), conversation_id,
             self.seals.outbox_message(conversation_id, episode, position, entry), position, message_id,
             self.retention_ms],
            self.replica_acks,
        ))


def audit_args(audit: Optional[AuditFields]) -> list[str]:
    """A script's audit arguments; none (empty) when another entry records the change."""
    return [audit["entry"], audit["key"], audit["mac"]] if audit else ["", "", ""]
