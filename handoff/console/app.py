"""The console app: its routes, its background tasks (audit sealer and verifier, presence reaper) and ``main``."""

import argparse
import asyncio
import logging
from pathlib import Path
from typing import Optional

from aiohttp import web
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from handoff.agent_sessions import AgentSessions, LoginThrottle
from handoff.agents import AgentDirectory
from handoff.assignment import AutoAssigner
from handoff.audit import AuditLog, seal_periodically
from handoff.audit_intake import IntakeAdmission
from handoff.background import stop_tasks
from handoff.canned_replies import CannedReplies
from handoff.console.api import (
    ASSIGNER_KEY,
    AUDIT_KEY,
    CANNED_REPLIES_KEY,
    CATALOG_KEY,
    CRISIS_ALERTS_KEY,
    DIRECTORY_KEY,
    HANDOVERS_KEY,
    INCIDENTS_KEY,
    INTAKE_KEY,
    MAX_REQUEST_BYTES,
    PRESENCE_KEY,
    QUEUE_KEY,
    REAPER_KEY,
    SEALER_KEY,
    SESSIONS_KEY,
    SURVEYS_KEY,
    THROTTLE_KEY,
    VERIFIER_KEY,
    handoff_errors,
)
from handoff.console.auth import heartbeat, login, logout
from handoff.console.conversations import (
    acknowledge_crisis,
    claim,
    close,
    crisis_alerts,
    list_queue,
    my_conversations,
    read_transcript,
    send_message,
)
from handoff.console.dashboard import add_operations
from handoff.console.events import add_events
from handoff.console.handovers import (
    add_note,
    callback_done,
    escalate_to_phone,
    list_callbacks,
    reassign,
    take_over,
    transfer,
)
from handoff.console.openapi import openapi_document
from handoff.console.oversight import (
    acknowledge_incident,
    list_agents,
    list_escalations,
    list_incidents,
    read_audit,
)
from handoff.console.page import add_page
from handoff.console.supervision import canned_replies as canned_replies_route
from handoff.console.supervision import held_conversations, supervision
from handoff.console.typing import add_typing
from handoff.coverage import CoverageHours
from handoff.crisis_alerts import CrisisAlerts
from handoff.handovers import Handovers
from handoff.incidents import DEFAULT_RESPONSE, IncidentLog, verify_periodically
from handoff.keys import KeySpace
from handoff.log_privacy import pseudonymous_access_log
from handoff.presence import AGENT_LEFT_NOTICE, AgentPresence, reap_interval, reap_periodically
from handoff.queue import LiveAgentQueue
from handoff.redis_connection import async_redis
from handoff.settings import DEFAULT_CANNED_REPLIES, ComplianceTargets, HandoffSettings, IncidentResponse
from handoff.surveys import Surveys
from handoff.transport import server_tls_context
from languages import LanguageCatalog


def create_console_app(
    queue: LiveAgentQueue,
    sessions: AgentSessions,
    audit: AuditLog,
    throttle: LoginThrottle,
    catalog: Optional[LanguageCatalog] = None,
    incident_response: IncidentResponse = DEFAULT_RESPONSE,
    compliance: Optional[ComplianceTargets] = None,
    coverage: Optional[CoverageHours] = None,
    canned_replies: Path = DEFAULT_CANNED_REPLIES,
    metrics_token: str = "",
) -> web.Application:
    """The console on the given stores; ``sessions`` carries the agent directory and the console's settings,
    ``catalog`` the patient notices (default: ``languages/*.yml``), ``compliance`` and ``coverage`` what the
    transcript review holds conversations to, ``metrics_token`` the bearer token of ``/metrics`` (none: closed)."""
    notices = catalog or LanguageCatalog.load()
    app = web.Application(middlewares=[handoff_errors], client_max_size=MAX_REQUEST_BYTES)
    app[QUEUE_KEY] = queue
    app[DIRECTORY_KEY] = sessions.directory
    app[SESSIONS_KEY] = sessions
    app[AUDIT_KEY] = audit
    app[THROTTLE_KEY] = throttle
    app[INCIDENTS_KEY] = IncidentLog(queue.redis, queue.keys, queue.pseudonym, audit, incident_response)
    app[INTAKE_KEY] = IntakeAdmission(queue.redis, audit, queue.key_ring, app[INCIDENTS_KEY])
    app[PRESENCE_KEY] = AgentPresence(
        queue.redis, queue.keys, queue, sessions.access.presence_timeout_seconds,
        lambda language: notices.notice(language, AGENT_LEFT_NOTICE),
    )
    app[CRISIS_ALERTS_KEY] = CrisisAlerts(queue, app[PRESENCE_KEY], sessions.directory, sessions.access)
    app[ASSIGNER_KEY] = AutoAssigner(queue, app[PRESENCE_KEY], sessions.directory, sessions.access)
    app[HANDOVERS_KEY] = Handovers(queue, sessions.access)
    app[CATALOG_KEY] = notices
    app[SURVEYS_KEY] = Surveys(queue, notices)
    app[CANNED_REPLIES_KEY] = CannedReplies(canned_replies)
    add_page(app)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_post("/api/presence", heartbeat)
    app.router.add_get("/api/queue", list_queue)
    app.router.add_get("/api/alerts", crisis_alerts)
    app.router.add_get("/api/mine", my_conversations)
    app.router.add_post("/api/conversations/{conversation_id}/claim", claim)
    app.router.add_post("/api/conversations/{conversation_id}/acknowledge-crisis", acknowledge_crisis)
    app.router.add_get("/api/conversations/{conversation_id}/transcript", read_transcript)
    app.router.add_post("/api/conversations/{conversation_id}/messages", send_message)
    app.router.add_post("/api/conversations/{conversation_id}/close", close)
    add_typing(app)
    app.router.add_post("/api/conversations/{conversation_id}/transfer", transfer)
    app.router.add_post("/api/conversations/{conversation_id}/reassign", reassign)
    app.router.add_post("/api/conversations/{conversation_id}/take-over", take_over)
    app.router.add_post("/api/conversations/{conversation_id}/notes", add_note)
    app.router.add_post("/api/conversations/{conversation_id}/phone-callback", escalate_to_phone)
    app.router.add_get("/api/callbacks", list_callbacks)
    app.router.add_post("/api/callbacks/{conversation_id}/done", callback_done)
    app.router.add_get("/api/openapi.json", openapi_document)
    add_events(app)
    app.router.add_get("/api/supervision", supervision)
    app.router.add_get("/api/supervision/held", held_conversations)
    app.router.add_get("/api/canned-replies", canned_replies_route)
    app.router.add_get("/api/agents", list_agents)
    app.router.add_get("/api/audit", read_audit)
    app.router.add_get("/api/escalations", list_escalations)
    app.router.add_get("/api/incidents", list_incidents)
    app.router.add_post("/api/incidents/{incident_id}/acknowledge", acknowledge_incident)
    add_operations(app, compliance or ComplianceTargets(), coverage, metrics_token)
    return app


def app_from_settings(settings: HandoffSettings) -> web.Application:
    """The console on the configured Redis; a connection Redis dropped (a restart) is retried once, afresh."""
    if settings.agents_file is None:
        raise SystemExit("HANDOFF_AGENTS_FILE is not set: the console needs an agent directory")
    redis = async_redis(
        settings.redis_url, retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError]
    )
    keys = KeySpace(settings.namespace)
    key_ring = settings.key_ring()
    audit = AuditLog(redis, keys, settings.audit_key_ring(), settings.audit_anchor)
    app = create_console_app(
        LiveAgentQueue(redis, key_ring, keys, settings.retention.ms, settings.replica_acks),
        AgentSessions(redis, keys, AgentDirectory.from_file(settings.agents_file), settings.agents),
        audit,
        LoginThrottle(redis, keys, settings.agents),
        incident_response=settings.incidents,
        compliance=settings.compliance,
        coverage=settings.coverage(),
        canned_replies=settings.canned_replies,
        metrics_token=settings.metrics_token,
    )

    async def start_sealing(app: web.Application) -> None:
        app[SEALER_KEY] = asyncio.ensure_future(seal_periodically(audit, app[INTAKE_KEY].admit))
        app[VERIFIER_KEY] = asyncio.ensure_future(
            verify_periodically(audit, app[INCIDENTS_KEY], settings.incidents.audit_verify_seconds)
        )
        presence, crisis_alerts = app[PRESENCE_KEY], app[CRISIS_ALERTS_KEY]
        rounds = [lambda: presence.reap(audit), lambda: presence.reap_unanswered(audit),
                  lambda: crisis_alerts.escalate_overdue(audit)]
        if settings.agents.auto_assign:
            rounds.append(lambda: app[ASSIGNER_KEY].assign_waiting(audit))
        app[REAPER_KEY] = asyncio.ensure_future(reap_periodically(rounds, reap_interval(settings.agents)))

    async def close_redis(app: web.Application) -> None:
        await stop_tasks(app[SEALER_KEY], app[VERIFIER_KEY], app[REAPER_KEY])
        await app[INTAKE_KEY].admit()
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
