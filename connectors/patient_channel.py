"""The patient channel: Rasa's REST webhook body and replies, plus a push socket.

``POST /webhooks/patient/webhook`` takes ``{"sender", "message", "metadata"}``
(and an optional ``"message_id"``, 8-64 characters the client keeps when it sends
the message again after a 503: the message is then stored once) and answers
with the list of messages for the patient, exactly like Rasa's ``rest``
channel, so every REST client works. A conversation is reachable only
with the credential the server issued for it (see ``connectors.patient_access``):
on first contact the reply starts with a ``{"custom": {"session": {...}}}``
message carrying the new conversation id and token (also ``POST
/webhooks/patient/session``, which the chat page uses). ``GET
/webhooks/patient/push`` is a websocket on which the patient receives agent
messages of the current episode as they are sent
(``?sender=<id>&token=<push_token>&after=<last message id>``; the push token
comes with the handoff message and opens nothing once the episode is closed).
``GET /webhooks/patient/chat`` serves a minimal chat page, ``GET /webhooks/patient/languages`` the languages it
offers and its texts in each (``connectors.patient_page``). ``metadata.language`` is the patient's explicit choice
of language: anything but a code of ``languages/*.yml`` gets 400 and changes nothing (a crisis message is still
answered, with the crisis resources in ``messages``, the choice left out).

Refusals: 401 (no or wrong credential; a crisis message still gets the crisis
resources, in a new conversation of its own, in the body's ``messages``), 429
(limits; ``Retry-After``). While Redis is unreachable, a crisis message still
gets HTTP 200 with the crisis resources and an honest notice (the escalation
is spooled to disk and replayed); any other message gets HTTP 503 with
``Retry-After`` and changes nothing.
"""

import asyncio
import json
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.gate import PrepareRasaConversation, StorageUnavailable
from connectors.gate_services import GateServices, freeze_the_loaded_process, prepare_rasa_conversation
from connectors.patient_access import Admission, client_address
from connectors.patient_page import (
    BadLanguageChoice,
    check_language_choice,
    chosen_language,
    page_languages,
    without_language_choice,
)
from connectors.patient_push import SENDER_ID
from connectors.rasa_turn import client_locale
from handoff import MAX_MESSAGE_BYTES, HandoffSettings
from handoff.crypto import EnvelopeError
from handoff.durable_writes import MESSAGE_ID
from handoff.incidents import IncidentKind
from handoff.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from handoff.metrics import REFUSAL_HEADERS as METRICS_REFUSAL_HEADERS
from handoff.metrics import exposition, scrape_refusal
from handoff.patient_sessions import PatientAccessError
from handoff.spool import STORAGE_ERRORS
from screening import CrisisFinding

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
CHAT_PAGE = Path(__file__).parent / "static" / "chat.html"
CONVERSATION_ID_HEADER = "X-Conversation-Id"
CONVERSATION_TOKEN_HEADER = "X-Conversation-Token"  # noqa: S105 (a header name)


class BadPatientMessage(ValueError):
    """The request cannot be a patient message; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_json_object(request: Request) -> dict[str, Any]:
    if len(request.body) > MAX_BODY_BYTES:
        raise BadPatientMessage(413, f"request body exceeds {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(request.body or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadPatientMessage(400, "body is not valid JSON")
    if not isinstance(body, dict):
        raise BadPatientMessage(400, "body must be a JSON object")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadPatientMessage(400, "metadata must be a JSON object")
    return body


def parse_patient_message(request: Request) -> tuple[Optional[str], str, Optional[dict[str, Any]], Optional[str]]:
    """Validates a webhook request; returns sender (None on first contact), text, metadata and the message's id
    (None when the client gave none: then sending it again after a 503 may store it twice)."""
    body = parse_json_object(request)
    sender, text, message_id = body.get("sender"), body.get("message"), body.get("message_id")
    if sender is not None and (not isinstance(sender, str) or not SENDER_ID.fullmatch(sender)):
        raise BadPatientMessage(400, "sender must be 1-128 characters of letters, digits and _.:@+-")
    if message_id is not None and (not isinstance(message_id, str) or not MESSAGE_ID.fullmatch(message_id)):
        raise BadPatientMessage(400, "message_id must be 8-64 characters of letters, digits and _.:-")
    if not isinstance(text, str) or not text.strip():
        raise BadPatientMessage(400, "message is required and must be a non-empty string")
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        raise BadPatientMessage(413, f"message exceeds {MAX_MESSAGE_BYTES} bytes")
    return sender, text, body.get("metadata"), message_id


def error_json(status: int, message: str, headers: Optional[dict[str, str]] = None,
               **extra: Any) -> HTTPResponse:
    return response.json({"error": message, **extra}, status=status, headers=headers)


def refusal_headers(refusal: PatientAccessError) -> dict[str, str]:
    if refusal.retry_after is not None:
        return {"Retry-After": str(refusal.retry_after)}
    return {"WWW-Authenticate": "Bearer"} if refusal.status == 401 else {}


class PatientChannel(GateServices, InputChannel):
    """REST-compatible patient channel with credentials, live-agent handoff and agent push."""

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

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        patient_webhook = Blueprint("patient_webhook", __name__)

        @patient_webhook.listener("after_server_start")
        async def start_replaying(*_: Any) -> None:
            freeze_the_loaded_process()
            self.start_replaying()

        @patient_webhook.listener("before_server_stop")
        async def stop_replaying(*_: Any) -> None:
            await self.stop_replaying()

        @patient_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @patient_webhook.route("/chat", methods=["GET"])
        async def chat_page(_: Request) -> HTTPResponse:
            return await response.file(
                str(CHAT_PAGE),
                headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
            )

        @patient_webhook.route("/languages", methods=["GET"])
        async def languages(_: Request) -> HTTPResponse:
            return response.json(page_languages(self.catalog), headers={"Cache-Control": "no-cache"})

        @patient_webhook.route("/session", methods=["POST"])
        async def open_session(request: Request) -> HTTPResponse:
            try:
                metadata = parse_json_object(request).get("metadata") if request.body else None
                admission = await self.gatekeeper.open_session(request, metadata)
            except BadPatientMessage as error:
                return error_json(error.status, str(error))
            except PatientAccessError as refusal:
                return error_json(refusal.status, str(refusal), refusal_headers(refusal))
            except STORAGE_ERRORS:
                return error_json(503, "the service is briefly unavailable; please retry", {"Retry-After": "5"})
            assert admission.credential is not None
            return response.json(admission.credential.to_json(), status=201, headers={"Cache-Control": "no-store"})

        @patient_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                sender, text, metadata, message_id = parse_patient_message(request)
            except BadPatientMessage as error:
                return error_json(error.status, str(error))
            finding = await self.gate.crisis.screen(text)
            refused_choice: Optional[str] = None
            try:
                check_language_choice(metadata, self.catalog)
            except BadLanguageChoice as bad_choice:
                if finding is None:
                    return error_json(400, str(bad_choice))
                refused_choice, metadata = str(bad_choice), without_language_choice(metadata)

            async def prepare(conversation_id: str, resume: bool, slots: dict[str, Any], message: UserMessage) -> None:
                await prepare_rasa_conversation(request.app.ctx.agent, conversation_id, resume, slots, message)

            try:
                admission = await self.gatekeeper.admit(request, sender, metadata, finding is not None)
            except PatientAccessError as refusal:
                if finding is None:
                    return error_json(refusal.status, str(refusal), refusal_headers(refusal))
                return await self._crisis_after_refusal(request, text, metadata, finding, refusal,
                                                        on_new_message, prepare)
            except STORAGE_ERRORS:
                conversation_id = self.gatekeeper.offline_conversation(request, sender, metadata)
                if finding is None:
                    unavailable = StorageUnavailable()
                    return error_json(503, str(unavailable), {"Retry-After": str(unavailable.retry_after)})
                if conversation_id is None:
                    credential = self.sessions.mint()
                    admission = Admission(credential.conversation_id, credential)
                else:
                    admission = Admission(conversation_id)
            return await self._handle(request, admission, text, metadata, finding, on_new_message, prepare,
                                      400 if refused_choice else 200, refused_choice, message_id=message_id)

        @patient_webhook.route("/metrics", methods=["GET"])
        async def metrics(request: Request) -> HTTPResponse:
            """The operations figures every process reads from Redis (``handoff.metrics``), for the scraper with
            the metrics token."""
            refusal = scrape_refusal(request.headers.get("Authorization"), self.metrics_token)
            if refusal is not None:
                return error_json(401, refusal, METRICS_REFUSAL_HEADERS)
            return response.raw(await exposition(self.gate.events), content_type=METRICS_CONTENT_TYPE)

        @patient_webhook.websocket("/push")
        async def push(request: Request, ws: Any) -> None:
            await self.push_sockets.serve(request, ws)

        return patient_webhook

    async def _handle(
        self,
        request: Request,
        admission: Admission,
        text: str,
        metadata: Optional[dict[str, Any]],
        finding: Optional[CrisisFinding],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        prepare: PrepareRasaConversation,
        status: int = 200,
        error: Optional[str] = None,
        message_id: Optional[str] = None,
    ) -> HTTPResponse:
        """Runs the gate for an admitted message; a newly issued credential leads the reply. ``message_id``: the
        client's, so that the message sent again after a 503 is stored once."""
        conversation_id = admission.conversation_id
        collector = CollectingOutputChannel()
        headers = {"Cache-Control": "no-store"}
        if admission.credential is not None:
            await collector.send_custom_json(conversation_id, {"session": admission.credential.to_json()})
            headers[CONVERSATION_ID_HEADER] = conversation_id
            headers[CONVERSATION_TOKEN_HEADER] = admission.credential.token
        message = UserMessage(text, collector, conversation_id, input_channel=self.name(), metadata=metadata,
                              message_id=message_id)
        handling = asyncio.ensure_future(
            self.gate.handle(message, on_new_message, prepare, finding, admission.portal_patient_id)
        )
        try:
            await asyncio.shield(handling)
        except asyncio.CancelledError:
            logger.error("patient.message.client_gone conversation=%s (handling goes on)",
                         self.queue.pseudonym(conversation_id))
            raise
        except StorageUnavailable as unavailable:
            return error_json(503, str(unavailable), {"Retry-After": str(unavailable.retry_after)})
        except Exception as failure:
            logger.exception("patient.message.failure conversation=%s", self.queue.pseudonym(conversation_id))
            if isinstance(failure, EnvelopeError):
                await self.incidents.raise_incident(IncidentKind.UNDECRYPTABLE_DATA, where="patient channel",
                                                    conversation=self.queue.pseudonym(conversation_id))
            if len(collector.messages) <= int(admission.credential is not None):
                return error_json(503, "the message could not be processed; please try again")
        if admission.credential is not None:
            await self._count_new_conversation()
        if error is not None:
            return error_json(status, error, headers, messages=collector.messages)
        return response.json(collector.messages, status=status, headers=headers)

    async def _count_new_conversation(self) -> None:
        """A conversation opened (bot containment counts them); a storage failure costs the count, not the reply."""
        try:
            await self.gate.events.conversation_started()
        except STORAGE_ERRORS as error:
            logger.warning("patient.conversation_not_counted: %s", error)

    async def _crisis_after_refusal(
        self,
        request: Request,
        text: str,
        metadata: Optional[dict[str, Any]],
        finding: CrisisFinding,
        refusal: PatientAccessError,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        prepare: PrepareRasaConversation,
    ) -> HTTPResponse:
        """A refused crisis message still gets the resources, in a new conversation of its own.

        Never in the conversation it named. Over the new-conversation limit, the
        resources only: they need no storage.
        """
        try:
            credential = await self.sessions.open(client_address(request))
        except (PatientAccessError, *STORAGE_ERRORS):
            collector = CollectingOutputChannel()
            probe = UserMessage(text, collector, "", input_channel=self.name(), metadata=metadata)
            await self.gate.crisis.send_resources(finding, probe, client_locale(probe),
                                                  chosen_language(probe, self.catalog))
            return error_json(refusal.status, str(refusal), refusal_headers(refusal), messages=collector.messages)
        logger.warning("patient.crisis_after_refusal status=%s new_conversation=%s", refusal.status,
                       self.queue.pseudonym(credential.conversation_id))
        return await self._handle(request, Admission(credential.conversation_id, credential), text, metadata,
                                  finding, on_new_message, prepare, refusal.status, str(refusal))
