"""Rasa's Twilio channel (SMS and WhatsApp) behind the gate.

* **Every webhook is signed by Twilio**: ``X-Twilio-Signature`` is the
  HMAC-SHA1, under the account's auth token, of the URL Twilio called and the
  sorted form parameters. A request whose signature is missing or wrong gets
  403 and changes nothing. Behind a proxy, give the public URL configured in
  Twilio as ``webhook_url``: it is the one Twilio signs.
* The patient is their ``From`` address (``+15551234567``,
  ``whatsapp:+15551234567``); the conversation id is a MAC of it
  (``twilio-...``, see ``connectors.gated_channel``).
* Every reply, the crisis resources first, and every agent message is sent
  through the Twilio REST API (``api_base_url``, by default Twilio's), from
  ``twilio_number``, or ``whatsapp_number`` to a WhatsApp address. Agent
  messages go out from a relay that any Rasa process takes over
  (``connectors.agent_relay``); a send that fails is tried again.
* **A message Twilio posts again is stored once**: Twilio retries a webhook
  it got no answer to with the same ``MessageSid``, which becomes the
  message's id (``handoff.durable_writes``). A ``MessageSid`` that is not a
  message id (8-64 of ``[A-Za-z0-9_.:-]``) is ignored, with a warning, and the
  message gets an id of its own: the request is signed by Twilio, so it is the
  patient's message, perhaps a crisis, and refusing it would lose it for a
  duplicate it might avoid.
* **A message that cannot be stored** (Redis down, replicas behind) is answered 503 with ``Retry-After``, so that
  Twilio posts it again when the webhook URL asks for retries (``#rc=3&rp=5xx``) or tries the number's fallback
  URL; the patient is told by SMS, once per ``MessageSid``, that it was not received (``GatedChannel.not_stored``).
"""

import logging
from collections import OrderedDict
from contextvars import ContextVar
from typing import Any, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from connectors.gate import StorageUnavailable
from connectors.gated_channel import GatedChannel, OnNewMessage
from handoff.durable_writes import MESSAGE_ID

logger = logging.getLogger(__name__)

MESSAGE_SID = "MessageSid"
"""The form field of Twilio's id of an incoming message, the same when Twilio posts the webhook again."""
SIGNATURE_HEADER = "X-Twilio-Signature"
TWILIO_API = "https://api.twilio.com"
WHATSAPP_PREFIX = "whatsapp:"
NOTIFIED_SIDS_KEPT = 10_000
_not_stored_retry_after: ContextVar[Optional[int]] = ContextVar("twilio_not_stored_retry_after", default=None)
"""Set while handling a webhook whose message could not be stored: its answer becomes 503 with this Retry-After.
Sanic handles a connection's requests in one task, so each request sets it afresh."""


class TwilioApiOutput(OutputChannel):
    """Sends texts through the Twilio REST API without blocking the event loop.

    ``raise_errors``: a relay wants to know a send failed, to try again; a
    reply to a patient message logs it and goes on (the escalation must not
    wait on the SMS provider).
    """

    @classmethod
    def name(cls) -> str:
        return "twilio"

    def __init__(self, client: Client, twilio_number: str, whatsapp_number: Optional[str], raise_errors: bool) -> None:
        self.client = client
        self.twilio_number = twilio_number
        self.whatsapp_number = whatsapp_number
        self.raise_errors = raise_errors

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        sender = self.twilio_number
        if recipient_id.startswith(WHATSAPP_PREFIX) and self.whatsapp_number:
            sender = self.whatsapp_number
        try:
            await self.client.messages.create_async(to=recipient_id, from_=sender, body=text)
        except (TwilioException, OSError):
            if self.raise_errors:
                raise
            logger.exception("twilio.send_failed")

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, image)


class TwilioInputWithMessageSid(TwilioInput):
    """Rasa's Twilio channel, with Twilio's ``MessageSid`` in the message's metadata for the gate to take."""

    def get_metadata(self, request: Request) -> Optional[dict[str, Any]]:
        return {MESSAGE_SID: request.form.get(MESSAGE_SID)}


def twilio_message_id(metadata: Optional[dict[str, Any]]) -> Optional[str]:
    """The ``MessageSid`` of the metadata as the message's id; None (with a warning) when it is not a message id."""
    sid = (metadata or {}).get(MESSAGE_SID)
    if isinstance(sid, str) and MESSAGE_ID.fullmatch(sid):
        return sid
    logger.warning("twilio.message_sid_ignored: missing or not a message id; the message is stored as sent")
    return None


class GatedTwilio(GatedChannel):
    wrapped = TwilioInputWithMessageSid

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        missing = [name for name in ("account_sid", "auth_token", "twilio_number") if not credentials.get(name)]
        if missing:
            raise ValueError(f"the twilio channel needs {', '.join(missing)} in credentials.yml")
        return super().from_credentials(credentials)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        credentials = self.credentials
        assert isinstance(self.inner, TwilioInput)
        self.inner.debug_mode = False
        self.validator = RequestValidator(str(credentials["auth_token"]))
        self.webhook_url: Optional[str] = credentials.get("webhook_url")
        self.account_sid = str(credentials["account_sid"])
        self.auth_token = str(credentials["auth_token"])
        self.api_base_url = str(credentials.get("api_base_url") or TWILIO_API)
        self.twilio_number = str(credentials["twilio_number"])
        self.whatsapp_number: Optional[str] = credentials.get("whatsapp_number")
        self._client: Optional[Client] = None
        self._notified_sids: OrderedDict[str, None] = OrderedDict()

    @property
    def client(self) -> Client:
        """Created on first use, inside the server's event loop (its HTTP session belongs to the loop)."""
        if self._client is None:
            self._client = Client(self.account_sid, self.auth_token, http_client=AsyncTwilioHttpClient())
            self._client.api.base_url = self.api_base_url
        return self._client

    def guard(self, blueprint: Blueprint) -> None:
        @blueprint.middleware("request")
        async def signed_by_twilio(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST":
                return None
            signature = request.headers.get(SIGNATURE_HEADER, "")
            url = self.webhook_url or request.url
            if not signature or not self.validator.validate(url, request.form, signature):
                logger.warning("twilio.signature_refused")
                return response.json({"error": f"missing or wrong {SIGNATURE_HEADER}"}, status=403)
            _not_stored_retry_after.set(None)
            return None

        @blueprint.middleware("response")
        async def not_stored_is_503(request: Request, answer: HTTPResponse) -> Optional[HTTPResponse]:
            retry_after = _not_stored_retry_after.get()
            if request.method != "POST" or retry_after is None:
                return None
            return response.json({"error": str(StorageUnavailable(retry_after))}, status=503,
                                 headers={"Retry-After": str(retry_after)})

        @blueprint.listener("before_server_stop")
        async def close_client(*_: Any) -> None:
            if self._client is not None:
                http_client = self._client.http_client
                if isinstance(http_client, AsyncTwilioHttpClient):
                    await http_client.close()

    async def receive(self, message: UserMessage, on_new_message: OnNewMessage) -> None:
        """The message goes through the gate with Twilio's ``MessageSid`` as its id, and without it in metadata."""
        metadata = {key: value for key, value in (message.metadata or {}).items() if key != MESSAGE_SID}
        identified = UserMessage(message.text, message.output_channel, message.sender_id,
                                 input_channel=message.input_channel, message_id=twilio_message_id(message.metadata),
                                 metadata=metadata or None)
        await super().receive(identified, on_new_message)

    async def not_stored(self, message: UserMessage, recipient: str, unavailable: StorageUnavailable) -> None:
        """The webhook is answered 503; the patient is told once, however many times Twilio posts it again."""
        _not_stored_retry_after.set(unavailable.retry_after)
        sid = message.message_id
        if sid is not None and sid in self._notified_sids:
            return
        if sid is not None:
            self._notified_sids[sid] = None
            while len(self._notified_sids) > NOTIFIED_SIDS_KEPT:
                self._notified_sids.popitem(last=False)
        await super().not_stored(message, recipient, unavailable)

    def patient_output(self, message: UserMessage) -> OutputChannel:
        return TwilioApiOutput(self.client, self.twilio_number, self.whatsapp_number, raise_errors=False)

    def relay_output(self) -> Optional[OutputChannel]:
        return TwilioApiOutput(self.client, self.twilio_number, self.whatsapp_number, raise_errors=True)
