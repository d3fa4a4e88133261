"""The console API's OpenAPI document: every ``/api/`` route of the app is described (and nothing else is), and
real responses, successes and refusals, match their schemas."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Optional

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from jsonschema import Draft202012Validator
from redis.asyncio import Redis

from handoff import AuditLog, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.console.openapi import document
from tests.conftest import AGENT_PASSWORDS
from tests.console_clients import console_app


@pytest_asyncio.fixture
async def app(queue: LiveAgentQueue, audit: AuditLog, redis: Redis, keys: KeySpace, agents_file: Path
              ) -> web.Application:
    return console_app(queue, audit, redis, keys, agents_file)


@pytest_asyncio.fixture
async def client(app: web.Application) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def routes(app: web.Application) -> set[tuple[str, str]]:
    return {(route.method.lower(), route.resource.canonical) for route in app.router.routes()
            if route.resource is not None and route.resource.canonical.startswith("/api/") and route.method != "HEAD"}


def test_every_route_is_described_and_nothing_else(app: web.Application) -> None:
    described = {(method, path) for path, item in document()["paths"].items() for method in item}
    assert routes(app) == described
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            assert operation["summary"] and operation["responses"], (method, path)


class Checked:
    """Calls the API and checks each answer against the document: the schema of the status it documents for
    success, else the error schema; remembers which operations were seen."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.paths = document()["paths"]
        self.seen: set[tuple[str, str]] = set()

    async def __call__(self, method: str, template: str, headers: dict[str, str], body: Any = None,
                       status: Optional[int] = None, **params: str) -> Any:
        response = await self.client.request(method, template.format(**params), headers=headers, json=body)
        answer = await response.json()
        operation = self.paths[template][method.lower()]
        success = next(code for code in operation["responses"] if code != "default")
        key = success if str(response.status) == success else "default"
        schema = operation["responses"][key]["content"]["application/json"]["schema"]
        errors = list(Draft202012Validator(schema).iter_errors(answer))
        assert not errors, (method, template, response.status, answer, errors[0].message)
        assert response.status == (status or int(success)), (method, template, answer)
        self.seen.add((method.lower(), template))
        return answer


async def sign_in(checked: Checked, agent_id: str) -> dict[str, str]:
    answer = await checked("POST", "/api/login", {}, {"agent_id": agent_id, "password": AGENT_PASSWORDS[agent_id]})
    return {"Authorization": f"Bearer {answer['token']}"}


async def test_real_answers_match_their_schemas(client: TestClient, queue: LiveAgentQueue) -> None:
    checked = Checked(client)
    amy, sam = await sign_in(checked, "amy"), await sign_in(checked, "sam")
    await checked("POST", "/api/login", {}, {"agent_id": "amy", "password": "wrong"}, status=401)
    await checked("POST", "/api/presence", amy, {"status": "available"})
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    conversation = "/api/conversations/{conversation_id}"
    await checked("GET", "/api/queue", amy)
    await checked("POST", conversation + "/claim", amy, conversation_id="p1")
    await checked("POST", conversation + "/claim", amy, status=409, conversation_id="p1")
    await checked("POST", conversation + "/typing", amy, conversation_id="p1")
    await checked("POST", conversation + "/typing", amy, status=429, conversation_id="p1")
    await checked("POST", conversation + "/typing", sam, status=403, conversation_id="p1")
    await checked("POST", conversation + "/messages", amy, {"text": "Hi, this is Amy."}, conversation_id="p1")
    await checked("POST", conversation + "/notes", amy, {"text": "Billing dispute."}, conversation_id="p1")
    held = await checked("GET", "/api/supervision/held", sam)
    assert [row["conversation_id"] for agent in held["agents"] for row in agent["conversations"]] == ["p1"]
    await checked("GET", "/api/supervision/held", amy, status=403)
    await checked("POST", conversation + "/phone-callback", amy, {"number": "+1 555 123 4567", "best_time": "noon"},
                  conversation_id="p1")
    await checked("GET", conversation + "/transcript", amy, conversation_id="p1")
    await checked("GET", conversation + "/transcript", amy, status=404, conversation_id="nobody")
    await checked("POST", conversation + "/acknowledge-crisis", amy, status=409, conversation_id="p1")
    await checked("GET", "/api/mine", amy)
    await checked("GET", "/api/alerts", amy)
    await checked("GET", "/api/canned-replies", amy)
    await checked("POST", conversation + "/transfer", amy, {"skill": "billing", "note": "over to billing"},
                  conversation_id="p1")
    await checked("POST", conversation + "/take-over", sam, conversation_id="p1")
    await checked("POST", conversation + "/reassign", sam, {"agent_id": "amy", "from_agent_id": "sam"},
                  conversation_id="p1")
    await checked("POST", conversation + "/take-over", sam, {"from_agent_id": "sam"}, status=409, conversation_id="p1")
    await checked("POST", conversation + "/close", amy, {"outcome": "closed"}, conversation_id="p1")
    for path in ("/api/supervision", "/api/callbacks", "/api/escalations", "/api/audit", "/api/incidents"):
        await checked("GET", path, sam)
    await checked("GET", "/api/dashboard", sam)
    findings = await checked("GET", "/api/compliance/findings", sam)
    await checked("POST", "/api/compliance/findings/{finding_id}/review", sam, status=404, finding_id="f-nothing")
    assert all(finding["id"] != "f-nothing" for finding in findings["findings"])
    await checked("GET", "/api/supervision", amy, status=403)
    await checked("GET", "/api/agents", sam, status=403)
    await checked("POST", "/api/callbacks/{conversation_id}/done", sam, conversation_id="p1")
    await checked("POST", "/api/incidents/{incident_id}/acknowledge", sam, status=404,
                  incident_id="i-0123456789abcdef")
    await checked("GET", "/api/openapi.json", {})
    await checked("POST", "/api/logout", amy)
    await checked("GET", "/api/mine", amy, status=401)
    every = {(method, path) for path, item in document()["paths"].items() for method in item}
    websocket = {("get", "/api/events")}
    assert checked.seen == every - websocket, "every operation was exercised (the socket: test_console_events.py)"
