"""What the gate does with a crisis: resources at once, then the front of the queue, or the spool.

1. :meth:`CrisisEscalation.screen` screens the message with every language's
   patterns, before any Redis call (before even the patient's credential is
   checked), and :meth:`CrisisEscalation.send_resources` sends the crisis
   resources in the patient's language: not even a Redis outage delays them.
2. :meth:`CrisisEscalation.escalate` puts the conversation at the front of its
   language's queue flagged for phone follow-up (or alerts the agent who has
   it); a crisis no agent of its language can take now also waits at the head
   of the English queue. Only once that is stored is the patient told that a
   person is being connected (invariant 10). One open crisis escalation per
   conversation: a further crisis message gets the resources again, and the
   escalation already waiting stands.
3. :meth:`CrisisEscalation.spool` is for when Redis is unreachable (or too few
   replicas acknowledged the escalation, ``handoff.durable_writes``): the crisis
   goes to the crisis spool (see ``handoff.spool``) and the patient is told the
   truth (call or text 988 now; our team will contact you as soon as it can).
"""

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Awaitable, Callable, Optional

from rasa.core.channels.channel import OutputChannel, UserMessage

from handoff import Conversation, ConversationState, EnqueueResult, LiveAgentQueue, Priority, TranscriptRole
from handoff.models import CrisisFlag, crisis_skill
from handoff.operations import OperationsEvents
from handoff.queue import now_ms
from handoff.spool import CrisisReplayer, CrisisSpool, SpooledCrisis
from handoff.staffing import Staffing
from languages import LanguageCatalog, LanguageResolver
from screening import CrisisFinding, CrisisScreen

logger = logging.getLogger(__name__)

UNKNOWN_LANGUAGE = "und"
"""Screens with every language's patterns: a crisis is never missed because the language was guessed wrong."""
SCREENED_ON_THE_LOOP_CHARS = 280
"""A message this short (an SMS and then some) takes the screen a millisecond or two: less than the hop to the
screening thread and back costs the patient, so it is screened where it arrives, unless another message is being
screened (never two at once, and never a wait on the event loop)."""
CRISIS_RESOURCES = "crisis_resources"
CRISIS_CONNECTING = "crisis_connecting"
"""Sent only after the crisis escalation is stored in Redis."""
CRISIS_UNRECORDED = "crisis_unrecorded"
"""Sent when Redis is unreachable and the crisis went to the spool."""
CRISIS_REASON_PREFIX = "crisis_"

SendHandoff = Callable[[str, EnqueueResult, OutputChannel], Awaitable[None]]


@dataclass(frozen=True)
class CrisisReply:
    """A crisis the screen found, and the resources the patient was sent at once, in ``language``."""

    finding: CrisisFinding
    language: str
    notice: str


@dataclass
class Progress:
    """How far a message got: once a crisis is ``settled`` (stored in Redis or spooled), a later failure spools
    nothing."""

    settled: bool = False


def has_open_crisis(conversation: Optional[Conversation]) -> bool:
    """A crisis escalation of this conversation is waiting or with an agent, not yet closed."""
    return (
        conversation is not None
        and conversation.crisis_category is not None
        and conversation.state in (ConversationState.QUEUED, ConversationState.WITH_AGENT)
    )


class CrisisEscalation:
    def __init__(
        self,
        queue: LiveAgentQueue,
        catalog: LanguageCatalog,
        languages: LanguageResolver,
        crisis_screen: CrisisScreen,
        staffing: Staffing,
        spool: Optional[CrisisSpool],
        replayer: Optional[CrisisReplayer],
    ) -> None:
        self.queue = queue
        self.catalog = catalog
        self.languages = languages
        self.crisis_screen = crisis_screen
        self.staffing = staffing
        self.crisis_spool = spool
        self.replayer = replayer
        self._screening = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crisis-screen")
        self._screen_free = threading.Lock()
        self.events = OperationsEvents(queue.redis, queue.keys, queue.seals.key_ring)

    async def screen(self, text: str) -> Optional[CrisisFinding]:
        """Every language's patterns, no Redis: nothing delays this, not even an outage.

        A long message runs in one thread of its own, off the event loop, so that no
        patient waits on another's long message; one message at a time, because the
        screen's tokenizers are not shared across threads. A short one, once every
        language's tokenizer is built, is screened on the event loop when no other
        message is being screened (``SCREENED_ON_THE_LOOP_CHARS``).
        """
        if (len(text) <= SCREENED_ON_THE_LOOP_CHARS and self.crisis_screen.prepared
                and self._screen_free.acquire(blocking=False)):
            try:
                return self.crisis_screen.screen(text, UNKNOWN_LANGUAGE)
            finally:
                self._screen_free.release()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._screening, self._screen_alone, text)

    def _screen_alone(self, text: str) -> Optional[CrisisFinding]:
        with self._screen_free:
            return self.crisis_screen.screen(text, UNKNOWN_LANGUAGE)

    async def send_resources(
        self, finding: CrisisFinding, message: UserMessage, locale: Optional[str], chosen: Optional[str] = None
    ) -> CrisisReply:
        """Sends the crisis resources at once, in the language the patient chose, else the patient's."""
        text = message.text or ""
        language = chosen or self._language(finding, text, locale)
        reply = CrisisReply(finding, language, self.catalog.notice(language, CRISIS_RESOURCES))
        await message.output_channel.send_text_message(message.sender_id, reply.notice)
        return reply

    async def escalate(
        self,
        conversation_id: str,
        finding: CrisisFinding,
        language: str,
        output: OutputChannel,
        send_handoff: SendHandoff,
        progress: Progress,
        notice_language: str,
    ) -> None:
        """The front of the queue flagged for phone follow-up, or an alert to the agent who has it.

        Only once that is stored is the patient told (in ``notice_language``, that of
        the crisis resources) that a person is being connected.
        """
        category = finding.category.value
        skill = crisis_skill(category)
        result = await self.queue.enqueue_escalation(
            conversation_id,
            language,
            skill,
            Priority.CRISIS,
            f"{CRISIS_REASON_PREFIX}{category}",
            CrisisFlag(category, finding.evidence),
            self.staffing.crisis_fallback(language, skill),
        )
        progress.settled = True
        logger.warning(
            "crisis.escalated conversation=%s category=%s state=%s", self.queue.pseudonym(conversation_id), category,
            result.state.value,
        )
        if result.state == ConversationState.QUEUED:
            connecting = self.catalog.notice(notice_language, CRISIS_CONNECTING)
            await output.send_text_message(conversation_id, connecting)
            await send_handoff(conversation_id, result, output)
            await self.queue.record(conversation_id, TranscriptRole.BOT, connecting)
        else:
            await send_handoff(conversation_id, result, output)
        await self.events.escalated(conversation_id, result, f"{CRISIS_REASON_PREFIX}{category}", notice_language,
                                    category)

    async def spool(
        self,
        message: UserMessage,
        category: str,
        evidence: str,
        language: str,
        notices: list[str],
        error: BaseException,
    ) -> None:
        """Redis is unreachable: the crisis goes to the spool, and the patient is told the truth."""
        conversation_id = message.sender_id
        unrecorded = self.catalog.notice(language, CRISIS_UNRECORDED)
        crisis = SpooledCrisis(
            conversation_id=conversation_id,
            language=language,
            skill=crisis_skill(category).value,
            reason=f"{CRISIS_REASON_PREFIX}{category}",
            category=category,
            evidence=evidence,
            text=message.text or "",
            notices=(*notices, unrecorded),
            at_ms=now_ms(),
            message_id=message.message_id or "",
        )
        if self.crisis_spool is None:
            logger.critical("crisis.unrecorded conversation=%s: no spool, Redis failed: %s",
                            self.queue.pseudonym(conversation_id), error)
            return
        try:
            entry_id = await asyncio.to_thread(self.crisis_spool.append, crisis)
        except OSError:
            logger.critical("crisis.unrecorded conversation=%s: Redis and the spool both failed",
                            self.queue.pseudonym(conversation_id), exc_info=True)
            return
        logger.warning(
            "crisis.spooled conversation=%s category=%s entry=%s redis_error=%s",
            self.queue.pseudonym(conversation_id), category, entry_id, error,
        )
        await message.output_channel.send_text_message(conversation_id, unrecorded)
        if self.replayer is not None:
            self.replayer.wake()

    def _language(self, finding: CrisisFinding, text: str, locale: Optional[str]) -> str:
        """The language to give crisis resources in: the message's own, else the patterns' that matched."""
        detected = self.languages.detect(text)
        if detected is not None and self.catalog.get(detected.language):
            return detected.language
        if self.catalog.get(finding.language):
            return finding.language
        return self.languages.resolve(text, None, locale).language
