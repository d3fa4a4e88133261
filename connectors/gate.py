"""The conversation gate: decides, for every patient message, who answers it.

It wraps the ``on_new_message`` callback that Rasa hands to an input channel,
so it works the same for any channel:

* state BOT (or CLOSED): the message goes to Rasa; bot replies pass through to
  the channel, and a handoff marker emitted by a custom action is replaced by
  an enqueued escalation and the ``handoff`` message the patient's client reads;
* state QUEUED: the message is stored for the agent and the patient gets only a
  "you're in line" notice;
* state WITH_AGENT: the message is stored and relayed to the agent; nothing is
  sent back.

Every message, both ways, goes to the encrypted transcript.
"""

import logging
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import OutputChannel, UserMessage

from connectors.notices import queued_notice
from handoff import (
    ConversationState,
    HandoffRequest,
    LiveAgentQueue,
    TranscriptRole,
)

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
ResumeConversation = Callable[[str], Awaitable[None]]


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
    def __init__(self, queue: LiveAgentQueue, push_token: Callable[[str], str]) -> None:
        self.queue = queue
        self.push_token = push_token

    async def handle(
        self,
        message: UserMessage,
        on_new_message: OnNewMessage,
        resume_conversation: ResumeConversation,
    ) -> None:
        """Routes one patient message according to the conversation's state."""
        conversation_id = message.sender_id
        output = message.output_channel
        await self.queue.record(conversation_id, TranscriptRole.PATIENT, message.text or "")
        state = await self.queue.state_of(conversation_id)
        if state == ConversationState.WITH_AGENT:
            return
        if state == ConversationState.QUEUED:
            position = await self.queue.position(conversation_id) or 1
            conversation = await self.queue.conversation(conversation_id)
            language = (conversation.language if conversation else None) or DEFAULT_LANGUAGE
            await output.send_text_message(conversation_id, queued_notice(language, position))
            return
        if await self.queue.take_resume_pending(conversation_id):
            await resume_conversation(conversation_id)
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
            await self.enqueue(conversation_id, gated_output.handoff_request, message, output)

    async def enqueue(
        self,
        conversation_id: str,
        request: HandoffRequest,
        message: UserMessage,
        output: OutputChannel,
    ) -> None:
        language = request.language or _client_language(message) or DEFAULT_LANGUAGE
        result = await self.queue.enqueue_escalation(
            conversation_id, language, request.skill, request.priority, request.reason
        )
        logger.info(
            "handoff.enqueued conversation=%s queue=%s priority=%s position=%s",
            conversation_id, result.language, result.priority.value, result.position,
        )
        payload = result.to_patient_message()
        payload["handoff"]["push_token"] = self.push_token(conversation_id)
        await output.send_custom_json(conversation_id, payload)


def _client_language(message: UserMessage) -> Optional[str]:
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    locale = metadata.get("locale") or metadata.get("language")
    if isinstance(locale, str) and locale[:2].isalpha():
        return locale[:2].lower()
    return None
