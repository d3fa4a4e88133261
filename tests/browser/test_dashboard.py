"""A supervisor's operations dashboard in the real browser: seed metrics against targets, plots drawn from the JSON
API, the findings of the transcript review (one made on purpose), marked reviewed; an agent is refused."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
from playwright.async_api import Page, expect
from redis.asyncio import Redis

from handoff import KeyRing, KeySpace
from handoff.operations import CLAIM, OperationsEvent, OperationsEvents
from handoff.operations_report import write_report
from handoff.operations_summary import FIGURE_TARGETS, seed_metrics
from stack.services import Stack
from tests.browser.conftest import DESKTOP, NewContext
from tests.browser.test_pages import collect_page_errors, sign_in
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient, Patient, handoff_of, texts
from tests.e2e.training_messages import training_message
from tests.reaping import CATALOG

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".data" / "screenshots"


async def test_a_supervisor_sees_the_figures_and_plots_and_reviews_a_finding(
    stack: Stack, new_context: NewContext
) -> None:
    async with aiohttp.ClientSession() as http:
        patient = Patient(http, stack)
        assert handoff_of(await patient.say(training_message("en", "request_human"))) is not None
        amy = AgentClient(http, stack)
        await amy.login("amy", AGENT_PASSWORDS["amy"])
        conversation = patient.conversation_id
        assert (await amy.call("POST", f"/api/conversations/{conversation}/claim"))[0] == 200
        await amy.call("POST", f"/api/conversations/{conversation}/messages",
                       {"text": "Before we start: your date of birth is 03/14/1962, right?"})
        assert (await amy.call("POST", f"/api/conversations/{conversation}/close", {"outcome": "closed"}))[0] == 200
        assert texts(await patient.say("4")) == [CATALOG.notice("en", "survey_thanks")]

    agent = await (await new_context(DESKTOP)).new_page()
    await agent.goto(stack.console_url)
    await sign_in(agent, "amy", AGENT_PASSWORDS["amy"])
    await expect(agent.locator("#whoami")).to_have_text("Amy")
    await agent.goto(stack.console_url.rstrip("/") + "/dashboard")
    await expect(agent.locator("#dashboard-error")).to_contain_text("may not view the operations dashboard")
    await expect(agent.locator("#dashboard")).to_be_hidden()

    page = await (await new_context(DESKTOP)).new_page()
    errors = collect_page_errors(page)
    await page.goto(stack.console_url)
    await sign_in(page, "sam", AGENT_PASSWORDS["sam"])
    await expect(page.locator("#whoami")).to_have_text("Sam")
    await page.goto(stack.console_url.rstrip("/") + "/dashboard")
    await expect(page.locator("body[data-loaded-period='today']")).to_have_count(1)
    metrics = page.locator("[data-plot='seed-metrics'] tr")
    await expect(metrics).to_have_count(7)
    await expect(page.locator("tr[data-metric='compliance'] td.missed")).to_have_text("off target")
    await expect(page.locator("tr[data-metric='csat']")).not_to_contain_text("not measured")
    await expect(page.locator("tr[data-metric='first_response'] td.value")).to_contain_text("within 60 s")
    await expect(page.locator("[data-plot='handoffs-by-reason'] rect.bar").first).to_be_visible()
    await expect(page.locator("[data-plot='queue-wait'] circle.point").first).to_be_visible()
    await expect(page.locator("[data-plot='compliance'] rect.bar").first).to_be_visible()
    await expect(page.locator("[data-plot='csat'] .chart-empty")).to_have_count(0)
    await expect_every_figure_labelled_with_its_target(page)
    await expect(page.locator("tr[data-metric='phone_volume_reduction'] td.unknown")).to_have_text("not measured")
    await expect(page.locator("[data-plot='compliance'] line.target")).to_have_count(1)

    finding = page.locator("#findings tr").filter(has_text=conversation)
    await expect(finding).to_contain_text("phi_to_unverified_patient")
    await expect(finding).to_contain_text("03/14/1962")
    await finding.get_by_role("button", name="Mark reviewed").click()
    await expect(finding).to_contain_text("reviewed by sam")

    await page.get_by_role("button", name="Last 30 days").click()
    await expect(page.locator("body[data-loaded-period='30d']")).to_have_count(1)
    await expect(page.locator("[data-plot='handoffs-by-reason'] rect.bar").first).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "operations-dashboard.png"), full_page=True)
    assert errors == []


async def expect_every_figure_labelled_with_its_target(page: Page) -> None:
    """The seed metrics' target column and each figure's DOMAIN.md target, as the summary gives them."""
    for metric in seed_metrics([]):
        await expect(page.locator(f"tr[data-metric='{metric.key}'] td").nth(2)).to_have_text(metric.target)
    for key, target in FIGURE_TARGETS.items():
        await expect(page.locator(f"p.target[data-target='{key}']")).to_have_text(f"Target (DOMAIN.md): {target}")
    await expect(page.locator("figure[data-figure]")).to_have_count(len(FIGURE_TARGETS) - 1)
    await expect(page.locator("figure[data-figure]:not(:has(p.target))")).to_have_count(0)


async def test_a_period_without_events_shows_every_figure_not_measured_against_its_target(
    new_context: NewContext, redis: Redis, keys: KeySpace, key_ring: KeyRing, tmp_path: Path
) -> None:
    today = datetime.now(timezone.utc).date()
    html, _, _ = await write_report(redis, keys, key_ring, today, today, tmp_path)

    page = await (await new_context(DESKTOP)).new_page()
    errors = collect_page_errors(page)
    await page.goto(html.as_uri())
    await expect(page.locator("body[data-drawn='yes']")).to_have_count(1)
    await expect_every_figure_labelled_with_its_target(page)
    for metric in seed_metrics([]):
        row = page.locator(f"tr[data-metric='{metric.key}']")
        await expect(row.locator("td.value")).to_have_text("not measured")
        await expect(row.locator("td.unknown")).to_have_text("not measured")
    for plot, events in (("queue-wait", "claims"), ("handoffs-by-reason", "handoffs"), ("containment", "conversations"),
                         ("csat", "survey answers"), ("crisis-response", "agent answers to a crisis"),
                         ("compliance", "transcript reviews")):
        empty = page.locator(f"[data-plot='{plot}'] .chart-empty")
        await expect(empty).to_have_text(f"not measured: no {events} in this period")
        await expect(page.locator(f"[data-plot='{plot}'] .bar, [data-plot='{plot}'] .point")).to_have_count(0)
    await expect(page.locator("[data-plot='counts'] li[data-count='crisis_escalations']")).to_have_text(
        "crisis escalations: 0")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "operations-report-empty.png"), full_page=True)
    assert errors == []


async def test_the_html_report_draws_the_same_plots_offline(
    new_context: NewContext, redis: Redis, keys: KeySpace, key_ring: KeyRing, tmp_path: Path
) -> None:
    events = OperationsEvents(redis, keys, key_ring)
    for language, wait in (("en", 20.0), ("es", 95.0)):
        await events.conversation_started()
        await events.record(OperationsEvent(CLAIM, {"queue": language, "priority": "normal"}, wait))
    await events.survey_answered(4, "en")
    today = datetime.now(timezone.utc).date()
    html, _, _ = await write_report(redis, keys, key_ring, today - timedelta(days=6), today, tmp_path)

    page = await (await new_context(DESKTOP)).new_page()
    errors = collect_page_errors(page)
    await page.goto(html.as_uri())
    await expect(page.locator("body[data-drawn='yes']")).to_have_count(1)
    await expect(page.locator("[data-plot='seed-metrics'] tr")).to_have_count(7)
    await expect(page.locator("[data-plot='queue-wait'] path.series")).to_have_count(2)
    await expect(page.locator("[data-plot='csat'] rect.bar")).to_have_count(5)
    await expect(page.locator("tr[data-metric='csat'] td.value")).to_have_text("4.00 / 5")
    await expect_every_figure_labelled_with_its_target(page)
    await expect(page.locator("[data-plot='queue-wait'] line.target")).to_have_count(1)
    await expect(page.locator("[data-plot='containment'] line.target")).to_have_count(2)
    await expect(page.locator("[data-plot='compliance'] .chart-empty")).to_have_text(
        "not measured: no transcript reviews in this period")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "operations-report.png"), full_page=True)
    assert errors == []
