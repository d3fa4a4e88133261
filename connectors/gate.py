"""The conversation gate: decides, for every patient message, who answers it.

It wraps the ``on_new_message`` callback that Rasa hands to an input channel,
so it works the same for any channel. The channel has already screened the
message for crisis language (before checking the patient's credential, so that
nothing delays crisis resources) and tied it to its conversation (see
``handoff.patient_sessions``). For every message, in this order:

1. a crisis gets the crisis resources in the patient's language first, then
   the front of the queue (see ``connectors.crisis_escalation``); the bot is
   not called;
2. under a per-conversation lock (so two messages of one conversation never
   race, across any number of Rasa processes): the transcript (encrypted) and
   the conversation's language;
   The language the patient picked on the page (``metadata.language``) outranks the one the message is
   written in, the conversation's and the locale; it never spares a message the crisis screen;
3. by state: WITH_AGENT, the message is relayed to the agent and nothing is
   sent back; QUEUED, the patient gets only a "you're in line" notice; BOT (or
   CLOSED), a request for a person who speaks a given language ("is there a
   Chinese-speaking doctor", "my mother only speaks Korean") goes to that
   language's queue (reason ``language_concordant_request``) while the patient
   keeps their own language; a language without bot flows goes straight to that
   language's queue; else the message goes to Rasa, whose handoff marker (emitted by a
   custom action) becomes a queued escalation and a ``handoff`` message, and
   whose identity marker records for the agent that the patient is verified.

Rasa reads a message that starts with ``/`` as an intent with slot values
(``/inform{"verified": true}``): the gate strips leading slashes from what it
passes to Rasa, so a patient can never set an intent or a slot directly.

When Redis cannot be reached, or too few replicas hold a write that leads to a
promise (``handoff.durable_writes``), a crisis is spooled and the patient is told
the truth; any other message raises ``StorageUnavailable``, and the same message
sent again (same ``message_id``) is stored once. Sent again while the patient waits
on a person, its answer carries the episode's push token again (handoff status
``repeated``): the answer lost may have been the escalation's, which carried it.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import OutputChannel, UserMessage

from actions.identity import VIA_PORTAL
from connectors.crisis_escalation import (
    CRISIS_CONNECTING,
    CRISIS_REASON_PREFIX,
    CrisisEscalation,
    CrisisReply,
    Progress,
    has_open_crisis,
)
from connectors.patient_page import chosen_language
from connectors.rasa_turn import HandoffAwareOutput, client_locale, slots_to_set, text_for_rasa
from handoff import (
    Conversation,
    ConversationState,
    EnqueueResult,
    HandoffRequest,
    LiveAgentQueue,
    Priority,
    Skill,
    TranscriptRole,
)
from handoff.audit import AuditWriter
from handoff.conversation_lock import ConversationLock, PatientMessage
from handoff.coverage import CoverageHours
from handoff.models import CrisisFlag
from handoff.spool import STORAGE_ERRORS, CrisisReplayer, CrisisSpool
from handoff.staffing import Staffing
from handoff.surveys import Surveys
from languages import LanguageCatalog, LanguageResolver
from languages.detection import DEFAULT_LANGUAGE
from screening import CrisisFinding, CrisisScreen

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
GATE_LOCK_SECONDS = 60
NO_COVERAGE_REPLY_AFTER = "the next business day"
LANGUAGE_CONCORDANT_REASON = "language_concordant_request"
"""The reason recorded on a task the patient asked a person of its language for ("is there a Chinese-speaking
doctor", "my mother only speaks Korean")."""
LANGUAGE_CONCORDANT = "language_concordant"
"""The notice that tells the patient, in their language, that a person who speaks the requested one is coming."""
REPEATED = "repeated"
"""The handoff status of the answer to a message sent again while the patient waits on a person: the push token
again, no new escalation."""

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
PrepareRasaConversation = Callable[[str, bool, dict[str, Any], UserMessage], Awaitable[None]]
"""(conversation id, resume after an agent, slots to set, message): readies the Rasa tracker."""
PushToken = Callable[[str, int], str]
"""(conversation id, episode): the patient's push-socket credential for that episode."""


class StorageUnavailable(Exception):
    """Redis cannot be reached, or too few replicas hold a write: the message may or may not be stored (a write the
    replicas did not acknowledge may be on the primary), so it is to be sent again, with its ``message_id``, after
    ``retry_after`` s; sent again, it is stored once."""

    def __init__(self, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__(f"the service is briefly unavailable; please send the message again in {retry_after} s, with"
                         " the same message_id")
        self.retry_after = retry_after


@dataclass(frozen=True)
class AfterHours:
    """The language queue is closed: ``reply_after`` tells the patient when a person replies."""

    reply_after: str
    opens_ms: int


class ConversationGate:
    def __init__(
        self,
        queue: LiveAgentQueue,
        catalog: LanguageCatalog,
        crisis_screen: CrisisScreen,
        push_token: PushToken,
        coverage: Optional[CoverageHours] = None,
        staffing: Optional[Staffing] = None,
        spool: Optional[CrisisSpool] = None,
        replayer: Optional[CrisisReplayer] = None,
        audit: Optional[AuditWriter] = None,
    ) -> None:
        self.queue = queue
        self.coverage = coverage or CoverageHours.always_open()
        self.staffing = staffing or Staffing(self.coverage)
        self.replayer = replayer
        self.catalog = catalog
        self.languages = LanguageResolver(catalog)
        self.crisis = CrisisEscalation(queue, catalog, self.languages, crisis_screen, self.staffing, spool, replayer)
        self.push_token = push_token
        self.events = self.crisis.events
        self.surveys = Surveys(queue, catalog, audit, self.events)
        self._counting: set[asyncio.Future[None]] = set()
        """Bot turns being counted, held until they are (the loop keeps only weak references to tasks)."""

    async def handle(
        self,
        message: UserMessage,
        on_new_message: OnNewMessage,
        prepare_rasa_conversation: PrepareRasaConversation,
        finding: Optional[CrisisFinding] = None,
        portal_patient_id: Optional[str] = None,
    ) -> None:
        """Routes one patient message of an authenticated conversation according to its state.

        ``finding``: what the channel's crisis screen found; the resources go out
        before any Redis call. ``portal_patient_id``: the patient's portal identity,
        already checked against its hash. Raises ``StorageUnavailable`` when Redis
        is unreachable and the message is not a crisis.
        """
        conversation_id = message.sender_id
        crisis = None
        if finding is not None:
            crisis = await self.crisis.send_resources(finding, message, client_locale(message),
                                                      chosen_language(message, self.catalog))
        progress = Progress()
        try:
            if self.replayer is not None:
                await self.replayer.replay_pending()
            patient_message = PatientMessage(message.text or "", message.message_id or "")
            async with self.queue.locked_conversation(conversation_id, GATE_LOCK_SECONDS, patient_message) as lock:
                await self._route(lock, message, on_new_message, prepare_rasa_conversation, crisis, progress,
                                  portal_patient_id)
            if crisis is not None:
                await self.events.crisis_screened(crisis.finding.source, crisis.finding.category.value)
        except STORAGE_ERRORS as error:
            if progress.settled:
                logger.warning("gate.storage_failed_after_crisis_stored conversation=%s: %s",
                               self.queue.pseudonym(conversation_id), error)
                return
            if crisis is None:
                logger.warning("gate.storage_unavailable conversation=%s: %s", self.queue.pseudonym(conversation_id),
                               error)
                raise StorageUnavailable() from error
            category, evidence = crisis.finding.category.value, crisis.finding.evidence
            await self.crisis.spool(message, category, evidence, crisis.language, [crisis.notice], error)

    def _count_bot_turn(self, language: str) -> None:
        """Counts the bot's turn beside what follows it (the lock let go, the escalation stored, the answer sent):
        the patient's answer never waits for a metric, and a storage failure costs the count, not the answer."""
        counting = asyncio.ensure_future(self.events.bot_turn(language))
        self._counting.add(counting)
        counting.add_done_callback(self._counted)

    def _counted(self, counting: "asyncio.Future[None]") -> None:
        self._counting.discard(counting)
        if not counting.cancelled() and counting.exception() is not None:
            logger.warning("gate.bot_turn_not_counted: %s", counting.exception())

    async def _route(
        self,
        lock: ConversationLock,
        message: UserMessage,
        on_new_message: OnNewMessage,
        prepare_rasa_conversation: PrepareRasaConversation,
        crisis: Optional[CrisisReply],
        progress: Progress,
        portal_patient_id: Optional[str],
    ) -> None:
        """Everything after the crisis resources, under the conversation's lock (``lock.conversation``: as it was
        when the lock was taken)."""
        conversation = lock.conversation
        conversation_id = message.sender_id
        text = message.text or ""
        output = message.output_channel
        known_language = conversation.spoken_language if conversation else None
        # queued or with an agent, the message is the agent's to read: stored on the replicas before anything is said
        opened = conversation is not None and conversation.state in (ConversationState.QUEUED,
                                                                     ConversationState.WITH_AGENT)
        stored = await lock.record_patient_message(durable=opened)
        if not stored and opened and conversation is not None:
            await self._offer_push_again(conversation, output)
        language = self.message_language(message, known_language)
        concordant = conversation is not None and conversation.held_in_requested_language
        if language != known_language:
            if concordant:
                await self.queue.remember_patient_language(conversation_id, language)
            else:
                await self.queue.remember_language(conversation_id, language)
        newly_verified = portal_patient_id is not None and (
            conversation is None or conversation.verified_via != VIA_PORTAL
        )
        if newly_verified:
            await self.queue.mark_verified(conversation_id, VIA_PORTAL)
        if crisis is not None:
            await self.queue.record(conversation_id, TranscriptRole.BOT, crisis.notice)
            if has_open_crisis(conversation):
                await self._tell_where_they_stand(conversation, language, output)
                return
            queue_language = (conversation.language if concordant and conversation else None) or language
            await self.crisis.escalate(
                conversation_id, crisis.finding, queue_language, output, self.send_handoff, progress, crisis.language
            )
            return
        state = conversation.state if conversation else ConversationState.BOT
        if state == ConversationState.WITH_AGENT:
            return
        if state == ConversationState.QUEUED:
            assert conversation is not None
            await self._tell_where_they_stand(conversation, language, output)
            return
        # with the bot or closed when the lock was taken: no agent can have closed it since, so what the lock read
        # says whether a survey waits and whether the bot resumes
        if conversation is not None and conversation.survey_waiting:
            survey_reply = await self.surveys.answer(conversation_id, text, language)
            if survey_reply is not None:
                await self.send_text(output, conversation_id, survey_reply)
                return
        resume = conversation is not None and (
            conversation.resume_pending or conversation.state == ConversationState.CLOSED
        ) and await self.queue.take_resume_pending(conversation_id)
        if self.catalog.has_bot(language):
            portal_id = portal_patient_id if newly_verified or resume else None
            slots = slots_to_set(language, known_language, resume, portal_id)
            if resume or slots:
                await prepare_rasa_conversation(conversation_id, resume, slots, message)
        requested = self.languages.concordant_request(text)
        if requested and self.catalog.get(requested):
            await self._connect_concordant_person(conversation_id, requested, language, output)
            return
        if language == DEFAULT_LANGUAGE and self.languages.lacks_english(text):
            # "no english": which language is theirs, the message does not say; every language offers itself
            await self.send_text(output, conversation_id, self.catalog.language_menu(without=language))
            return
        if not self.catalog.has_bot(language):
            # "a person who speaks your language will reply": only once the escalation is stored (invariant 10)
            after_hours = self._after_hours(language)
            request = HandoffRequest(Skill.GENERAL, Priority.NORMAL, "language_without_bot_flows", language)
            await self.enqueue(conversation_id, request, output)
            if not after_hours:
                await self.send_text(output, conversation_id, self.catalog.notice(language, "unsupported_language"))
            return
        # Sent again (its answer lost, or its escalation not stored): Rasa answers again, for the patient who saw
        # no answer; the transcript keeps the first attempt's replies, once.
        answered_before = not stored and await self._answered_in_transcript(conversation_id)
        gated_output = HandoffAwareOutput(output, self.queue, conversation_id, record_replies=not answered_before)
        try:
            await on_new_message(
                UserMessage(
                    text_for_rasa(text),
                    gated_output,
                    conversation_id,
                    input_channel=message.input_channel,
                    message_id=message.message_id,
                    metadata=message.metadata,
                )
            )
        finally:
            # the replies a REST answer holds: in the transcript before the patient gets them, with the lock's release
            # (one round trip), or now, before what the escalation adds
            lock.record_on_release(gated_output.held_replies)
        self._count_bot_turn(language)
        if gated_output.handoff_request is not None:
            await lock.record_held()
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
                await self.crisis.spool(message, flag.category, text, language, [], error)
                return
            if flag is not None:
                await self.send_text(output, conversation_id, self.catalog.notice(language, CRISIS_CONNECTING))

    async def _connect_concordant_person(
        self, conversation_id: str, requested: str, language: str, output: OutputChannel
    ) -> None:
        """The patient asked for a person who speaks ``requested``: that language's queue, the reason recorded,
        and the patient told so in their own language, which the bot and the notices keep."""
        request = HandoffRequest(Skill.GENERAL, Priority.NORMAL, LANGUAGE_CONCORDANT_REASON, requested)
        after_hours = self._after_hours(requested)
        await self.enqueue(conversation_id, request, output, patient_language=language)
        if not after_hours:
            named = self.catalog.get(requested)
            notice = self.catalog.notice(language, LANGUAGE_CONCORDANT, language=named.name if named else requested)
            await self.send_text(output, conversation_id, notice)

    async def _answered_in_transcript(self, conversation_id: str) -> bool:
        """Whether something follows the patient's last message in the transcript: the bot's replies to it."""
        last = await self.queue.transcript(conversation_id, -1)
        return bool(last) and last[0].role != TranscriptRole.PATIENT

    async def _offer_push_again(self, conversation: Conversation, output: OutputChannel) -> None:
        """A message sent again (its answer lost) to a patient who waits on a person: the episode's push token
        again, for a client whose lost answer carried it (the escalation's). Status ``repeated``: no new
        escalation, nothing for a channel that speaks only the ``queued`` notice."""
        conversation_id = conversation.conversation_id
        push_token = self.push_token(conversation_id, conversation.episode)
        await output.send_custom_json(conversation_id, {"handoff": {"status": REPEATED, "push_token": push_token}})

    async def _tell_where_they_stand(self, conversation: Optional[Conversation], language: str,
                                     output: OutputChannel) -> None:
        """A waiting patient hears their place in line (or when a person replies); with an agent, nothing."""
        if conversation is None or conversation.state != ConversationState.QUEUED:
            return
        crisis_waiting = conversation.priority == Priority.CRISIS
        after_hours = None if crisis_waiting else self._after_hours(conversation.language or language)
        if after_hours:
            notice = self.catalog.notice(language, "after_hours", reply_after=after_hours.reply_after)
        else:
            position = await self.queue.position(conversation.conversation_id) or 1
            notice = self.catalog.notice(language, "queued", position=position)
        await self.send_text(output, conversation.conversation_id, notice)

    async def enqueue(
        self,
        conversation_id: str,
        request: HandoffRequest,
        output: OutputChannel,
        crisis: Optional[CrisisFlag] = None,
        patient_language: Optional[str] = None,
    ) -> None:
        """Queues the escalation and tells the patient where they stand. ``patient_language``: the language the
        patient writes in, when the request's is another they asked for; notices are in the patient's."""
        assert request.language is not None
        fallback = self.staffing.crisis_fallback(request.language, request.skill) if crisis else None
        own_language = patient_language if patient_language != request.language else None
        result = await self.queue.enqueue_escalation(
            conversation_id, request.language, request.skill, request.priority, request.reason, crisis, fallback,
            own_language,
        )
        logger.info(
            "handoff.enqueued conversation=%s queue=%s priority=%s position=%s",
            self.queue.pseudonym(conversation_id), result.language, result.priority.value, result.position,
        )
        after_hours = self._after_hours(result.language) if crisis is None else None
        if after_hours and result.state == ConversationState.QUEUED:
            await self.queue.capture_for_callback(conversation_id, after_hours.opens_ms)
            notice = self.catalog.notice(
                own_language or result.language, "after_hours", reply_after=after_hours.reply_after
            )
            await self.send_text(output, conversation_id, notice)
            await self.send_handoff(conversation_id, result, output, after_hours.reply_after)
            await self.events.captured_after_hours(result.language)
        else:
            await self.send_handoff(conversation_id, result, output)
        await self.events.escalated(conversation_id, result, request.reason, own_language or request.language,
                                    crisis.category if crisis else None)

    def message_language(self, message: UserMessage, known_language: Optional[str]) -> str:
        """The language the patient chose, else the message's (``known_language``: the conversation's so far)."""
        return chosen_language(message, self.catalog) or self.languages.resolve(
            message.text or "", known_language, client_locale(message)
        ).language

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
        payload["handoff"]["push_token"] = self.push_token(conversation_id, result.episode)
        await output.send_custom_json(conversation_id, payload)

    async def send_text(self, output: OutputChannel, conversation_id: str, text: str) -> None:
        await self.queue.record(conversation_id, TranscriptRole.BOT, text)
        await output.send_text_message(conversation_id, text)
