"""Sign-in, sign-out, the presence heartbeat, and the agent (and its permissions) behind each request."""

import asyncio
import json

from aiohttp import web

from handoff.agents import Agent
from handoff.console.api import (
    AUDIT_KEY,
    DIRECTORY_KEY,
    INCIDENTS_KEY,
    PRESENCE_KEY,
    SESSIONS_KEY,
    THROTTLE_KEY,
    error_response,
    json_body,
)
from handoff.incidents import IncidentKind
from handoff.permissions import Action, require
from handoff.presence import PresenceStatus


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def current_agent(request: web.Request) -> Agent:
    """The agent of the request's live session (renewing its idle time), or an HTTP 401."""
    token = bearer_token(request)
    agent = await request.app[SESSIONS_KEY].agent_for(token) if token else None
    if agent is None:
        raise web.HTTPUnauthorized(
            text=json.dumps({"error": "missing, expired or revoked agent token"}),
            content_type="application/json",
        )
    return agent


async def permitted_agent(request: web.Request, action: Action, conversation_id: str = "-") -> Agent:
    """``current_agent``, if its role may take ``action``; else an audited HTTP 403 (``forbidden_<action>``)."""
    agent = await current_agent(request)
    await require(agent, action, request.app[AUDIT_KEY], conversation_id, request.remote)
    return agent


async def trained_agent(request: web.Request, conversation_id: str, action: Action) -> Agent:
    """``permitted_agent``, if its HIPAA training is current; else an audited HTTP 403 that says why."""
    agent = await permitted_agent(request, action, conversation_id)
    problem = agent.training_problem(request.app[SESSIONS_KEY].access.training_valid_days)
    if problem:
        audit = request.app[AUDIT_KEY]
        await audit.record(agent.agent_id, "forbidden_training_expired", conversation_id, request.remote)
        raise web.HTTPForbidden(text=json.dumps({"error": problem}), content_type="application/json")
    return agent


async def login(request: web.Request) -> web.Response:
    body = await json_body(request)
    agent_id, password = body.get("agent_id"), body.get("password")
    if not isinstance(agent_id, str) or not isinstance(password, str):
        return error_response(400, "agent_id and password are required strings")
    throttle, address = request.app[THROTTLE_KEY], request.remote or "-"
    retry_after = await throttle.retry_after(agent_id, address)
    if retry_after:
        await request.app[AUDIT_KEY].record(agent_id[:64], "login_throttled", "-", request.remote)
        await raise_login_flood(request, agent_id)
        response = error_response(429, f"too many failed sign-ins: try again in {retry_after} s")
        response.headers["Retry-After"] = str(retry_after)
        return response
    directory = request.app[DIRECTORY_KEY]
    agent = await asyncio.get_running_loop().run_in_executor(None, directory.authenticate, agent_id, password)
    if agent is None:
        tripped = await throttle.failed(agent_id, address)
        await request.app[AUDIT_KEY].record(agent_id[:64], "login_failed", "-", request.remote)
        if tripped:
            await raise_login_flood(request, agent_id)
        return error_response(401, "unknown agent or wrong password")
    await throttle.succeeded(agent_id)
    sessions = request.app[SESSIONS_KEY]
    token = await sessions.open(agent)
    await request.app[AUDIT_KEY].record(agent.agent_id, "login", "-", request.remote)
    return web.json_response(
        {"token": token, "agent": agent.public_profile(sessions.access.training_valid_days)}
    )


async def raise_login_flood(request: web.Request, agent_id: str) -> None:
    """The ``login_flood`` incident: the agent id only if the directory knows it (a typed guess could be anything,
    a patient's name included) and the client address."""
    known = agent_id if request.app[DIRECTORY_KEY].get(agent_id) is not None else "not in the directory"
    await request.app[INCIDENTS_KEY].raise_incident(IncidentKind.LOGIN_FLOOD, agent=known,
                                                    address=request.remote or "-")


async def logout(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    await request.app[SESSIONS_KEY].end(bearer_token(request))
    await request.app[PRESENCE_KEY].offline(agent.agent_id)
    await request.app[AUDIT_KEY].record(agent.agent_id, "logout", "-", request.remote)
    return web.json_response({"status": "logged out"})


async def heartbeat(request: web.Request) -> web.Response:
    """The console page's heartbeat; an agent that stops sending it loses its conversations (``handoff.presence``).
    An optional body ``{"status": "available" | "away"}`` says whether it takes new conversations."""
    agent = await current_agent(request)
    presence = request.app[PRESENCE_KEY]
    if request.can_read_body:
        body = await json_body(request)
        try:
            status = PresenceStatus(body.get("status"))
        except ValueError:
            status = PresenceStatus.OFFLINE
        if status == PresenceStatus.OFFLINE:
            return error_response(400, "status must be 'available' or 'away'")
        await presence.set_status(agent.agent_id, status)
        await request.app[AUDIT_KEY].record(agent.agent_id, f"presence_{status.value}", "-", request.remote)
    await presence.heartbeat(agent.agent_id)
    [status] = (await presence.status_of([agent.agent_id])).values()
    return web.json_response({"status": status.value, "timeout_seconds": presence.timeout_seconds})
