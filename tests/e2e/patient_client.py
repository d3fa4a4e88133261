"""Small HTTP helpers the end-to-end tests share: a patient and an agent."""

from typing import Any, Optional

import aiohttp

from stack.services import Stack


class Patient:
    def __init__(self, session: aiohttp.ClientSession, stack: Stack, sender: str) -> None:
        self.session = session
        self.stack = stack
        self.sender = sender

    async def say(self, text: str, metadata: Optional[dict[str, Any]] = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sender": self.sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        async with self.session.post(self.stack.patient_webhook_url, json=body) as response:
            assert response.status == 200, await response.text()
            return list(await response.json())


class AgentClient:
    def __init__(self, session: aiohttp.ClientSession, stack: Stack) -> None:
        self.session = session
        self.base = stack.console_url.rstrip("/")
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


def handoff_of(messages: list[dict[str, Any]]) -> Optional[dict[str, Any]]:
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and "handoff" in custom:
            return dict(custom["handoff"])
    return None
