"""One patient message's turn with Rasa, as the gate hands it over and gets it back.

In: the patient's words without Rasa's ``/intent{...}`` syntax (``text_for_rasa``: a patient can never set an
intent or a slot), the slots the gate owns (``slots_to_set``: language, identity lapsing at a hand-back, a portal
identity) and the locale hint (``client_locale``). Out: ``HandoffAwareOutput`` records Rasa's replies in the
transcript and keeps the actions' markers (a handoff request, identity verified) from the patient. Replies an
output holds until the turn ends (a ``CollectingOutputChannel``, the REST answer; not its subclasses, which send at
once) are kept for the gate (``HandoffAwareOutput.held_replies``), which records them all at once, before the
patient gets them.
"""

import re
import time
from typing import Any, Optional

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage

from actions.identity import (
    HANDBACK_RESET,
    IDENTITY_VERIFIED_MARKER,
    PATIENT_ID_SLOT,
    VERIFIED_AT_SLOT,
    VERIFIED_SLOT,
    VERIFIED_VIA_SLOT,
    VIA_FORM,
    VIA_PORTAL,
)
from handoff import HandoffRequest, LiveAgentQueue, TranscriptRole

LEADING_SLASHES = re.compile(r"^[\s/]+")


class HandoffAwareOutput(OutputChannel):
    """Forwards bot messages to the real output channel, keeping back the actions' markers. ``record_replies``:
    False when the transcript holds the replies to this message already (it is a message sent again)."""

    def __init__(self, inner: OutputChannel, queue: LiveAgentQueue, conversation_id: str,
                 record_replies: bool = True) -> None:
        self.inner = inner
        self.queue = queue
        self.conversation_id = conversation_id
        self.record_replies = record_replies
        self.handoff_request: Optional[HandoffRequest] = None
        self.held_replies: list[str] = []
        """Replies to record, when the output holds them until the turn ends (the gate records them)."""

    def name(self) -> str:
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        custom = message.get("custom")
        request = HandoffRequest.from_marker(custom)
        if request is not None:
            self.handoff_request = request
            return
        if isinstance(custom, dict) and isinstance(custom.get(IDENTITY_VERIFIED_MARKER), dict):
            via = str(custom[IDENTITY_VERIFIED_MARKER].get("via", VIA_FORM))[:16]
            await self.queue.mark_verified(self.conversation_id, via)
            return
        if message.get("text") and self.record_replies:
            if type(self.inner) is CollectingOutputChannel:  # not its kin that send at once (rest streaming, callback)
                self.held_replies.append(message["text"])
            else:
                await self.queue.record(self.conversation_id, TranscriptRole.BOT, message["text"])
        await self.inner.send_response(recipient_id, message)


def slots_to_set(
    language: str, known_language: Optional[str], resume: bool, portal_patient_id: Optional[str]
) -> dict[str, Any]:
    """Rasa slots the gate owns: the language, and identity (it lapses when an agent hands back)."""
    slots: dict[str, Any] = {}
    if language != known_language:
        slots["language"] = language
    if resume:
        slots.update(HANDBACK_RESET)
    if portal_patient_id is not None:
        slots.update({VERIFIED_SLOT: True, VERIFIED_VIA_SLOT: VIA_PORTAL, VERIFIED_AT_SLOT: time.time(),
                      PATIENT_ID_SLOT: portal_patient_id})
    return slots


def text_for_rasa(text: str) -> str:
    """The patient's words without Rasa's ``/intent{...}`` syntax: leading slashes never reach Rasa."""
    return LEADING_SLASHES.sub("", text).strip()


def client_locale(message: UserMessage) -> Optional[str]:
    """The browser's or the phone's locale (``metadata.locale``): the weakest sign of the patient's language."""
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    locale = metadata.get("locale")
    return locale if isinstance(locale, str) else None

