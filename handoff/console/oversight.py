"""Oversight: the agent directory (admin), the audit trail and security incidents (supervisor, admin) and escalated
crises (supervisor)."""

import re
import time
from dataclasses import asdict

from aiohttp import web

from handoff.console.api import (
    AUDIT_KEY,
    CRISIS_ALERTS_KEY,
    DIRECTORY_KEY,
    INCIDENTS_KEY,
    INTAKE_KEY,
    SESSIONS_KEY,
    error_response,
)
from handoff.console.auth import permitted_agent
from handoff.incidents import IncidentAlreadyAcknowledged, IncidentNotFound
from handoff.permissions import Action

MAX_AUDIT_ENTRIES = 1000
INCIDENT_ID = re.compile(r"i-[0-9a-f]{16}")


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
    await request.app[INTAKE_KEY].admit()
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


async def list_incidents(request: web.Request) -> web.Response:
    """Security incidents, newest first; ``?unacknowledged=1`` for the open ones only (the console's banner).
    Details name no patient: a conversation appears only as its log pseudonym."""
    agent = await permitted_agent(request, Action.VIEW_INCIDENTS)
    flag = request.query.get("unacknowledged", "0")
    if flag not in ("0", "1"):
        return error_response(400, "unacknowledged must be 0 or 1")
    await request.app[AUDIT_KEY].record(agent.agent_id, "list_incidents", "-", request.remote)
    incidents = await request.app[INCIDENTS_KEY].incidents(unacknowledged_only=flag == "1")
    return web.json_response({"incidents": [incident.to_json() for incident in incidents]})


async def acknowledge_incident(request: web.Request) -> web.Response:
    """A supervisor or admin takes the incident in hand (README, "Incident response"); audited."""
    incident_id = request.match_info["incident_id"]
    agent = await permitted_agent(request, Action.VIEW_INCIDENTS)
    if not INCIDENT_ID.fullmatch(incident_id):
        return error_response(400, "malformed incident id")
    try:
        await request.app[INCIDENTS_KEY].acknowledge(incident_id, agent.agent_id, request.remote)
    except IncidentNotFound as error:
        return error_response(404, str(error))
    except IncidentAlreadyAcknowledged as error:
        return error_response(409, str(error))
    return web.json_response({"status": "acknowledged"})
