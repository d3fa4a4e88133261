"""The conversation gate: decides, for every patient message, who answers it.

It wraps the ``on_new_message`` callback that Rasa hands to an input channel,
so it works the same for any channel. For every message, in this order:

1. the crisis screen, in every state, before anything else: a crisis gets the
   crisis resources in the patient's language first, then the front of the
   queue flagged for phone follow-up (or a crisis alert to the agent who has
   the conversation), and only once that is stored, word that a person is
   being connected; the bot is not called. A crisis that no agent of its
   language can take now (coverage hours, agent directory) also waits at the
   head of the English queue, flagged with the patient's language;
2. under a per-conversation lock (so two messages of one conversation never
   race, across any number of Rasa processes): the transcript (encrypted) and
   the conversation's language;
3. by state: WITH_AGENT, the message is relayed to the agent and nothing is
   sent back; QUEUED, the patient gets only a "you're in line" notice; BOT (or
   CLOSED), a language without bot flows goes straight to that language's
   queue, else the message goes to Rasa, whose handoff marker (emitted by a
   custom action) becomes a queued escalation and a ``handoff`` message.

When Redis cannot be reached, a crisis is written to the crisis spool (see
``handoff.spool``) and the patient gets the resources and the truth (call or
text 988 now; our team will contact you as soon as it can), never a promise
that a person is connecting; any other message raises ``StorageUnavailable``
and changes nothing.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import OutputChannel, UserMessage

from handoff import (
    ConversationState,
    EnqueueResult,
    HandoffRequest,
    LiveAgentQueue,
    Priority,
    Skill,
    TranscriptRole,
)
from handoff.coverage import CoverageHours
from handoff.models import CrisisFlag, crisis_skill
from handoff.queue import now_ms
from handoff.spool import STORAGE_ERRORS, CrisisReplayer, CrisisSpool, SpooledCrisis
from handoff.staffing import Staffing
from languages import LanguageCatalog, LanguageResolver
from screening import CrisisFinding, CrisisScreen

logger = logging.getLogger(__name__)

UNKNOWN_LANGUAGE = "und"
"""Screens with every language's patterns: a crisis is never missed because the language was guessed wrong."""
CRISIS_RESOURCES = "crisis_resources"
CRISIS_CONNECTING = "crisis_connecting"
"""Sent only after the crisis escalation is stored in Redis."""
CRISIS_UNRECORDED = "crisis_unrecorded"
"""Sent when Redis is unreachable and the crisis went to the spool."""
RETRY_AFTER_SECONDS = 5
GATE_LOCK_SECONDS = 60
NO_COVERAGE_REPLY_AFTER = "the next business day"
CRISIS_REASON_PREFIX = "crisis_"

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
PrepareRasaConversation = Callable[[str, bool, str, UserMessage], Awaitable[None]]
"""(conversation id, resume after an agent, language, message): readies the Rasa tracker."""


class StorageUnavailable(Exception):
    """Redis cannot be reached; the message changed nothing and may be sent again after ``retry_after`` s."""

    def __init__(self, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__(f"the service is briefly unavailable; nothing was changed, please retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class CrisisReply:
    """A crisis the screen found, and the resources the patient was sent at once, in ``language``."""

    finding: CrisisFinding
    language: str
    notice: str


@dataclass
class _Progress:
    """How far a crisis got: once ``settled`` (stored in Redis or spooled), a later failure spools nothing."""

    settled: bool = False


@dataclass(frozen=True)
class AfterHours:
    """The language queue is closed: ``reply_after`` tells the patient when a person replies."""

    reply_after: str
    opens_ms: int


class HandoffAwareOutput(OutputChannel):
    """Forwards bot messages to the real output channel, keeping back handoff markers."""

    def __init__(self, inner: OutputChannel, queue: LiveAgentQueue, conversation_id: str) -> None:
        self.inner = inner
        self.queue = queue
        self.conversation_id = conversation_id
        self.handoff_request: Optional[HandoffRequest] = None

    def name(self) -> str:
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        request = HandoffRequest.from_marker(message.get("custom"))
        if request is not None:
            self.handoff_request = request
            return
        if message.get("text"):
            await self.queue.record(self.conversation_id, TranscriptRole.BOT, message["text"])
        await self.inner.send_response(recipient_id, message)


class ConversationGate:
    def __init__(
        self,
        queue: LiveAgentQueue,
        catalog: LanguageCatalog,
        crisis_screen: CrisisScreen,
        push_token: Callable[[str], str],
        coverage: Optional[CoverageHours] = None,
        staffing: Optional[Staffing] = None,
        spool: Optional[CrisisSpool] = None,
        replayer: Optional[CrisisReplayer] = None,
    ) -> None:
        self.queue = queue
        self.coverage = coverage or CoverageHours.always_open()
        self.staffing = staffing or Staffing(self.coverage)
        self.spool = spool
        self.replayer = replayer
        self.catalog = catalog
        self.languages = LanguageResolver(catalog)
        self.crisis_screen = crisis_screen
        self.push_token = push_token

    async def handle(
        self,
        message: UserMessage,
        on_new_message: OnNewMessage,
        prepare_rasa_conversation: PrepareRasaConversation,
    ) -> None:
        """Routes one patient message according to the conversation's state.

        The crisis screen runs first, with every language's patterns and before
        any Redis call, so that not even a Redis outage delays crisis resources.
        Raises ``StorageUnavailable`` when Redis is unreachable and the message
        is not a crisis.
        """
        conversation_id = message.sender_id
        text = message.text or ""
        output = message.output_channel
        finding = self.crisis_screen.screen(text, UNKNOWN_LANGUAGE)
        crisis = None
        if finding is not None:
            crisis_language = self._crisis_language(finding, text, message)
            crisis = CrisisReply(finding, crisis_language, self.catalog.notice(crisis_language, CRISIS_RESOURCES))
            await output.send_text_message(conversation_id, crisis.notice)
        progress = _Progress()
        try:
            if self.replayer is not None:
                await self.replayer.replay_pending()
            async with self.queue.redis.lock(
                self.queue.keys.gate_lock(conversation_id),
                timeout=GATE_LOCK_SECONDS,
                blocking_timeout=GATE_LOCK_SECONDS,
            ):
                await self._route(message, on_new_message, prepare_rasa_conversation, crisis, progress)
        except STORAGE_ERRORS as error:
            if progress.settled:
                logger.warning("gate.storage_failed_after_crisis_stored conversation=%s: %s", conversation_id, error)
                return
            if crisis is None:
                logger.warning("gate.storage_unavailable conversation=%s: %s", conversation_id, error)
                raise StorageUnavailable() from error
            category, evidence = crisis.finding.category.value, crisis.finding.evidence
            await self.spool_crisis(message, category, evidence, crisis.language, [crisis.notice], error)

    async def spool_crisis(
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
        )
        if self.spool is None:
            logger.critical("crisis.unrecorded conversation=%s: no spool, Redis failed: %s", conversation_id, error)
            return
        try:
            entry_id = await asyncio.to_thread(self.spool.append, crisis)
        except OSError:
            logger.critical("crisis.unrecorded conversation=%s: Redis and the spool both failed", conversation_id,
                            exc_info=True)
            return
        logger.warning(
            "crisis.spooled conversation=%s category=%s entry=%s redis_error=%s",
            conversation_id, category, entry_id, error,
        )
        await message.output_channel.send_text_message(conversation_id, unrecorded)
        if self.replayer is not None:
            self.replayer.wake()

    async def _route(
        self,
        message: UserMessage,
        on_new_message: OnNewMessage,
        prepare_rasa_conversation: PrepareRasaConversation,
        crisis: Optional[CrisisReply],
        progress: _Progress,
    ) -> None:
        """Everything after the crisis screen, under the conversation's lock."""
        conversation_id = message.sender_id
        text = message.text or ""
        output = message.output_channel
        conversation = await self.queue.conversation(conversation_id)
        known_language = conversation.language if conversation else None
        await self.queue.record(conversation_id, TranscriptRole.PATIENT, text)
        language = self.languages.resolve(text, known_language, _client_locale(message)).language
        if language != known_language:
            await self.queue.remember_language(conversation_id, language)
        if crisis is not None:
            await self.queue.record(conversation_id, TranscriptRole.BOT, crisis.notice)
            await self.escalate_crisis(conversation_id, crisis.finding, language, output, progress, crisis.language)
            return
        state = conversation.state if conversation else ConversationState.BOT
        if state == ConversationState.WITH_AGENT:
            return
        if state == ConversationState.QUEUED:
            assert conversation is not None
            crisis_waiting = conversation.priority == Priority.CRISIS
            after_hours = None if crisis_waiting else self._after_hours(conversation.language or language)
            if after_hours:
                notice = self.catalog.notice(language, "after_hours", reply_after=after_hours.reply_after)
            else:
                position = await self.queue.position(conversation_id) or 1
                notice = self.catalog.notice(language, "queued", position=position)
            await self.send_text(output, conversation_id, notice)
            return
        resume = await self.queue.take_resume_pending(conversation_id)
        if not self.catalog.has_bot(language):
            if not self._after_hours(language):
                await self.send_text(output, conversation_id, self.catalog.notice(language, "unsupported_language"))
            request = HandoffRequest(Skill.GENERAL, Priority.NORMAL, "language_without_bot_flows", language)
            await self.enqueue(conversation_id, request, output)
            return
        if resume or language != known_language:
            await prepare_rasa_conversation(conversation_id, resume, language, message)
        gated_output = HandoffAwareOutput(output, self.queue, conversation_id)
        await on_new_message(
            UserMessage(
                message.text,
                gated_output,
                conversation_id,
                input_channel=message.input_channel,
                message_id=message.message_id,
                metadata=message.metadata,
            )
        )
        if gated_output.handoff_request is not None:
            request = gated_output.handoff_request
            if not request.language:
                request = HandoffRequest(request.skill, request.priority, request.reason, language)
            flag = None
            if request.priority == Priority.CRISIS:
                flag = CrisisFlag(request.reason.removeprefix(CRISIS_REASON_PREFIX), text)
            try:
                await self.enqueue(conversation_id, request, output, flag)
            except STORAGE_ERRORS as error:
                if flag is None:
                    raise
                progress.settled = True
                await self.spool_crisis(message, flag.category, text, language, [], error)

    async def escalate_crisis(
        self,
        conversation_id: str,
        finding: CrisisFinding,
        language: str,
        output: OutputChannel,
        progress: Optional[_Progress] = None,
        notice_language: Optional[str] = None,
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
        if progress is not None:
            progress.settled = True
        logger.warning(
            "crisis.escalated conversation=%s category=%s state=%s", conversation_id, category, result.state.value
        )
        if result.state == ConversationState.QUEUED:
            connecting = self.catalog.notice(notice_language or language, CRISIS_CONNECTING)
            await output.send_text_message(conversation_id, connecting)
            await self.send_handoff(conversation_id, result, output)
            await self.queue.record(conversation_id, TranscriptRole.BOT, connecting)
        else:
            await self.send_handoff(conversation_id, result, output)

    def _crisis_language(self, finding: CrisisFinding, text: str, message: UserMessage) -> str:
        """The language to give crisis resources in: the message's own, else the patterns' that matched."""
        detected = self.languages.detect(text)
        if detected is not None and self.catalog.get(detected.language):
            return detected.language
        if self.catalog.get(finding.language):
            return finding.language
        return self.languages.resolve(text, None, _client_locale(message)).language

    async def enqueue(
        self,
        conversation_id: str,
        request: HandoffRequest,
        output: OutputChannel,
        crisis: Optional[CrisisFlag] = None,
    ) -> None:
        assert request.language is not None
        fallback = self.staffing.crisis_fallback(request.language, request.skill) if crisis else None
        result = await self.queue.enqueue_escalation(
            conversation_id, request.language, request.skill, request.priority, request.reason, crisis, fallback
        )
        logger.info(
            "handoff.enqueued conversation=%s queue=%s priority=%s position=%s",
            conversation_id, result.language, result.priority.value, result.position,
        )
        after_hours = self._after_hours(result.language) if crisis is None else None
        if after_hours and result.state == ConversationState.QUEUED:
            await self.queue.capture_for_callback(conversation_id, after_hours.opens_ms)
            notice = self.catalog.notice(result.language, "after_hours", reply_after=after_hours.reply_after)
            await self.send_text(output, conversation_id, notice)
            await self.send_handoff(conversation_id, result, output, after_hours.reply_after)
            return
        await self.send_handoff(conversation_id, result, output)

    def _after_hours(self, language: str) -> Optional[AfterHours]:
        """When a person can reply, if the language queue is closed now; None when it is staffed."""
        now = datetime.now(timezone.utc)
        if self.coverage.is_open(language, now):
            return None
        opening = self.coverage.next_opening(language, now)
        if opening is None:
            return AfterHours(NO_COVERAGE_REPLY_AFTER, 0)
        return AfterHours(opening.strftime("%Y-%m-%d %H:%M %Z"), int(opening.timestamp() * 1000))

    async def send_handoff(
        self, conversation_id: str, result: EnqueueResult, output: OutputChannel, reply_after: Optional[str] = None
    ) -> None:
        payload = result.to_patient_message(reply_after)
        payload["handoff"]["push_token"] = self.push_token(conversation_id)
        await output.send_custom_json(conversation_id, payload)

    async def send_text(self, output: OutputChannel, conversation_id: str, text: str) -> None:
        await self.queue.record(conversation_id, TranscriptRole.BOT, text)
        await output.send_text_message(conversation_id, text)


def _client_locale(message: UserMessage) -> Optional[str]:
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    locale = metadata.get("locale") or metadata.get("language")
    return locale if isinstance(locale, str) else None
