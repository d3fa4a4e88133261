"""What every console handler shares: the app's stores, JSON errors and request parsing."""

import asyncio
import json
import logging
import re
from typing import Any, Awaitable, Callable

from aiohttp import web

from handoff.agent_sessions import AgentSessions, LoginThrottle
from handoff.agents import AgentDirectory
from handoff.assignment import AutoAssigner
from handoff.audit import AuditLog
from handoff.audit_intake import IntakeAdmission
from handoff.canned_replies import CannedReplies
from handoff.crisis_alerts import CrisisAlerts
from handoff.crypto import EnvelopeError
from handoff.durable_writes import UnreplicatedWrite
from handoff.errors import (
    ConversationNotFound,
    CrisisChanged,
    HandoffError,
    InvalidTransition,
    MissingCrisisDisposition,
    NotAssignedAgent,
)
from handoff.handovers import Handovers
from handoff.incidents import IncidentKind, IncidentLog
from handoff.models import CrisisDisposition
from handoff.permissions import ActionForbidden
from handoff.presence import AgentPresence
from handoff.queue import LiveAgentQueue
from handoff.surveys import Surveys
from languages import LanguageCatalog

logger = logging.getLogger(__name__)

CONVERSATION_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
MAX_REQUEST_BYTES = 16 * 1024
UNREPLICATED_RETRY_AFTER_SECONDS = 5
"""How long a console is asked to wait before sending again what too few replicas acknowledged."""

QUEUE_KEY = web.AppKey("queue", LiveAgentQueue)
DIRECTORY_KEY = web.AppKey("directory", AgentDirectory)
SESSIONS_KEY = web.AppKey("sessions", AgentSessions)
AUDIT_KEY = web.AppKey("audit", AuditLog)
INTAKE_KEY = web.AppKey("audit-intake", IntakeAdmission)
SEALER_KEY = web.AppKey("audit-sealer", asyncio.Task)
THROTTLE_KEY = web.AppKey("throttle", LoginThrottle)
PRESENCE_KEY = web.AppKey("presence", AgentPresence)
CRISIS_ALERTS_KEY = web.AppKey("crisis-alerts", CrisisAlerts)
REAPER_KEY = web.AppKey("presence-reaper", asyncio.Task)
INCIDENTS_KEY = web.AppKey("incidents", IncidentLog)
VERIFIER_KEY = web.AppKey("audit-verifier", asyncio.Task)
ASSIGNER_KEY = web.AppKey("auto-assigner", AutoAssigner)
HANDOVERS_KEY = web.AppKey("handovers", Handovers)
CATALOG_KEY = web.AppKey("languages", LanguageCatalog)
SURVEYS_KEY = web.AppKey("surveys", Surveys)
CANNED_REPLIES_KEY = web.AppKey("canned-replies", CannedReplies)

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
        await raise_undecryptable(request)
        return error_response(500, "stored data cannot be decrypted with the configured keys")
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, f"request body exceeds {MAX_REQUEST_BYTES} bytes")
    except UnreplicatedWrite as error:
        logger.warning("console.unreplicated_write %s: %s", request.method, error)
        response = error_response(503, "storage is briefly unsafe; nothing was promised, please retry")
        response.headers["Retry-After"] = str(UNREPLICATED_RETRY_AFTER_SECONDS)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


async def raise_undecryptable(request: web.Request) -> None:
    """The ``undecryptable_data`` incident of a request whose stored data failed to open: the route's pattern
    (never its path, which holds the conversation id) and the conversation's pseudonym."""
    incidents = request.app[INCIDENTS_KEY]
    resource = request.match_info.route.resource
    conversation_id = request.match_info.get("conversation_id")
    await incidents.raise_incident(
        IncidentKind.UNDECRYPTABLE_DATA,
        where=f"console {request.method} {resource.canonical if resource else '-'}",
        conversation=incidents.conversation_pseudonym(conversation_id) if conversation_id else "-",
    )
