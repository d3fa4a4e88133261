"""A supervisor sees an unacknowledged security incident on top of the console, an agent does not."""

from playwright.async_api import expect
from redis.asyncio import Redis

from handoff import KeyRing, KeySpace
from handoff.incidents import IncidentKind, IncidentLog
from handoff.log_privacy import pseudonym
from stack.services import Stack
from tests.browser.conftest import DESKTOP, NewContext
from tests.browser.test_pages import collect_page_errors, sign_in
from tests.conftest import AGENT_PASSWORDS


async def test_a_supervisor_sees_and_acknowledges_a_security_incident_an_agent_never_sees_it(
    stack: Stack, new_context: NewContext, redis: Redis
) -> None:
    key_ring = KeyRing.from_spec(stack.config.data_keys)
    incidents = IncidentLog(redis, KeySpace(stack.config.namespace), lambda sender: pseudonym(key_ring, sender), None)
    incident_id = await incidents.raise_incident(IncidentKind.LOGIN_FLOOD, agent="amy", address="203.0.113.9")

    agent = await (await new_context(DESKTOP)).new_page()
    await agent.goto(stack.console_url)
    await sign_in(agent, "amy", AGENT_PASSWORDS["amy"])
    await expect(agent.locator("#whoami")).to_have_text("Amy")

    console = await (await new_context(DESKTOP)).new_page()
    console_errors = collect_page_errors(console)
    await console.goto(stack.console_url)
    await sign_in(console, "sam", AGENT_PASSWORDS["sam"])
    banner_item = console.locator(f'#incidents li.incident[data-incident="{incident_id}"]')
    await expect(banner_item).to_contain_text("login_flood")
    await expect(banner_item).to_contain_text("address=203.0.113.9")
    await expect(console.locator("#incidents")).to_contain_text("SECURITY INCIDENT")
    await banner_item.get_by_role("button", name="Acknowledge").click()
    await expect(banner_item).to_have_count(0)
    [handled] = [incident for incident in await incidents.incidents() if incident.incident_id == incident_id]
    assert handled.acknowledged_by == "sam"

    await expect(agent.locator("#incidents")).to_be_hidden()
    assert console_errors == []
