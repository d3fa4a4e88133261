"""The console page in real time: it hears of changes on ``/api/events`` and never polls, reconnects with growing
delays after a drop (saying it is offline meanwhile), works several conversations in tabs with unread counts and
keyboard navigation, announces patient messages politely, and raises a crisis alert that sounds, says CALL BY
PHONE with the evidence, and stays until acknowledged."""

import re

import aiohttp
from playwright.async_api import Page, Request, WebSocketRoute, expect

from stack.services import Stack
from tests.browser.conftest import DESKTOP, NewContext
from tests.browser.test_pages import collect_page_errors, conversation_panel, reply, sign_in
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient, Patient, handoff_of
from tests.e2e.training_messages import training_message

QUIET_MS = 7_000
"""Long enough for two rounds of the old page's 3 s queue polling; no event comes meanwhile."""


async def waiting_patient(http: aiohttp.ClientSession, stack: Stack) -> Patient:
    patient = Patient(http, stack)
    assert handoff_of(await patient.say(training_message("en", "request_human"))) is not None
    return patient


async def signed_in_console(new_context: NewContext, stack: Stack, agent_id: str) -> Page:
    console = await (await new_context(DESKTOP)).new_page()
    await console.goto(stack.console_url)
    await sign_in(console, agent_id, AGENT_PASSWORDS[agent_id])
    await expect(console.locator("body[data-connection=online]")).to_have_count(1)
    return console


async def test_the_console_hears_of_new_tasks_and_messages_without_polling_and_reconnects_after_a_drop(
    stack: Stack, new_context: NewContext
) -> None:
    console = await (await new_context(DESKTOP)).new_page()
    errors = collect_page_errors(console)
    queue_reads: list[str] = []

    def count(request: Request) -> None:
        if request.url.split("?")[0].endswith("/api/queue"):
            queue_reads.append(request.url)

    console.on("request", count)
    sockets: list[WebSocketRoute] = []

    async def through_the_test(socket: WebSocketRoute) -> None:
        """Every events socket passes the test, which can drop it; the 2nd and 3rd attempts fail outright."""
        sockets.append(socket)
        if len(sockets) in (2, 3):
            await socket.close()
            return
        socket.connect_to_server()

    await console.route_web_socket(re.compile(r".*/api/events$"), through_the_test)
    await console.goto(stack.console_url)
    await sign_in(console, "amy", AGENT_PASSWORDS["amy"])
    await expect(console.locator("body[data-connection=online]")).to_have_count(1)
    await expect(console.locator("#connection")).to_be_hidden()
    read_at_sign_in = len(queue_reads)
    assert read_at_sign_in >= 1
    await console.wait_for_timeout(QUIET_MS)
    assert len(queue_reads) == read_at_sign_in, "nothing changed, so the page asked for nothing"

    async with aiohttp.ClientSession() as http:
        patient = await waiting_patient(http, stack)
        sender = patient.conversation_id
        task = console.locator(f'#queue li.task[data-conversation="{sender}"]')
        await expect(task).to_be_visible()
        await task.get_by_role("button", name="Claim").click()
        panel = conversation_panel(console, sender)
        await expect(panel.locator(".transcript .entry-patient .text")).to_have_text(
            [training_message("en", "request_human")])
        await reply(panel, "Hi, Amy here.")

        await patient.say("my new address is 12 Elm Street")
        await expect(panel.locator(".transcript .entry-patient .text").last).to_have_text(
            "my new address is 12 Elm Street")
        await expect(console.locator("#announcer")).to_contain_text("my new address is 12 Elm Street")

        await sockets[0].close()
        await expect(console.locator("#connection")).to_contain_text("Offline")
        await expect(console.locator("#connection")).to_contain_text("reconnecting in 4 s")
        await patient.say("are you still there?")
        await expect(console.locator("#connection")).to_be_hidden()
        assert len(sockets) == 4, "dropped, two failed attempts with growing delays, then back"
        await expect(panel.locator(".transcript .entry-patient .text").last).to_have_text("are you still there?")
        await panel.get_by_role("button", name="Close conversation").click()
        await expect(panel).to_have_count(0)
    assert errors == []


async def test_several_conversations_in_tabs_with_unread_counts_keyboard_and_announcements(
    stack: Stack, new_context: NewContext
) -> None:
    console = await signed_in_console(new_context, stack, "amy")
    errors = collect_page_errors(console)
    async with aiohttp.ClientSession() as http:
        first, second = await waiting_patient(http, stack), await waiting_patient(http, stack)
        for patient in (first, second):
            await console.locator(f'#queue li.task[data-conversation="{patient.conversation_id}"] button.claim').click()
            await reply(conversation_panel(console, patient.conversation_id), "Hello, this is Amy.")
        tabs = console.get_by_role("tab")
        await expect(tabs).to_have_count(2)
        first_tab = console.get_by_role("tab", name=re.compile(first.conversation_id))
        second_tab = console.get_by_role("tab", name=re.compile(second.conversation_id))
        await expect(second_tab).to_have_attribute("aria-selected", "true")
        await expect(conversation_panel(console, first.conversation_id)).to_be_hidden()

        await first.say("I also need a new referral")
        await first.say("for a cardiologist")
        await expect(first_tab.locator(".unread")).to_have_text("2 unread")
        await expect(console.locator("#announcer")).to_contain_text(
            f"New message from the patient in conversation {first.conversation_id}: for a cardiologist")
        await expect(second_tab.locator(".unread")).to_have_count(0)

        await second_tab.focus()
        await console.keyboard.press("ArrowLeft")
        await expect(first_tab).to_have_attribute("aria-selected", "true")
        await expect(first_tab).to_be_focused()
        await expect(first_tab.locator(".unread")).to_have_count(0)
        await expect(conversation_panel(console, first.conversation_id)).to_be_visible()
        await expect(conversation_panel(console, second.conversation_id)).to_be_hidden()
        await console.keyboard.press("ArrowLeft")
        await expect(second_tab).to_have_attribute("aria-selected", "true")
        await console.keyboard.press("Home")
        await expect(first_tab).to_be_focused()

        unlabelled = await console.evaluate("""() => [...document.querySelectorAll('input, select, button')]
            .filter((control) => control.closest('#work, #login-panel'))
            .filter((control) => !(control.labels && control.labels.length) && !control.getAttribute('aria-label')
                                 && !control.textContent.trim())
            .map((control) => control.outerHTML)""")
        assert unlabelled == []
        for patient in (first, second):
            panel = conversation_panel(console, patient.conversation_id)
            await console.get_by_role("tab", name=re.compile(patient.conversation_id)).click()
            await panel.get_by_role("button", name="Close conversation").click()
            await expect(panel).to_have_count(0)
        await expect(tabs).to_have_count(0)
    assert errors == []


async def test_a_crisis_alert_sounds_says_call_by_phone_with_the_evidence_and_stays_until_acknowledged(
    stack: Stack, new_context: NewContext
) -> None:
    console = await signed_in_console(new_context, stack, "amy")
    errors = collect_page_errors(console)
    async with aiohttp.ClientSession() as http:
        patient = await waiting_patient(http, stack)
        sender = patient.conversation_id
        await console.locator(f'#queue li.task[data-conversation="{sender}"] button.claim').click()
        panel = conversation_panel(console, sender)
        await reply(panel, "Hi, Amy here. What's going on?")

        await patient.say("he hits me every night and I'm scared to go home")
        alert = console.locator(f'#crisis-alerts li[data-conversation="{sender}"]')
        await expect(console.locator("#crisis-alerts")).to_have_attribute("role", "alert")
        await expect(alert.locator(".call-by-phone")).to_have_text("CALL BY PHONE")
        await expect(alert).to_contain_text("CRISIS (violence_abuse)")
        await expect(alert.locator(".evidence")).to_contain_text("hits me")
        await expect(alert).to_have_attribute("data-sounded", "true")
        await expect(panel.locator(".crisis-banner")).to_contain_text("CALL BY PHONE")
        await expect(panel.get_by_role("button", name="Acknowledge crisis", exact=True)).to_be_visible()

        await console.wait_for_timeout(2_000)
        await expect(alert).to_be_visible()
        await alert.get_by_role("button", name="Acknowledge crisis alert").click()
        await expect(console.locator("#crisis-alerts")).to_be_hidden()
        await expect(panel.get_by_role("button", name="Acknowledge crisis", exact=True)).to_be_hidden()

        amy = AgentClient(http, stack)
        amy.token = await console.evaluate("sessionStorage.getItem('agentToken')")
        status, alerts = await amy.call("GET", "/api/alerts")
        assert status == 200
        assert [alert["acknowledged"] for alert in alerts["alerts"] if alert["conversation"] == sender] == [True]
        await panel.get_by_label("Crisis disposition").select_option("resources_given_patient_safe")
        await panel.get_by_role("button", name="Close conversation").click()
        await expect(panel).to_have_count(0)
    assert errors == []


async def test_an_agent_who_leaves_a_new_conversation_unanswered_loses_it_and_is_set_away_until_it_says_so(
    stack: Stack, impatient_console: str, new_context: NewContext
) -> None:
    """On a console that gives 2 s to write to a claimed patient (``impatient_console``)."""
    console = await (await new_context(DESKTOP)).new_page()
    errors = collect_page_errors(console)
    await console.goto(impatient_console)
    await sign_in(console, "amy", AGENT_PASSWORDS["amy"])
    await expect(console.locator("#presence")).to_have_text("Available")
    async with aiohttp.ClientSession() as http:
        amy = AgentClient(http, stack, impatient_console)
        amy.token = await console.evaluate("sessionStorage.getItem('agentToken')")
        try:
            patient = await waiting_patient(http, stack)
            task = console.locator(f'#queue li.task[data-conversation="{patient.conversation_id}"]')
            await task.get_by_role("button", name="Claim").click()
            panel = conversation_panel(console, patient.conversation_id)
            await expect(panel).to_have_count(1)
            await expect(panel).to_have_count(0)
            await expect(console.locator("#work-error")).to_contain_text(patient.conversation_id)
            await expect(task).to_be_visible()
            await expect(console.locator("#presence")).to_have_text("Away: you get no new conversations")
            assert (await amy.call("POST", "/api/presence"))[1]["status"] == "away"

            await console.get_by_role("button", name="Set me available").click()
            await expect(console.locator("#presence")).to_have_text("Available")
            assert (await amy.call("POST", "/api/presence"))[1]["status"] == "available"
        finally:
            await amy.call("POST", "/api/presence", {"status": "available"})
    assert errors == []
