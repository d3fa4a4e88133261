"""Operations on the console: ``/metrics`` for Prometheus, the supervisors' dashboard (``/dashboard``, its JSON API
``/api/dashboard``), the transcript review's findings, and the hooks the conversation API calls (claim, reply,
close) to measure and review.

``/metrics`` serves aggregate figures only (codes and counts, no conversation and no text), to a scraper with the
bearer token ``METRICS_TOKEN`` (``handoff.metrics.scrape_refusal``); no agent session opens it. The dashboard's
figures are aggregates too, but only supervisors see them; findings carry evidence (PHI, sealed at rest): reading
them is audited.
"""

import time
from datetime import datetime, timezone
from typing import Optional

from aiohttp import web

from compliance.review import ConversationReviewer
from compliance.store import ComplianceStore, FindingAlreadyReviewed, FindingNotFound
from handoff.console.api import AUDIT_KEY, QUEUE_KEY, error_response
from handoff.console.auth import permitted_agent
from handoff.console.page import STATIC_DIR
from handoff.coverage import CoverageHours
from handoff.metrics import CONTENT_TYPE, REFUSAL_HEADERS, exposition, scrape_refusal
from handoff.operations import OperationsEvents
from handoff.operations_summary import DAY_MS, summarize
from handoff.permissions import Action
from handoff.settings import ComplianceTargets

OPERATIONS_KEY = web.AppKey("operations", OperationsEvents)
REVIEWER_KEY = web.AppKey("compliance-reviewer", ConversationReviewer)
METRICS_TOKEN_KEY = web.AppKey("metrics-token", str)
PERIODS = {"today": 0, "7d": 7, "30d": 30}
PAGE_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'"


def add_operations(app: web.Application, targets: ComplianceTargets, coverage: Optional[CoverageHours],
                   metrics_token: str) -> None:
    """The operations stores on the console's Redis, and their routes; ``metrics_token``: what ``/metrics`` asks of
    its scraper (empty: nobody may read it)."""
    queue = app[QUEUE_KEY]
    app[METRICS_TOKEN_KEY] = metrics_token
    app[OPERATIONS_KEY] = OperationsEvents(queue.redis, queue.keys, queue.seals.key_ring)
    store = ComplianceStore(queue.redis, queue.keys, queue.seals.key_ring)
    app[REVIEWER_KEY] = ConversationReviewer(queue, store, app[OPERATIONS_KEY], targets,
                                             coverage or CoverageHours.always_open())
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/dashboard", dashboard_page)
    for name in ("dashboard.js", "charts.js", "operations-plots.js", "operations.css"):
        app.router.add_get(f"/{name}", static_file)
    app.router.add_get("/api/dashboard", dashboard_figures)
    app.router.add_get("/api/compliance/findings", compliance_findings)
    app.router.add_post("/api/compliance/findings/{finding_id}/review", review_finding)


def operations_of(request: web.Request) -> OperationsEvents:
    return request.app[OPERATIONS_KEY]


def reviewer_of(request: web.Request) -> ConversationReviewer:
    return request.app[REVIEWER_KEY]


async def metrics(request: web.Request) -> web.Response:
    refusal = scrape_refusal(request.headers.get("Authorization"), request.app[METRICS_TOKEN_KEY])
    if refusal is not None:
        return web.json_response({"error": refusal}, status=401, headers=REFUSAL_HEADERS)
    body = await exposition(request.app[OPERATIONS_KEY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def dashboard_page(request: web.Request) -> web.FileResponse:
    response = web.FileResponse(STATIC_DIR / "dashboard.html")
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


async def static_file(request: web.Request) -> web.FileResponse:
    """``dashboard.js`` (the page), ``operations-plots.js`` and ``operations.css`` (its layout, plots and styles, also
    in the report) and ``charts.js`` (the SVG chart drawer they use)."""
    name = request.path.lstrip("/")
    kind = "text/css" if name.endswith(".css") else "text/javascript"
    return web.FileResponse(STATIC_DIR / name, headers={"Content-Type": kind})


def period_of(request: web.Request) -> tuple[int, int]:
    """``?period=today|7d|30d``: (since, until) in ms; today starts at midnight UTC."""
    period = request.query.get("period", "today")
    if period not in PERIODS:
        raise web.HTTPBadRequest(text='{"error": "period must be one of today, 7d, 30d"}',
                                 content_type="application/json")
    now = int(time.time() * 1000)
    midnight = now - now % DAY_MS
    return (midnight if period == "today" else now - PERIODS[period] * DAY_MS), now


async def dashboard_figures(request: web.Request) -> web.Response:
    """The period's seed metrics against their targets, counts and plot series (aggregates, no conversation)."""
    agent = await permitted_agent(request, Action.VIEW_OPERATIONS)
    since, until = period_of(request)
    await request.app[AUDIT_KEY].record(agent.agent_id, "view_operations", "-", request.remote)
    events = await request.app[OPERATIONS_KEY].events(since, until)
    return web.json_response(summarize(events, since, until))


async def compliance_findings(request: web.Request) -> web.Response:
    """The period's findings with their evidence; audited as ``read_compliance_findings``."""
    agent = await permitted_agent(request, Action.REVIEW_COMPLIANCE)
    since, until = period_of(request)
    await request.app[AUDIT_KEY].record(agent.agent_id, "read_compliance_findings", "-", request.remote)
    findings = await request.app[REVIEWER_KEY].store.findings(since, until)
    return web.json_response({"findings": [finding.to_json() for finding in findings]})


async def review_finding(request: web.Request) -> web.Response:
    """A supervisor marks a finding reviewed, once; audited as ``review_compliance_finding``."""
    agent = await permitted_agent(request, Action.REVIEW_COMPLIANCE)
    finding_id = request.match_info["finding_id"]
    try:
        await request.app[REVIEWER_KEY].store.mark_reviewed(finding_id, agent.agent_id, request.app[AUDIT_KEY],
                                                            request.remote)
    except FindingNotFound as error:
        return error_response(404, str(error))
    except FindingAlreadyReviewed as error:
        return error_response(409, str(error))
    return web.json_response({"status": "reviewed", "reviewed_at": datetime.now(timezone.utc).isoformat()})
