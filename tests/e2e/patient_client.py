"""Small HTTP helpers the end-to-end tests share: a patient and an agent."""

import uuid
from typing import Any, Optional

import aiohttp

from stack.services import Stack


def client_address() -> str:
    """A documentation-range address of its own, sent as ``X-Forwarded-For`` (the test stack trusts one proxy)."""
    value = uuid.uuid4().int
    return f"198.18.{value % 256}.{(value >> 8) % 256}"


class Patient:
    """A patient whose client does what the README says: keep the id and token the server issues."""

    def __init__(self, session: aiohttp.ClientSession, stack: Stack, address: Optional[str] = None) -> None:
        self.session = session
        self.stack = stack
        self.address = address or client_address()
        self.sender: Optional[str] = None
        self.token: Optional[str] = None
        self.last_headers: dict[str, str] = {}
        self.webhook_url = stack.patient_webhook_url
        """Where the next message goes: another Rasa server of the stack is another URL."""

    @property
    def conversation_id(self) -> str:
        assert self.sender is not None, "the patient has not written yet"
        return self.sender

    async def post(
        self,
        text: str,
        metadata: Optional[dict[str, Any]] = None,
        sender: Optional[str] = None,
        token: Optional[str] = None,
        headers: Optional[dict[str, str]] = None,
        message_id: Optional[str] = None,
    ) -> tuple[int, Any]:
        """Sends as this patient, or as whoever ``sender``/``token`` say; adopts a newly issued session. With
        ``message_id``, the client's id of the message (sent again after a 503, it is stored once)."""
        body: dict[str, Any] = {"message": text}
        if message_id is not None:
            body["message_id"] = message_id
        if sender or self.sender:
            body["sender"] = sender or self.sender
        if metadata is not None:
            body["metadata"] = metadata
        all_headers = {"X-Forwarded-For": self.address, **(headers or {})}
        if token or self.token:
            all_headers["Authorization"] = f"Bearer {token or self.token}"
        async with self.session.post(self.webhook_url, json=body, headers=all_headers) as response:
            self.last_headers = dict(response.headers)
            return response.status, await response.json()

    async def say(self, text: str, metadata: Optional[dict[str, Any]] = None) -> list[dict[str, Any]]:
        status, replies = await self.post(text, metadata)
        assert status == 200, replies
        return self.adopt(replies)

    def adopt(self, replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Keeps a session the server issued (the first message on first contact); returns the rest."""
        new = session_of(replies)
        if new is not None:
            self.sender, self.token = new["conversation_id"], new["token"]
        return [reply for reply in replies if session_of([reply]) is None]


class AgentClient:
    def __init__(self, session: aiohttp.ClientSession, stack: Stack, console_url: Optional[str] = None) -> None:
        """An agent of the stack's console, or of another console process at ``console_url``."""
        self.session = session
        self.base = (console_url or stack.console_url).rstrip("/")
        self.token = ""

    async def login(self, agent_id: str, password: str) -> None:
        status, body = await self.call("POST", "/api/login", {"agent_id": agent_id, "password": password})
        assert status == 200, body
        self.token = body["token"]

    async def call(
        self, method: str, path: str, body: Optional[dict[str, Any]] = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.session.request(method, self.base + path, json=body, headers=headers) as response:
            return response.status, await response.json()


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [message["text"] for message in messages if "text" in message]


def custom_of(messages: list[dict[str, Any]], kind: str) -> Optional[dict[str, Any]]:
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and kind in custom:
            return dict(custom[kind])
    return None


def handoff_of(messages: list[dict[str, Any]]) -> Optional[dict[str, Any]]:
    return custom_of(messages, "handoff")


def session_of(messages: list[dict[str, Any]]) -> Optional[dict[str, Any]]:
    return custom_of(messages, "session")
