"""Roles, minimum necessary: every pair of role and action against the console over HTTP, on a real Redis.

The walk is driven by ``handoff.permissions.PERMISSIONS`` itself: an allowed pair must work,
a forbidden pair must answer 403, change nothing and leave ``forbidden_<action>`` in the
audit log. The README's table states the same table in prose.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Optional

import pytest
import pytest_asyncio
import yaml
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from handoff import AgentDirectory, AgentSessions, AuditLog, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.agent_sessions import LoginThrottle
from handoff.agents import EARLIER_EPISODE_ROLES, AgentDirectoryError, hash_password, read_agents
from handoff.console import create_console_app
from handoff.coverage import CoverageHours
from handoff.models import ConversationState, CrisisFlag
from handoff.permissions import PERMISSIONS, Action, Role, allowed
from handoff.settings import AgentAccess
from handoff.staffing import Staffing

TRAINED = date.today() - timedelta(days=10)
STAFF = {
    Role.AGENT: ("ann", ["general", "billing"]),
    Role.NURSE: ("nina", ["nurse", "behavioral-health"]),
    Role.PHARMACIST: ("phil", ["pharmacy"]),
    Role.SUPERVISOR: ("sue", ["general"]),
    Role.ADMIN: ("ada", []),
}
PASSWORD = "Role-walk-password-1"
CRISIS = CrisisFlag("suicide_self_harm", "I want to end my life")
SKILL_OF = {Role.AGENT: Skill.BILLING, Role.NURSE: Skill.BEHAVIORAL_HEALTH, Role.PHARMACIST: Skill.PHARMACY,
            Role.SUPERVISOR: Skill.NURSE, Role.ADMIN: Skill.GENERAL}
"""The conversation each role's agent works; the supervisor's is outside its listed skills on purpose."""


@dataclass(frozen=True)
class Step:
    method: str
    path: str
    body: Optional[dict[str, Any]] = None
    ok: int = 200
    forbidden_record: str = ""
    """The audit action a refusal writes, when not ``forbidden_<action>``."""


def step(action: Action, conversation: str) -> Step:
    base = f"/api/conversations/{conversation}"
    return {
        Action.VIEW_QUEUE: Step("GET", "/api/queue"),
        Action.VIEW_ALERTS: Step("GET", "/api/alerts"),
        Action.LIST_MINE: Step("GET", "/api/mine"),
        Action.CLAIM: Step("POST", f"{base}/claim"),
        Action.ACKNOWLEDGE_CRISIS: Step("POST", f"{base}/acknowledge-crisis"),
        Action.READ_TRANSCRIPT: Step("GET", f"{base}/transcript"),
        # Crisis evidence is only ever served inside a transcript page: a role without it is refused there.
        Action.READ_CRISIS_EVIDENCE: Step("GET", f"{base}/transcript", forbidden_record="forbidden_read_transcript"),
        Action.READ_EARLIER_EPISODES: Step("GET", f"{base}/transcript?episodes=all"),
        Action.REPLY: Step("POST", f"{base}/messages", {"text": "A nurse will call you now."}, ok=201),
        Action.MANAGE_AGENTS: Step("GET", "/api/agents"),
        Action.READ_AUDIT: Step("GET", "/api/audit"),
        Action.VIEW_ESCALATIONS: Step("GET", "/api/escalations"),
        Action.VIEW_INCIDENTS: Step("GET", "/api/incidents"),
        Action.VIEW_OPERATIONS: Step("GET", "/api/dashboard?period=7d"),
        Action.REVIEW_COMPLIANCE: Step("GET", "/api/compliance/findings?period=30d"),
        # Handing the conversation on would end the walk: the permission passes, the body names no target.
        Action.TRANSFER: Step("POST", f"{base}/transfer", {"note": "for the nurse"}, ok=400),
        Action.ADD_NOTE: Step("POST", f"{base}/notes", {"text": "Prefers a call after 5 pm."}, ok=201),
        Action.ESCALATE_TO_PHONE: Step("POST", f"{base}/phone-callback",
                                       {"number": "+1 555 123 4567", "best_time": "after 5 pm"}, ok=201),
        # The supervisor has the conversation already: taking it over is refused as a no-op, after the permission.
        Action.REASSIGN: Step("POST", f"{base}/take-over", ok=409),
        Action.VIEW_CALLBACKS: Step("GET", "/api/callbacks"),
        Action.VIEW_SUPERVISION: Step("GET", "/api/supervision"),
        Action.CLOSE: Step(
            "POST", f"{base}/close", {"outcome": "closed", "crisis_disposition": "resources_given_patient_safe"}
        ),
    }[action]


WALK_ORDER = [action for action in Action if action != Action.CLOSE] + [Action.CLOSE]
"""Close last: the conversation must stay assigned for the steps before it."""


@pytest.fixture
def staff_file(tmp_path: Path) -> Path:
    path = tmp_path / "agents.yml"
    password_hash = hash_password(PASSWORD)
    agents = [
        {"id": agent_id, "role": role.value, "languages": ["en"], "skills": skills, "hipaa_training": TRAINED,
         "password_hash": password_hash}
        for role, (agent_id, skills) in STAFF.items()
    ]
    path.write_text(yaml.safe_dump({"agents": agents}))
    return path


@pytest_asyncio.fixture
async def client(redis: Redis, keys: KeySpace, key_ring: KeyRing, staff_file: Path) -> AsyncIterator[TestClient]:
    access = AgentAccess()
    app = create_console_app(
        LiveAgentQueue(redis, key_ring, keys),
        AgentSessions(redis, keys, AgentDirectory.from_file(staff_file), access),
        AuditLog(redis, keys, key_ring),
        LoginThrottle(redis, keys, access),
    )
    test_client = TestClient(TestServer(app))
    await test_client.start_server()
    yield test_client
    await test_client.close()


async def sign_in(client: TestClient, agent_id: str) -> dict[str, str]:
    response = await client.post("/api/login", json={"agent_id": agent_id, "password": PASSWORD})
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


def test_the_table_is_coherent() -> None:
    assert set(PERMISSIONS) == set(Role), "every role has a row"
    for role, actions in PERMISSIONS.items():
        for implied in (Action.READ_CRISIS_EVIDENCE, Action.READ_EARLIER_EPISODES):
            assert implied not in actions or Action.READ_TRANSCRIPT in actions, (role, implied)
    admin = PERMISSIONS[Role.ADMIN]
    assert Action.MANAGE_AGENTS in admin and not admin & {
        Action.READ_TRANSCRIPT, Action.READ_CRISIS_EVIDENCE, Action.READ_EARLIER_EPISODES, Action.CLAIM,
        Action.REPLY, Action.CLOSE, Action.VIEW_QUEUE, Action.VIEW_ALERTS, Action.LIST_MINE,
        Action.ACKNOWLEDGE_CRISIS, Action.VIEW_ESCALATIONS,
    }, "admin manages agents and reads no conversation"
    assert [role for role in Role if allowed(role.value, Action.MANAGE_AGENTS)] == [Role.ADMIN]
    assert frozenset({"supervisor"}) == EARLIER_EPISODE_ROLES
    assert not any(allowed("root", action) for action in Action), "an unknown role may do nothing"


async def test_every_pair_of_role_and_action(
    client: TestClient, redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    queue = LiveAgentQueue(redis, key_ring, keys)
    audit = AuditLog(redis, keys, key_ring)
    expected_refusals: list[tuple[str, str, str]] = []
    for role, (agent_id, _) in STAFF.items():
        conversation = f"walk-{role.value}"
        await queue.enqueue_escalation(conversation, "en", SKILL_OF[role], Priority.CRISIS, "crisis", CRISIS)
        headers = await sign_in(client, agent_id)
        for action in WALK_ORDER:
            request = step(action, conversation)
            before = await queue.conversation(conversation)
            response = await client.request(request.method, request.path, json=request.body, headers=headers)
            body = await response.json()
            pair = f"{role.value} {action.value}: {body}"
            if allowed(role.value, action):
                assert response.status == request.ok, pair
                if action == Action.READ_CRISIS_EVIDENCE:
                    assert body["conversation"]["crisis_evidence"] == CRISIS.evidence, pair
                if action == Action.VIEW_QUEUE:
                    assert [item["conversation_id"] for item in body["waiting"]] == [conversation], pair
                continue
            assert response.status == 403, pair
            assert role.value in body["error"], pair
            after = await queue.conversation(conversation)
            assert after == before, f"a refused {pair} changed the conversation"
            record = request.forbidden_record or f"forbidden_{action.value}"
            path_conversation = conversation if "/conversations/" in request.path else "-"
            expected_refusals.append((agent_id, record, path_conversation))
            last = (await audit.entries())[-1]
            assert (last.actor, last.action, last.conversation) == expected_refusals[-1], pair

    refusals = [(e.actor, e.action, e.conversation) for e in await audit.entries() if e.action.startswith("forbidden")]
    assert refusals == expected_refusals
    denied = {(actor, action) for actor, action, _ in refusals}
    assert ("ada", "forbidden_claim") in denied and ("ann", "forbidden_read_earlier_episodes") in denied
    assert ("sue", "forbidden_manage_agents") in denied and ("nina", "forbidden_read_audit") in denied
    untouched = await queue.conversation("walk-admin")
    assert untouched is not None and untouched.state == ConversationState.QUEUED and untouched.agent_id is None


async def test_admin_lists_the_directory_without_password_hashes(client: TestClient) -> None:
    response = await client.get("/api/agents", headers=await sign_in(client, "ada"))
    assert response.status == 200
    agents = (await response.json())["agents"]
    assert [(agent["id"], agent["role"]) for agent in agents] == sorted(
        (agent_id, role.value) for role, (agent_id, _) in STAFF.items()
    )
    assert "scrypt" not in repr(agents) and all("password_hash" not in agent for agent in agents)
    assert all(agent["training_problem"] is None for agent in agents)


async def test_a_supervisor_reads_the_audit_trail_of_refusals(client: TestClient) -> None:
    await client.get("/api/queue", headers=await sign_in(client, "ada"))
    response = await client.get("/api/audit?limit=5", headers=await sign_in(client, "sue"))
    assert response.status == 200
    actions = [(entry["actor"], entry["action"]) for entry in (await response.json())["entries"]]
    assert ("ada", "forbidden_view_queue") in actions and actions[-1] == ("sue", "read_audit")
    bad = await client.get("/api/audit?limit=0", headers=await sign_in(client, "sue"))
    assert bad.status == 400


def write_directory(path: Path, *agents: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"agents": [dict(agent, password_hash="x") for agent in agents]}))
    return path


def test_an_unknown_role_is_a_directory_error_not_a_grant(tmp_path: Path) -> None:
    path = write_directory(tmp_path / "agents.yml", {"id": "eve", "role": "superuser", "languages": ["en"]})
    with pytest.raises(AgentDirectoryError, match="agent 'eve': unknown role 'superuser'; the roles are agent, nurse"):
        read_agents(path)


def test_skills_default_by_role_and_the_directory_wins(tmp_path: Path) -> None:
    path = write_directory(
        tmp_path / "agents.yml",
        {"id": "a", "languages": ["en"]},
        {"id": "n", "role": "nurse", "languages": ["en"]},
        {"id": "p", "role": "pharmacist", "languages": ["en"]},
        {"id": "m", "role": "admin", "languages": ["en"]},
        {"id": "n2", "role": "nurse", "languages": ["en"], "skills": ["nurse", "general"]},
    )
    agents = {agent.agent_id: agent for agent in read_agents(path)}
    assert {agent_id: agent.skills for agent_id, agent in agents.items()} == {
        "a": ("general",), "n": ("nurse",), "p": ("pharmacy",), "m": (), "n2": ("nurse", "general"),
    }
    assert agents["a"].role == "agent"


@pytest.mark.parametrize(
    ("role", "skills", "refused"),
    [("agent", ["general", "behavioral-health"], "behavioral-health"), ("agent", ["nurse"], "nurse"),
     ("pharmacist", ["pharmacy", "nurse"], "nurse"), ("admin", ["general"], "general"),
     ("nurse", ["general", "root"], "root")],
)
def test_a_skill_beyond_the_role_is_a_directory_error_not_a_grant(
    tmp_path: Path, role: str, skills: list[str], refused: str
) -> None:
    """A front-desk agent listed with a clinical queue would read crisis and clinical conversations."""
    path = write_directory(tmp_path / "agents.yml",
                           {"id": "eve", "role": role, "languages": ["en"], "skills": skills})
    with pytest.raises(AgentDirectoryError, match=f"agent 'eve': role {role} may not have skill {refused} "):
        read_agents(path)


def test_an_admin_claims_nothing_and_is_not_staff(tmp_path: Path) -> None:
    path = write_directory(
        tmp_path / "agents.yml",
        {"id": "ada", "role": "admin", "languages": ["ko"], "hipaa_training": TRAINED},
    )
    directory = AgentDirectory.from_file(path)
    admin = directory.get("ada")
    assert admin is not None and admin.claimable_skills == [] and not admin.reads_earlier_episodes
    staffing = Staffing(CoverageHours("UTC", {}), directory)
    assert staffing.crisis_fallback("ko", Skill.GENERAL) == "en", "an admin does not staff the Korean queue"
