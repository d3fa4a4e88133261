"""Any Rasa input channel behind the conversation gate: crisis screen, state, queue, language, handoff.

``GatedChannel`` wraps the ``on_new_message`` callback that Rasa hands to the
wrapped channel's ``blueprint()``: the wrapped channel parses its platform's
requests exactly as it ships, and every message it produces goes through the
gate (``connectors.gate``) instead of straight to Rasa. The gate's replies go
out through the wrapped channel's own output channel; agent messages are
delivered by a relay (``connectors.agent_relay``) through it as well.

In ``credentials.yml``, name the gated form of a channel Rasa ships and give
the wrapped channel's own credentials::

    connectors.gated_channel.socketio:   # Rasa's socketio channel, gated
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
    connectors.gated_channel.twilio:     # Rasa's twilio channel, gated
      account_sid: ...

``connectors.gated_channel.<name>`` gates any channel of Rasa's
``BUILTIN_CHANNELS``; socket.io and Twilio have their own subclasses for how a
patient is tied to a conversation (``connectors.gated_socketio``,
``connectors.gated_twilio``). A gated channel keeps the wrapped channel's URL
(``/webhooks/<name>/...``).

A platform sender becomes a conversation id that names no person: the channel
name and a MAC of the sender (``twilio-<MAC>``), so no phone number is in a
Redis key, a log line or the console. The sender itself, needed to reach the
patient, is kept sealed with the relay's record.
"""

import asyncio
import logging
from typing import Any, Awaitable, Callable, ClassVar, Optional

from rasa.core.agent import Agent
from rasa.core.channels import BUILTIN_CHANNELS
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic

from connectors.agent_relay import AgentMessageRelay
from connectors.gate import StorageUnavailable
from connectors.gate_services import GateServices, freeze_the_loaded_process, prepare_rasa_conversation
from connectors.patient_push import PUSH_STATES
from connectors.rasa_turn import client_locale
from handoff import MAX_MESSAGE_BYTES, ConversationState, HandoffSettings
from handoff.background import stop_tasks
from handoff.crypto import EnvelopeError
from handoff.incidents import IncidentKind
from handoff.patient_sessions import PatientAccessError
from handoff.spool import STORAGE_ERRORS
from handoff.transcripts import OutboxMessage
from screening import CrisisFinding

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
SENDER_PURPOSE = "platform-sender"
RECIPIENT_CONTEXT = "relay-recipient"
SWEEP_SECONDS = 5.0
MESSAGE_NOT_RECEIVED = "message_not_received"

_shared_services: dict[tuple[str, str], GateServices] = {}


def shared_services(settings: HandoffSettings) -> GateServices:
    """One set of services (Redis pool, crisis screen, gate) for every gated channel of the process."""
    place = (settings.redis_url, settings.namespace)
    if place not in _shared_services:
        _shared_services[place] = GateServices(settings.redis_url, settings.namespace, settings)
    return _shared_services[place]


class Refused(Exception):
    """The message cannot be admitted to any conversation; nothing was changed."""


class PatientOutput(OutputChannel):
    """What the gate says to one patient, through the wrapped channel's output.

    The gate addresses the conversation; this sends to the platform recipient.
    The handoff message becomes the "you're in line" notice in the patient's
    language (widgets and phones show no custom payloads); after hours the gate
    has already said when a person replies.
    """

    def __init__(self, inner: OutputChannel, recipient: str, services: GateServices, conversation_id: str) -> None:
        self.inner = inner
        self.recipient = recipient
        self.services = services
        self.conversation_id = conversation_id

    def name(self) -> str:
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        if isinstance(message.get("custom"), dict):
            await self.send_custom_json(recipient_id, message["custom"])
            return
        await self.inner.send_response(self.recipient, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.inner.send_text_message(self.recipient, text)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        handoff = json_message.get("handoff")
        if not isinstance(handoff, dict):
            await self.inner.send_custom_json(self.recipient, json_message)
            return
        if handoff.get("status") != ConversationState.QUEUED.value.lower():
            return
        conversation = await self.services.queue.conversation(self.conversation_id)
        language = (conversation.spoken_language if conversation else None) or str(handoff.get("queue") or "en")
        notice = self.services.catalog.notice(language, "queued", position=handoff.get("position") or 1)
        await self.inner.send_text_message(self.recipient, notice)


class GatedChannel(InputChannel):
    """The wrapped channel, every message of which goes through the conversation gate."""

    wrapped: ClassVar[type[InputChannel]]

    @classmethod
    def name(cls) -> str:
        return cls.wrapped.name()

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> InputChannel:
        return cls(cls.wrapped.from_credentials(credentials), credentials or {},
                   shared_services(HandoffSettings.from_env()))

    def __init__(self, inner: InputChannel, credentials: dict[str, Any], services: GateServices) -> None:
        self.inner = inner
        self.credentials = credentials
        self.services = services
        self.agent: Optional[Agent] = None
        self._relay: Optional[AgentMessageRelay] = None
        self._sweeping: Optional[asyncio.Task[None]] = None

    @property
    def relay(self) -> AgentMessageRelay:
        """Created on first use, inside the server's event loop."""
        if self._relay is None:
            self._relay = AgentMessageRelay(self.services.queue, self.services.incidents)
        return self._relay

    def url_prefix(self) -> str:
        return self.inner.url_prefix()

    def get_output_channel(self) -> Optional[OutputChannel]:
        return self.inner.get_output_channel()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        async def through_the_gate(message: UserMessage) -> None:
            await self.receive(message, on_new_message)

        blueprint = self.inner.blueprint(through_the_gate)

        @blueprint.listener("after_server_start")
        async def start(app: Sanic, *_: Any) -> None:
            self.agent = app.ctx.agent
            freeze_the_loaded_process()
            self.services.start_replaying()
            await self.started()

        @blueprint.listener("before_server_stop")
        async def stop(*_: Any) -> None:
            await stop_tasks(self._sweeping)
            await self.relay.stop()
            await self.services.stop_replaying()

        self.guard(blueprint)
        return blueprint

    def guard(self, blueprint: Blueprint) -> None:
        """Adds the channel's own checks (a platform signature) to the wrapped channel's routes."""

    async def started(self) -> None:
        """Runs once the server serves (and Rasa's agent is loaded): relays of conversations whose process is
        gone are taken over here."""
        self._sweeping = asyncio.ensure_future(self._sweep())

    async def _sweep(self) -> None:
        while True:
            try:
                await self.follow_every_relayed()
            except STORAGE_ERRORS as error:
                logger.warning("gated.sweep_storage_error channel=%s: %s", self.name(), error)
            await asyncio.sleep(SWEEP_SECONDS)

    async def follow_every_relayed(self) -> None:
        """Starts here the relay of every conversation of this channel that waits on a person."""
        redis, keys = self.services.queue.redis, self.services.keys
        relayed = await redis.hgetall(keys.relayed_conversations(self.name()))
        for field, sealed in relayed.items():
            conversation_id = field.decode()
            try:
                recipient = self.services.key_ring.open(sealed.decode(), _recipient_context(conversation_id)).decode()
            except EnvelopeError:
                await self.services.incidents.raise_incident(IncidentKind.UNDECRYPTABLE_DATA, where="relay recipients",
                                                             conversation=self.services.queue.pseudonym(conversation_id))
                continue
            self._relay_to(conversation_id, recipient)

    async def admit(self, message: UserMessage, finding: Optional[CrisisFinding]) -> tuple[str, str]:
        """``(conversation id, platform recipient)`` of a message; raises ``Refused``.

        By default the wrapped channel vouches for its sender (its platform's
        own check, as Rasa's channels do it).
        """
        return await self.platform_conversation(message.sender_id), message.sender_id

    def patient_output(self, message: UserMessage) -> OutputChannel:
        """Where replies to the patient go: the wrapped channel's output for this message."""
        return message.output_channel

    def relay_output(self) -> Optional[OutputChannel]:
        """Where agent messages go when no patient message is being answered."""
        return self.inner.get_output_channel()

    async def platform_conversation(self, sender: str) -> str:
        """The conversation of a platform sender: a MAC under any key of the ring that already has one, else the
        current key's (rotation keeps a conversation). With Redis unreachable, the current key's: a crisis is
        spooled under it rather than lost."""
        current = f"{self.name()}-{self.services.key_ring.mac(SENDER_PURPOSE, sender)}"
        candidates = [f"{self.name()}-{mac}" for mac in self.services.key_ring.macs(SENDER_PURPOSE, sender)]
        try:
            for candidate in candidates:
                if await self.services.sessions.known(candidate):
                    return candidate
        except STORAGE_ERRORS as error:
            logger.warning("gated.sender_not_looked_up channel=%s, the current key's conversation: %s", self.name(),
                           error)
        return current

    async def receive(self, message: UserMessage, on_new_message: OnNewMessage) -> None:
        text = message.text or ""
        if not text.strip() or len(text.encode()) > MAX_MESSAGE_BYTES:
            logger.warning("gated.message_refused channel=%s: empty or over %s bytes", self.name(), MAX_MESSAGE_BYTES)
            return
        finding = await self.services.gate.crisis.screen(text)
        try:
            conversation_id, recipient = await self.admit(message, finding)
            if finding is None:
                await self.services.sessions.count_message(conversation_id)
        except (Refused, PatientAccessError) as refusal:
            logger.warning("gated.message_refused channel=%s: %s", self.name(), refusal)
            if finding is not None:
                await self.services.gate.crisis.send_resources(finding, message, client_locale(message))
            return
        except STORAGE_ERRORS as error:
            logger.warning("gated.storage_unavailable channel=%s before the gate: %s", self.name(), error)
            if finding is not None:
                await self.services.gate.crisis.send_resources(finding, message, client_locale(message))
            else:
                await self.not_stored(message, message.sender_id, StorageUnavailable())
            return
        output = PatientOutput(self.patient_output(message), recipient, self.services, conversation_id)
        gated = UserMessage(text, output, conversation_id, input_channel=self.name(),
                            message_id=message.message_id, metadata=message.metadata)
        try:
            await self.services.gate.handle(gated, on_new_message, self.prepare, finding)
        except StorageUnavailable as unavailable:
            logger.warning("gated.storage_unavailable channel=%s conversation=%s", self.name(),
                           self.services.queue.pseudonym(conversation_id))
            await self.not_stored(message, recipient, unavailable)
            return
        conversation = await self.services.queue.conversation(conversation_id)
        if conversation is not None and conversation.state in PUSH_STATES:
            await self.follow(conversation_id, recipient)

    async def not_stored(self, message: UserMessage, recipient: str, unavailable: StorageUnavailable) -> None:
        """Tells the patient, in the message's language, that it was not received and to send it again later, with
        the emergency number: a platform has no page to show a failed send, and silence would read as being
        ignored. Sent through the platform alone (Redis is what failed)."""
        language = self.services.gate.message_language(message, None)
        notice = self.services.catalog.notice(language, MESSAGE_NOT_RECEIVED)
        await self.patient_output(message).send_text_message(recipient, notice)

    async def prepare(self, conversation_id: str, resume: bool, slots: dict[str, Any], message: UserMessage) -> None:
        assert self.agent is not None, "a message arrived before the server started"
        await prepare_rasa_conversation(self.agent, conversation_id, resume, slots, message)

    async def follow(self, conversation_id: str, recipient: str) -> None:
        """Has the conversation's agent messages relayed to ``recipient``, by this process or, should it stop,
        by any other (the sealed recipient is kept in Redis for it)."""
        sealed = self.services.key_ring.seal(recipient.encode(), _recipient_context(conversation_id))
        await self.services.queue.redis.hset(self.services.keys.relayed_conversations(self.name()),
                                             conversation_id, sealed)
        self._relay_to(conversation_id, recipient)

    def _relay_to(self, conversation_id: str, recipient: str) -> None:
        output = self.relay_output()
        if output is None:
            return

        async def deliver(outbox_message: OutboxMessage) -> None:
            assert output is not None
            await output.send_text_message(recipient, outbox_message.entry.text)

        async def finished() -> None:
            await self.services.queue.redis.hdel(self.services.keys.relayed_conversations(self.name()),
                                                 conversation_id)

        self.relay.follow(conversation_id, deliver, finished=finished)


def _recipient_context(conversation_id: str) -> str:
    return f"{RECIPIENT_CONTEXT}:{conversation_id}"


def gated(channel: type[InputChannel]) -> type[GatedChannel]:
    """The gated form of ``channel``."""
    return type(f"Gated{channel.__name__}", (GatedChannel,), {"wrapped": channel, "__module__": __name__})


def __getattr__(name: str) -> type[GatedChannel]:
    """``connectors.gated_channel.<name>`` in credentials.yml: the gated form of Rasa's channel of that name."""
    if name in ("socketio", "twilio"):
        from connectors.gated_socketio import GatedSocketIO
        from connectors.gated_twilio import GatedTwilio

        return {"socketio": GatedSocketIO, "twilio": GatedTwilio}[name]
    if name in BUILTIN_CHANNELS:
        return gated(BUILTIN_CHANNELS[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
