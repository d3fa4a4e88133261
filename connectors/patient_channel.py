"""The patient channel: Rasa's REST webhook body and replies, plus a push socket.

``POST /webhooks/patient/webhook`` takes ``{"sender", "message", "metadata"}``
and answers with the list of messages for the patient, exactly like Rasa's
``rest`` channel, so every REST client works. ``GET /webhooks/patient/push``
is a websocket on which the patient receives agent messages as they are sent
(``?sender=<id>&token=<push_token>&after=<last message id>``). ``GET
/webhooks/patient/chat`` serves a minimal chat page.

While Redis is unreachable, a crisis message still gets HTTP 200 with the
crisis resources and an honest notice (the escalation is spooled to disk and a
background task of this process replays it when Redis is back); any other
message gets HTTP 503 with ``Retry-After`` and changes nothing.
"""

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ConversationResumed, SlotSet
from redis.asyncio import Redis
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.gate import ConversationGate, StorageUnavailable
from handoff import MAX_MESSAGE_BYTES, AgentDirectory, ConversationState, HandoffSettings, KeySpace, LiveAgentQueue
from handoff.agents import AgentDirectoryError
from handoff.spool import CrisisReplayer, CrisisSpool
from handoff.staffing import Staffing
from languages import LanguageCatalog
from screening import CrisisScreen

logger = logging.getLogger(__name__)

SENDER_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
MESSAGE_ID = re.compile(r"\d{1,15}(-\d{1,9})?")
MAX_BODY_BYTES = 16 * 1024
PUSH_WAIT_MS = 15_000
CHAT_PAGE = Path(__file__).parent / "static" / "chat.html"
LANGUAGE_SLOT = "language"
PUSH_STATES = (ConversationState.QUEUED, ConversationState.WITH_AGENT)
REDIS_CONNECT_TIMEOUT_SECONDS = 2
"""An unreachable Redis must not hold back a crisis reply for long."""
REDIS_SOCKET_TIMEOUT_SECONDS = PUSH_WAIT_MS / 1000 + 10


class BadPatientMessage(ValueError):
    """The request cannot be a patient message; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_patient_message(request: Request) -> tuple[str, str, Optional[dict[str, Any]]]:
    """Validates a webhook request; returns sender, text and metadata."""
    if len(request.body) > MAX_BODY_BYTES:
        raise BadPatientMessage(413, f"request body exceeds {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(request.body or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadPatientMessage(400, "body is not valid JSON")
    if not isinstance(body, dict):
        raise BadPatientMessage(400, "body must be a JSON object")
    sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not SENDER_ID.fullmatch(sender):
        raise BadPatientMessage(
            400, "sender is required: 1-128 characters of letters, digits and _.:@-"
        )
    if not isinstance(text, str) or not text.strip():
        raise BadPatientMessage(400, "message is required and must be a non-empty string")
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        raise BadPatientMessage(413, f"message exceeds {MAX_MESSAGE_BYTES} bytes")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadPatientMessage(400, "metadata must be a JSON object")
    return sender, text, metadata


def error_json(status: int, message: str, headers: Optional[dict[str, str]] = None) -> HTTPResponse:
    return response.json({"error": message}, status=status, headers=headers)


class PatientChannel(InputChannel):
    """REST-compatible patient channel with live-agent handoff and agent push."""

    @classmethod
    def name(cls) -> str:
        return "patient"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> InputChannel:
        """Reads ``redis_url`` and ``namespace``; the environment fills what is not given."""
        credentials = credentials or {}
        settings = HandoffSettings.from_env()
        return cls(
            redis_url=credentials.get("redis_url") or settings.redis_url,
            namespace=credentials.get("namespace") or settings.namespace,
            settings=settings,
        )

    def __init__(self, redis_url: str, namespace: str, settings: HandoffSettings) -> None:
        self.redis_url = redis_url
        self.keys = KeySpace(namespace)
        self.key_ring = settings.key_ring()
        self.catalog = LanguageCatalog.load()
        self.crisis_screen = CrisisScreen()
        self.coverage = settings.coverage()
        self.staffing = Staffing(self.coverage, _agent_directory(settings))
        self.spool = CrisisSpool(settings.crisis_spool, self.key_ring, namespace)
        self._queue: Optional[LiveAgentQueue] = None
        self._gate: Optional[ConversationGate] = None
        self._replayer: Optional[CrisisReplayer] = None
        self._replaying: Optional[asyncio.Task[None]] = None

    @property
    def queue(self) -> LiveAgentQueue:
        """Created on first use, inside the server's event loop."""
        if self._queue is None:
            redis = Redis.from_url(
                self.redis_url,
                socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
                socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
            )
            self._queue = LiveAgentQueue(redis, self.key_ring, self.keys)
        return self._queue

    @property
    def replayer(self) -> CrisisReplayer:
        if self._replayer is None:
            self._replayer = CrisisReplayer(self.spool, self.queue, self.staffing.crisis_fallback)
        return self._replayer

    @property
    def gate(self) -> ConversationGate:
        if self._gate is None:
            self._gate = ConversationGate(
                self.queue,
                self.catalog,
                self.crisis_screen,
                self.push_token,
                self.coverage,
                self.staffing,
                self.spool,
                self.replayer,
            )
        return self._gate

    def push_token(self, conversation_id: str) -> str:
        return self.key_ring.mac("patient-push", conversation_id)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        patient_webhook = Blueprint("patient_webhook", __name__)

        @patient_webhook.listener("after_server_start")
        async def start_replaying(*_: Any) -> None:
            """Crises spooled while Redis was unreachable (by this or an earlier process) reach the queue."""
            self._replaying = asyncio.ensure_future(self.replayer.run())

        @patient_webhook.listener("before_server_stop")
        async def stop_replaying(*_: Any) -> None:
            if self._replaying is not None:
                self._replaying.cancel()

        @patient_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @patient_webhook.route("/chat", methods=["GET"])
        async def chat_page(_: Request) -> HTTPResponse:
            return await response.file(
                str(CHAT_PAGE),
                headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
            )

        @patient_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                sender, text, metadata = parse_patient_message(request)
            except BadPatientMessage as error:
                return error_json(error.status, str(error))
            collector = CollectingOutputChannel()
            message = UserMessage(
                text, collector, sender, input_channel=self.name(), metadata=metadata
            )
            handling = asyncio.ensure_future(
                self.gate.handle(
                    message,
                    on_new_message,
                    lambda *args: prepare_rasa_conversation(request, *args),
                )
            )
            try:
                await asyncio.shield(handling)
            except asyncio.CancelledError:
                logger.error("patient.message.client_gone sender=%s (handling goes on)", sender)
                raise
            except StorageUnavailable as error:
                return error_json(503, str(error), {"Retry-After": str(error.retry_after)})
            except Exception:
                logger.exception("patient.message.failure sender=%s", sender)
                if collector.messages:
                    return response.json(collector.messages)
                return error_json(503, "the message could not be processed; please try again")
            return response.json(collector.messages)

        @patient_webhook.websocket("/push")
        async def push(request: Request, ws: Any) -> None:
            sender = request.args.get("sender", "")
            token = request.args.get("token", "")
            after = request.args.get("after", "0")
            problem = await self._push_problem(sender, token, after)
            if problem:
                await ws.send(json.dumps({"error": problem}))
                await ws.close(code=1008, reason=problem[:100])
                return
            while True:
                messages = await self.queue.agent_messages(sender, after, PUSH_WAIT_MS)
                if not messages and await self.queue.state_of(sender) not in PUSH_STATES:
                    await ws.close(code=1000, reason="the conversation is back with the bot")
                    return
                for outbox_message in messages:
                    after = outbox_message.message_id
                    await ws.send(
                        json.dumps(
                            {
                                "recipient_id": sender,
                                "id": outbox_message.message_id,
                                "from": outbox_message.entry.role.value,
                                "text": outbox_message.entry.text,
                            }
                        )
                    )

        return patient_webhook

    async def _push_problem(self, sender: str, token: str, after: str) -> Optional[str]:
        if not SENDER_ID.fullmatch(sender):
            return "sender is required: 1-128 characters of letters, digits and _.:@-"
        if not MESSAGE_ID.fullmatch(after):
            return "after must be a message id such as 1700000000000-0"
        if not self.key_ring.verify_mac("patient-push", sender, token):
            return "missing or wrong push token"
        if await self.queue.conversation(sender) is None:
            return "unknown conversation"
        return None


def _agent_directory(settings: HandoffSettings) -> Optional[AgentDirectory]:
    """Who can take a crisis; an unreadable directory counts as nobody (crises also go to English)."""
    if settings.agents_file is None:
        return None
    try:
        return AgentDirectory.from_file(settings.agents_file)
    except AgentDirectoryError:
        logger.exception("patient.agent_directory_unreadable: every crisis also goes to the English queue")
        return AgentDirectory([], settings.agents_file if settings.agents_file.exists() else None)


async def prepare_rasa_conversation(
    request: Request, conversation_id: str, resume: bool, language: str, message: UserMessage
) -> None:
    """Sets the language slot, and resumes a conversation an agent handed back.

    Resuming continues where the bot paused, not afresh. The handoff action
    paused the conversation before Rasa logged its ``action_listen``; adding it
    back makes the tracker look as if the bot had listened all along, so rules
    apply to the next message as usual.
    """
    agent = request.app.ctx.agent
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.processor.fetch_tracker_and_update_session(
            conversation_id, message.output_channel, message.metadata
        )
        if resume:
            tracker.update(ConversationResumed())
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        if tracker.get_slot(LANGUAGE_SLOT) != language:
            tracker.update(SlotSet(LANGUAGE_SLOT, language))
        await agent.tracker_store.save(tracker)
