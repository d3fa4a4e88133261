"""A socket.io client that speaks to the server exactly as the stock rasa-webchat widget does."""

import asyncio
from typing import Any, Optional

import aiohttp
import socketio

from stack.services import Stack
from tests.e2e.patient_client import client_address

WAIT_SECONDS = 30


class WidgetSocket:
    """``session_request`` with the kept session id, ``user_uttered`` with ``message``, ``customData`` and
    ``session_id``; every ``bot_uttered`` it receives is kept in order."""

    def __init__(self, stack: Stack, address: Optional[str] = None, port: Optional[int] = None) -> None:
        self.url = f"http://127.0.0.1:{port or stack.config.rasa_port}"
        self.address = address or client_address()
        self.http: Optional[aiohttp.ClientSession] = None
        self.client = socketio.AsyncClient(reconnection=False, http_session=self._open_http)
        self.received: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.confirmed: asyncio.Queue[str] = asyncio.Queue()
        self.session_id: Optional[str] = None
        self.client.on("bot_uttered", self._bot_uttered)
        self.client.on("session_confirm", self._session_confirm)

    def _open_http(self) -> aiohttp.ClientSession:
        """The engine.io client's HTTP session (made when it first polls, inside the event loop); ``close`` ends it."""
        self.http = aiohttp.ClientSession()
        return self.http

    async def _bot_uttered(self, data: dict[str, Any]) -> None:
        self.received.append(data)
        self.arrived.set()

    async def _session_confirm(self, session_id: str) -> None:
        self.session_id = session_id
        await self.confirmed.put(session_id)

    @property
    def conversation_id(self) -> str:
        assert self.session_id is not None
        return self.session_id.partition(".")[0]

    @property
    def texts(self) -> list[str]:
        return [str(message.get("text", "")) for message in self.received]

    async def connect(self, session_id: Optional[str] = None) -> str:
        """Connects and asks for a session, presenting ``session_id``; returns the session id the server confirms."""
        await self.client.connect(self.url, socketio_path="/socket.io", transports=["polling"],
                                  headers={"X-Forwarded-For": self.address}, wait_timeout=WAIT_SECONDS)
        await self.client.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.confirmed.get(), WAIT_SECONDS)

    async def say(self, text: str, session_id: Optional[str] = None) -> None:
        """Sends as the widget does, and waits until the server has handled the message (a socket.io ack)."""
        await self.client.call("user_uttered", {
            "message": text, "customData": {"locale": "en-US"}, "session_id": session_id or self.session_id,
        }, timeout=WAIT_SECONDS)

    async def wait_for(self, fragment: str) -> list[str]:
        """Waits until a received text contains ``fragment``; returns every text received so far."""

        async def arrived() -> None:
            while not any(fragment in text for text in self.texts):
                self.arrived.clear()
                await self.arrived.wait()

        try:
            await asyncio.wait_for(arrived(), WAIT_SECONDS)
        except asyncio.TimeoutError:
            raise AssertionError(f"no message containing {fragment!r} in {self.texts}") from None
        return self.texts

    async def close(self) -> None:
        """Leaves as the widget does: sends socket.io's and engine.io's close, and returns once the server has handled
        them (it does in the POST that carries them), without waiting out the long-poll GET the server holds until its
        next ping, up to 25 s on: once the close is delivered, the HTTP session ends and that GET with it."""
        delivering = self.client.eio.write_loop_task
        disconnecting = asyncio.create_task(self.client.disconnect())
        if delivering is not None:
            await asyncio.wait_for(asyncio.shield(delivering), WAIT_SECONDS)
        if self.http is not None:
            await self.http.close()
        await asyncio.wait_for(disconnecting, WAIT_SECONDS)
