"""A local stand-in for the Twilio REST API, and a Twilio that posts correctly signed webhooks.

The stand-in records every message the bot sends (``POST /2010-04-01/Accounts/<sid>/Messages.json``,
HTTP Basic auth with the account sid and auth token, as Twilio's client sends it) and answers as Twilio
does. ``fail_next`` makes the next sends answer 500, as an outage would.
"""

import asyncio
import base64
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from stack.services import Stack
from tests.conftest import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER

WAIT_SECONDS = 30


@dataclass(frozen=True)
class SentMessage:
    to: str
    sender: str
    body: str


class TwilioApi:
    def __init__(self) -> None:
        self.sent: list[SentMessage] = []
        self.refused_auth = 0
        self.fail_next = 0
        self.changed = asyncio.Condition()
        self.runner: Optional[web.AppRunner] = None

    async def start(self, port: int) -> "TwilioApi":
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self.create_message)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def create_message(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{TWILIO_ACCOUNT_SID}:{TWILIO_AUTH_TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != expected or request.match_info["account"] != TWILIO_ACCOUNT_SID:
            self.refused_auth += 1
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"code": 20500, "message": "Internal Server Error"}, status=500)
        form = await request.post()
        message = SentMessage(str(form["To"]), str(form["From"]), str(form["Body"]))
        async with self.changed:
            self.sent.append(message)
            self.changed.notify_all()
        return web.json_response({
            "sid": "SM" + uuid.uuid4().hex, "account_sid": TWILIO_ACCOUNT_SID, "to": message.to,
            "from": message.sender, "body": message.body, "status": "queued", "num_segments": "1",
        }, status=201)

    def to(self, recipient: str) -> list[SentMessage]:
        return [message for message in self.sent if message.to == recipient]

    async def wait_for(self, recipient: str, fragment: str) -> list[SentMessage]:
        """Waits until a message to ``recipient`` contains ``fragment``; returns every message sent to it."""
        async with self.changed:
            await asyncio.wait_for(
                self.changed.wait_for(lambda: any(fragment in message.body for message in self.to(recipient))),
                WAIT_SECONDS,
            )
        return self.to(recipient)


def new_phone() -> str:
    return f"+1555{uuid.uuid4().int % 10_000_000:07d}"


class TwilioWebhook:
    """Posts what Twilio posts for an incoming SMS or WhatsApp message, signed as Twilio signs it."""

    def __init__(self, http: aiohttp.ClientSession, stack: Stack) -> None:
        self.http = http
        self.url = f"http://127.0.0.1:{stack.config.rasa_port}/webhooks/twilio/webhook"
        self.validator = RequestValidator(TWILIO_AUTH_TOKEN)
        self.last_headers: Mapping[str, str] = {}

    def params(self, sender: str, text: str) -> dict[str, str]:
        to = "whatsapp:" + TWILIO_NUMBER if sender.startswith("whatsapp:") else TWILIO_NUMBER
        return {"AccountSid": TWILIO_ACCOUNT_SID, "MessageSid": "SM" + uuid.uuid4().hex, "From": sender,
                "To": to, "Body": text, "NumMedia": "0"}

    def signature(self, params: dict[str, str]) -> str:
        return str(self.validator.compute_signature(self.url, params))

    async def post(self, params: dict[str, str], signature: Optional[str]) -> int:
        headers = {"X-Twilio-Signature": signature} if signature is not None else {}
        async with self.http.post(self.url, data=params, headers=headers) as response:
            self.last_headers = response.headers
            return response.status

    async def send(self, sender: str, text: str) -> None:
        """A signed message from ``sender``; returns once the server has handled it."""
        params = self.params(sender, text)
        status = await self.post(params, self.signature(params))
        assert status == 204, status
