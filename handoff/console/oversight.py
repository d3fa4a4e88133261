"""Oversight: the agent directory (admin), the audit trail (supervisor, admin) and escalated crises (supervisor)."""

import time
from dataclasses import asdict

from aiohttp import web

from handoff.console.api import AUDIT_KEY, CRISIS_ALERTS_KEY, DIRECTORY_KEY, SESSIONS_KEY, error_response
from handoff.console.auth import permitted_agent
from handoff.permissions import Action

MAX_AUDIT_ENTRIES = 1000


async def list_agents(request: web.Request) -> web.Response:
    """The agent directory's public profiles (no password hashes), for the role that manages agents."""
    agent = await permitted_agent(request, Action.MANAGE_AGENTS)
    await request.app[AUDIT_KEY].record(agent.agent_id, "list_agents", "-", request.remote)
    valid_days = request.app[SESSIONS_KEY].access.training_valid_days
    profiles = [member.public_profile(valid_days) for member in request.app[DIRECTORY_KEY].agents()]
    return web.json_response({"agents": sorted(profiles, key=lambda profile: str(profile["id"]))})


async def read_audit(request: web.Request) -> web.Response:
    """Audit entries since ``?since`` (ms, default the last 24 h), the newest ``?limit`` (at most 1000) of them:
    who did what to which conversation, from where. ``python -m handoff.audit verify`` checks the chain."""
    agent = await permitted_agent(request, Action.READ_AUDIT)
    limit = request.query.get("limit", "100")
    if not limit.isdigit() or not 0 < int(limit) <= MAX_AUDIT_ENTRIES:
        return error_response(400, f"limit must be a number from 1 to {MAX_AUDIT_ENTRIES}")
    since = request.query.get("since", str(int(time.time() * 1000) - 86_400_000))
    if not since.isdigit() or len(since) > 15:
        return error_response(400, "since must be a time in milliseconds since the epoch")
    audit = request.app[AUDIT_KEY]
    await audit.record(agent.agent_id, "read_audit", "-", request.remote)
    entries = (await audit.entries(int(since)))[-int(limit):]
    return web.json_response({"entries": [asdict(entry) for entry in entries]})


async def list_escalations(request: web.Request) -> web.Response:
    """Crises nobody acknowledged in time, on any conversation: where each waits and since when, no message
    content. A supervisor acknowledges one with ``POST /api/conversations/<id>/acknowledge-crisis``."""
    agent = await permitted_agent(request, Action.VIEW_ESCALATIONS)
    await request.app[AUDIT_KEY].record(agent.agent_id, "list_escalations", "-", request.remote)
    escalated = await request.app[CRISIS_ALERTS_KEY].escalated()
    return web.json_response({"escalations": [crisis.to_json() for crisis in escalated]})
