"""The console's workbench against a real Redis: canned replies per language from YAML files edited while the
console runs, and the supervisor's overview of every queue and every agent."""

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from handoff import AuditLog, CloseOutcome, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.console.api import SURVEYS_KEY
from handoff.models import CrisisFlag
from tests.console_clients import console_app, sign_in
from tests.reaping import CATALOG

ENGLISH = """replies:
  - {id: greeting, title: Greeting, text: "Hi, this is {agent_name}. How can I help?"}
  - {id: closing, title: Closing, text: "Anything else today?"}
"""


@pytest_asyncio.fixture
async def client(queue: LiveAgentQueue, audit: AuditLog, redis: Redis, keys: KeySpace, agents_file: Path,
                 tmp_path: Path) -> AsyncIterator[TestClient]:
    (tmp_path / "en.yml").write_text(ENGLISH)
    (tmp_path / "es.yml").write_text('replies:\n  - {id: saludo, title: Saludo, text: "Hola, soy {agent_name}."}\n')
    app = console_app(queue, audit, redis, keys, agents_file, canned_replies=tmp_path)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def get(client: TestClient, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    response = await client.get(path, headers=headers)
    return response.status, await response.json()


def edited(path: Path, text: str) -> None:
    """Writes the file as a supervisor would, and makes sure its change time moves on."""
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


async def test_canned_replies_follow_the_files_per_language_and_a_broken_file_is_reported(
    client: TestClient, tmp_path: Path
) -> None:
    amy, luis = await sign_in(client, "amy"), await sign_in(client, "luis")
    status, answer = await get(client, "/api/canned-replies", amy)
    assert status == 200 and answer["problems"] == []
    assert [(r["id"], r["text"]) for r in answer["replies"]] == [
        ("greeting", "Hi, this is Amy. How can I help?"), ("closing", "Anything else today?")]
    assert (await get(client, "/api/canned-replies?language=es", amy))[0] == 400, "Amy does not speak Spanish"
    assert (await get(client, "/api/canned-replies", {}))[0] == 401
    assert [r["text"] for r in (await get(client, "/api/canned-replies", luis))[1]["replies"]] == ["Hola, soy Luis."]

    edited(tmp_path / "es.yml", 'replies:\n  - {id: saludo, title: Saludo, text: "Buenos días, soy {agent_name}."}\n'
                                '  - {id: espera, title: Espera, text: "Un momento, por favor."}\n')
    assert [r["id"] for r in (await get(client, "/api/canned-replies", luis))[1]["replies"]] == ["saludo", "espera"]
    for broken, problem in (("replies: [oops", "YAML"), ("replies:\n  - {id: 'no spaces!', title: T, text: x}\n", "id"),
                            ("replies:\n  - {id: a, title: T, text: x}\n  - {id: a, title: U, text: y}\n", "twice"),
                            ("replies:\n  - {id: a, title: T}\n", "text"), ("hello: world\n", "replies")):
        edited(tmp_path / "es.yml", broken)
        status, answer = await get(client, "/api/canned-replies", luis)
        assert status == 200 and answer["replies"] == [], broken
        assert len(answer["problems"]) == 1 and "es.yml" in answer["problems"][0] and problem in answer["problems"][0]
    assert len((await get(client, "/api/canned-replies", amy))[1]["replies"]) == 2, "other languages still served"


async def test_the_supervisor_sees_every_queue_and_every_agent_and_no_one_else_does(
    client: TestClient, queue: LiveAgentQueue, audit: AuditLog
) -> None:
    amy, sam = await sign_in(client, "amy"), await sign_in(client, "sam")
    await client.post("/api/presence", headers=amy)
    await queue.enqueue_escalation("en-1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.enqueue_escalation("es-1", "es", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.enqueue_escalation("en-2", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_suicide_self_harm",
                                   CrisisFlag("suicide_self_harm", "I want to end my life"))
    await queue.enqueue_escalation("en-3", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("en-3", "amy", ["en"])
    await queue.send_agent_message("en-3", "amy", "Hello")
    await queue.close("en-3", "amy", CloseOutcome.CLOSED,
                      survey_offer=lambda language: CATALOG.notice(language, "survey_offer"))
    await client.server.app[SURVEYS_KEY].answer("en-3", "4", "en")
    await queue.claim("en-1", "amy", ["en"])

    status, overview = await get(client, "/api/supervision", sam)
    assert status == 200
    queues = {item["language"]: item for item in overview["queues"]}
    assert set(queues) == {language.code for language in CATALOG}, "every routed language"
    assert (queues["en"]["waiting"], queues["en"]["by_priority"]) == (1, {"crisis": 1})
    assert (queues["es"]["waiting"], queues["fr"]["waiting"], queues["fr"]["longest_wait_ms"]) == (1, 0, 0)
    assert queues["es"]["longest_wait_ms"] >= queues["en"]["longest_wait_ms"] > 0, "es-1 waits since before en-2"
    agents = {item["agent_id"]: item for item in overview["agents"]}
    assert (agents["amy"]["presence"], agents["amy"]["conversations"], agents["amy"]["capacity"]) == (
        "available", 1, 3)
    assert agents["luis"]["presence"] == "offline"
    assert {"subject": "agent:amy", "ratings": 1, "mean": 4.0} in overview["satisfaction"]
    assert "I want to end my life" not in str(overview), "no conversation content"

    status, refused = await get(client, "/api/supervision", amy)
    assert status == 403 and "supervisor" in refused["error"]
    trail = [(e.actor, e.action) for e in await audit.entries() if "supervision" in e.action]
    assert trail == [("sam", "view_supervision"), ("amy", "forbidden_view_supervision")]
