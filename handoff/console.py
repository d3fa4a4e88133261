"""The agent console: an aiohttp app with a JSON API and one page.

Every ``/api`` endpoint but login needs ``Authorization: Bearer <token>``. An
agent sees the queue of its languages without message content; the transcript
is readable only by the agent working the conversation, and every read is in
the audit log. Minimum necessary: the transcript starts at the current episode
(everything since the conversation was last closed); earlier episodes are shown
only to roles allowed to read them (``?episodes=all``), audited as such.
Each handler first checks the agent's role against ``handoff.permissions``: a
forbidden pair of role and action answers 403 and is audited as ``forbidden_<action>``.
"""

import argparse
import asyncio
import json
import logging
import re
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Awaitable, Callable

from aiohttp import web
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from handoff.agents import Agent, AgentDirectory, AgentSessions, LoginThrottle
from handoff.audit import AuditLog, seal_periodically
from handoff.crypto import EnvelopeError
from handoff.errors import (
    ConversationNotFound,
    CrisisChanged,
    HandoffError,
    InvalidTransition,
    MissingCrisisDisposition,
    NotAssignedAgent,
)
from handoff.keys import KeySpace
from handoff.log_privacy import pseudonymous_access_log
from handoff.models import CloseOutcome, CrisisDisposition
from handoff.permissions import Action, ActionForbidden, allowed, require
from handoff.presence import AgentPresence, reap_periodically
from handoff.queue import LiveAgentQueue
from handoff.settings import MAX_MESSAGE_BYTES, HandoffSettings
from handoff.transport import server_tls_context

logger = logging.getLogger(__name__)

CONVERSATION_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
ALERT_ID = re.compile(r"\d{1,15}(-\d{1,9})?")
STATIC_DIR = Path(__file__).parent / "static"
MAX_REQUEST_BYTES = 16 * 1024
MAX_AUDIT_ENTRIES = 1000

QUEUE_KEY = web.AppKey("queue", LiveAgentQueue)
DIRECTORY_KEY = web.AppKey("directory", AgentDirectory)
SESSIONS_KEY = web.AppKey("sessions", AgentSessions)
AUDIT_KEY = web.AppKey("audit", AuditLog)
SEALER_KEY = web.AppKey("audit-sealer", asyncio.Task)
THROTTLE_KEY = web.AppKey("throttle", LoginThrottle)
PRESENCE_KEY = web.AppKey("presence", AgentPresence)
REAPER_KEY = web.AppKey("presence-reaper", asyncio.Task)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or an HTTP 400 that says what is wrong."""
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "body is not valid JSON"}), content_type="application/json"
        )
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "body must be a JSON object"}), content_type="application/json"
        )
    return body


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


def conversation_id_of(request: web.Request) -> str:
    conversation_id = request.match_info["conversation_id"]
    if not CONVERSATION_ID.fullmatch(conversation_id):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "malformed conversation id"}), content_type="application/json"
        )
    return conversation_id


@web.middleware
async def handoff_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Maps queue errors to HTTP statuses, and keeps the page from being framed."""
    try:
        response = await handler(request)
    except ConversationNotFound as error:
        return error_response(404, str(error))
    except (NotAssignedAgent, ActionForbidden) as error:
        return error_response(403, str(error))
    except (InvalidTransition, CrisisChanged) as error:
        return error_response(409, str(error))
    except MissingCrisisDisposition as error:
        dispositions = ", ".join(disposition.value for disposition in CrisisDisposition)
        return error_response(400, f"{error}: crisis_disposition, one of {dispositions}")
    except HandoffError:
        logger.exception("console.handoff_error")
        return error_response(500, "internal error")
    except EnvelopeError:
        logger.exception("console.undecryptable: is a retired key missing from HANDOFF_DATA_KEYS?")
        return error_response(500, "stored data cannot be decrypted with the configured keys")
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, f"request body exceeds {MAX_REQUEST_BYTES} bytes")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


async def login(request: web.Request) -> web.Response:
    body = await json_body(request)
    agent_id, password = body.get("agent_id"), body.get("password")
    if not isinstance(agent_id, str) or not isinstance(password, str):
        return error_response(400, "agent_id and password are required strings")
    throttle, address = request.app[THROTTLE_KEY], request.remote or "-"
    retry_after = await throttle.retry_after(agent_id, address)
    if retry_after:
        await request.app[AUDIT_KEY].record(agent_id[:64], "login_throttled", "-", request.remote)
        response = error_response(429, f"too many failed sign-ins: try again in {retry_after} s")
        response.headers["Retry-After"] = str(retry_after)
        return response
    directory = request.app[DIRECTORY_KEY]
    agent = await asyncio.get_running_loop().run_in_executor(None, directory.authenticate, agent_id, password)
    if agent is None:
        await throttle.failed(agent_id, address)
        await request.app[AUDIT_KEY].record(agent_id[:64], "login_failed", "-", request.remote)
        return error_response(401, "unknown agent or wrong password")
    await throttle.succeeded(agent_id)
    sessions = request.app[SESSIONS_KEY]
    token = await sessions.open(agent)
    await request.app[AUDIT_KEY].record(agent.agent_id, "login", "-", request.remote)
    return web.json_response(
        {"token": token, "agent": agent.public_profile(sessions.access.training_valid_days)}
    )


async def logout(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    await request.app[SESSIONS_KEY].end(bearer_token(request))
    await request.app[PRESENCE_KEY].offline(agent.agent_id)
    await request.app[AUDIT_KEY].record(agent.agent_id, "logout", "-", request.remote)
    return web.json_response({"status": "logged out"})


async def heartbeat(request: web.Request) -> web.Response:
    """The console page's heartbeat; an agent that stops sending it loses its conversations (``handoff.presence``)."""
    agent = await current_agent(request)
    await request.app[PRESENCE_KEY].heartbeat(agent.agent_id)
    return web.json_response({"status": "available", "timeout_seconds": request.app[PRESENCE_KEY].timeout_seconds})


async def list_queue(request: web.Request) -> web.Response:
    agent = await permitted_agent(request, Action.VIEW_QUEUE)
    await request.app[AUDIT_KEY].record(agent.agent_id, "list_queue", "-", request.remote)
    waiting = await request.app[QUEUE_KEY].waiting(list(agent.languages), agent.claimable_skills)
    return web.json_response(
        {"waiting": [dict(conversation.to_json(), position=index + 1)
                     for index, conversation in enumerate(waiting)]}
    )


async def claim(request: web.Request) -> web.Response:
    conversation_id = conversation_id_of(request)
    agent = await trained_agent(request, conversation_id, Action.CLAIM)
    queue = request.app[QUEUE_KEY]
    audit = request.app[AUDIT_KEY].prepare(agent.agent_id, "claim", conversation_id, request.remote)
    conversation = await queue.claim(
        conversation_id, agent.agent_id, list(agent.languages), agent.claimable_skills, audit
    )
    return web.json_response({"conversation": conversation.to_json()})


async def read_transcript(request: web.Request) -> web.Response:
    conversation_id = conversation_id_of(request)
    wants_all = request.query.get("episodes") == "all"
    permission = Action.READ_EARLIER_EPISODES if wants_all else Action.READ_TRANSCRIPT
    agent = await trained_agent(request, conversation_id, permission)
    queue = request.app[QUEUE_KEY]
    conversation = await queue.conversation(conversation_id)
    if conversation is None:
        raise ConversationNotFound(f"no conversation {conversation_id!r}")
    if conversation.agent_id != agent.agent_id:
        raise NotAssignedAgent(f"conversation {conversation_id!r} is not assigned to this agent")
    start = request.query.get("from", "0")
    if not start.isdigit() or len(start) > 9:
        return error_response(400, "from must be a transcript entry number (0 or more)")
    episodes = request.query.get("episodes", "current")
    if episodes not in ("current", "all"):
        return error_response(400, "episodes must be 'current' or 'all'")
    first = 0 if episodes == "all" else conversation.transcript_from
    action = "read_earlier_episodes" if episodes == "all" else "read_transcript"
    await request.app[AUDIT_KEY].record(agent.agent_id, action, conversation_id, request.remote)
    entries = await queue.transcript(conversation_id, max(int(start), first))
    shows_evidence = conversation.crisis_category and allowed(agent.role, Action.READ_CRISIS_EVIDENCE)
    evidence = await queue.crisis_evidence(conversation_id) if shows_evidence else None
    return web.json_response(
        {
            "conversation": dict(conversation.to_json(), crisis_evidence=evidence),
            "from": max(int(start), first),
            "entries": [entry.to_json() for entry in entries],
        }
    )


async def my_conversations(request: web.Request) -> web.Response:
    """The conversations this agent is working, so a reloaded console picks them up again."""
    agent = await permitted_agent(request, Action.LIST_MINE)
    await request.app[AUDIT_KEY].record(agent.agent_id, "list_mine", "-", request.remote)
    assigned = await request.app[QUEUE_KEY].assigned_to(agent.agent_id)
    return web.json_response({"conversations": [conversation.to_json() for conversation in assigned]})


async def crisis_alerts(request: web.Request) -> web.Response:
    """Crisis alerts on the agent's own conversations; poll with ``?after=<last id>``."""
    agent = await permitted_agent(request, Action.VIEW_ALERTS)
    after = request.query.get("after", "0")
    if not ALERT_ID.fullmatch(after):
        return error_response(400, "after must be an alert id such as 1700000000000-0")
    await request.app[AUDIT_KEY].record(agent.agent_id, "read_alerts", "-", request.remote)
    return web.json_response({"alerts": await request.app[QUEUE_KEY].crisis_alerts(agent.agent_id, after)})


async def send_message(request: web.Request) -> web.Response:
    conversation_id = conversation_id_of(request)
    agent = await permitted_agent(request, Action.REPLY, conversation_id)
    body = await json_body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return error_response(400, "text is required and must be a non-empty string")
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        return error_response(413, f"text exceeds {MAX_MESSAGE_BYTES} bytes")
    audit = request.app[AUDIT_KEY].prepare(agent.agent_id, "send_message", conversation_id, request.remote)
    message_id = await request.app[QUEUE_KEY].send_agent_message(conversation_id, agent.agent_id, text, audit)
    return web.json_response({"message_id": message_id}, status=201)


async def close(request: web.Request) -> web.Response:
    conversation_id = conversation_id_of(request)
    agent = await permitted_agent(request, Action.CLOSE, conversation_id)
    body = await json_body(request)
    try:
        outcome = CloseOutcome(body.get("outcome"))
    except ValueError:
        return error_response(400, "outcome must be 'bot' or 'closed'")
    disposition = None
    if body.get("crisis_disposition") is not None:
        try:
            disposition = CrisisDisposition(body["crisis_disposition"])
        except ValueError:
            dispositions = ", ".join(disposition.value for disposition in CrisisDisposition)
            return error_response(400, f"crisis_disposition must be one of {dispositions}")
    audit = request.app[AUDIT_KEY].prepare(agent.agent_id, f"close_{outcome.value}", conversation_id, request.remote)
    await request.app[QUEUE_KEY].close(conversation_id, agent.agent_id, outcome, disposition, audit)
    return web.json_response({"status": outcome.value})


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


async def console_page(request: web.Request) -> web.FileResponse:
    response = web.FileResponse(STATIC_DIR / "console.html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'"
    )
    return response


def create_console_app(
    queue: LiveAgentQueue, sessions: AgentSessions, audit: AuditLog, throttle: LoginThrottle
) -> web.Application:
    """The console on the given stores; ``sessions`` carries the agent directory and the sign-in settings."""
    app = web.Application(middlewares=[handoff_errors], client_max_size=MAX_REQUEST_BYTES)
    app[QUEUE_KEY] = queue
    app[DIRECTORY_KEY] = sessions.directory
    app[SESSIONS_KEY] = sessions
    app[AUDIT_KEY] = audit
    app[THROTTLE_KEY] = throttle
    app[PRESENCE_KEY] = AgentPresence(queue.redis, queue.keys, queue, sessions.access.presence_timeout_seconds)
    app.router.add_get("/", console_page)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_post("/api/presence", heartbeat)
    app.router.add_get("/api/queue", list_queue)
    app.router.add_get("/api/alerts", crisis_alerts)
    app.router.add_get("/api/mine", my_conversations)
    app.router.add_post("/api/conversations/{conversation_id}/claim", claim)
    app.router.add_get("/api/conversations/{conversation_id}/transcript", read_transcript)
    app.router.add_post("/api/conversations/{conversation_id}/messages", send_message)
    app.router.add_post("/api/conversations/{conversation_id}/close", close)
    app.router.add_get("/api/agents", list_agents)
    app.router.add_get("/api/audit", read_audit)
    return app


def app_from_settings(settings: HandoffSettings) -> web.Application:
    """The console on the configured Redis; a connection Redis dropped (a restart) is retried once, afresh."""
    if settings.agents_file is None:
        raise SystemExit("HANDOFF_AGENTS_FILE is not set: the console needs an agent directory")
    redis = Redis.from_url(
        settings.redis_url, retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError]
    )
    keys = KeySpace(settings.namespace)
    key_ring = settings.key_ring()
    audit = AuditLog(redis, keys, settings.audit_key_ring(), settings.audit_anchor)
    app = create_console_app(
        LiveAgentQueue(redis, key_ring, keys, settings.retention.ms),
        AgentSessions(redis, keys, AgentDirectory.from_file(settings.agents_file), settings.agents),
        audit,
        LoginThrottle(redis, keys, settings.agents),
    )

    async def start_sealing(app: web.Application) -> None:
        app[SEALER_KEY] = asyncio.ensure_future(seal_periodically(audit))
        app[REAPER_KEY] = asyncio.ensure_future(reap_periodically(app[PRESENCE_KEY], audit))

    async def close_redis(app: web.Application) -> None:
        app[SEALER_KEY].cancel()
        app[REAPER_KEY].cancel()
        await audit.seal()
        await redis.close()

    app.on_startup.append(start_sealing)  # type: ignore[arg-type]
    app.on_cleanup.append(close_redis)  # type: ignore[arg-type]
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the agent console.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5006)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    settings = HandoffSettings.from_env()
    tls = server_tls_context(settings.tls) if settings.tls else None
    web.run_app(app_from_settings(settings), host=args.host, port=args.port, ssl_context=tls,
                access_log_class=pseudonymous_access_log(settings.key_ring()))


if __name__ == "__main__":
    main()
