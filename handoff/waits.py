"""Where a waiting patient stands: their place in line and an estimated wait, from recent waits in that queue.

Every claim records how long the conversation waited per place in line it had when it was enqueued (the claim
script, ``CLAIM_SCRIPT``), in the newest ``RECENT_WAITS_KEPT`` of its queue language. A patient at place ``n``
is told about ``n`` times the median of those, in whole minutes (at least 1); with no recent wait on record
there is no estimate, and the patient hears their place alone. The patient's push socket sends the standing
each time it changes (``connectors.patient_push``).
"""

import math
import statistics
from dataclasses import dataclass
from typing import Any, Optional

from handoff.models import Conversation, ConversationState
from handoff.queue import LiveAgentQueue
from languages import LanguageCatalog

POSITION_NOTICE = "queue_position"
POSITION_AND_WAIT_NOTICE = "queue_position_wait"


@dataclass(frozen=True)
class QueueStanding:
    position: int
    estimated_wait_minutes: Optional[int]

    def notice(self, catalog: LanguageCatalog, language: str) -> str:
        """The standing in the patient's language."""
        if self.estimated_wait_minutes is None:
            return catalog.notice(language, POSITION_NOTICE, position=self.position)
        return catalog.notice(language, POSITION_AND_WAIT_NOTICE, position=self.position,
                              minutes=self.estimated_wait_minutes)

    def to_json(self) -> dict[str, Any]:
        return {"position": self.position, "estimated_wait_minutes": self.estimated_wait_minutes}


async def standing(queue: LiveAgentQueue, conversation: Conversation) -> Optional[QueueStanding]:
    """The conversation's place in line and estimated wait; None when it is not waiting."""
    if conversation.state != ConversationState.QUEUED or conversation.language is None:
        return None
    position = await queue.position(conversation.conversation_id)
    if position is None:
        return None
    recent = await queue.redis.lrange(queue.keys.recent_waits(conversation.language), 0, -1)
    samples = [int(sample) for sample in recent]
    if not samples:
        return QueueStanding(position, None)
    return QueueStanding(position, max(1, math.ceil(position * statistics.median(samples) / 60_000)))
