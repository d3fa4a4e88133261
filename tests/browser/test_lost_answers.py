"""An answer lost on the way back, in a real browser: the page sends the message again, with the id it made up for
it, and the server stores it once.

The network between the page and the server is the test's (``page.route``): the server gets a message and
handles it, and the page gets a dropped connection instead of the answer; or the page gets 503 with
``Retry-After``; or every attempt fails. The patient page tells the patient, in their language, that it sends the
message again, and, when it gives up, that the message did not go, with the text back in the box. The console
says a reply is being sent again, or did not go. What the agent reads (the console API) and what the patient
receives hold each message once. An answer to a crisis message is shown at once whatever its status, never sent
again over. Screenshots go to ``$BROWSER_SHOTS``.
"""

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Page, Route, expect

from stack.services import Stack
from tests.browser.conftest import PHONE, NewContext
from tests.browser.test_console_realtime import signed_in_console
from tests.browser.test_pages import collect_page_errors, conversation_panel, reply, say
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient
from tests.e2e.training_messages import training_message
from tests.reaping import CATALOG

WEBHOOK = re.compile(r".*/webhooks/patient/webhook$")
REPLIES = re.compile(r".*/api/conversations/[^/]+/messages$")
ASKED_ABOUT = "it's about my appointment on friday"


class LossyNetwork:
    """Passes requests on, and loses the answer to the first request for each text of ``lose`` after the server
    handled it; every request's body is kept in ``posted``."""

    def __init__(self, text_field: str, lose: set[str]) -> None:
        self.text_field = text_field
        self.lose = set(lose)
        self.posted: list[dict[str, Any]] = []

    async def __call__(self, route: Route) -> None:
        if route.request.method != "POST":
            await route.continue_()
            return
        body = json.loads(route.request.post_data or "{}")
        self.posted.append(body)
        if body.get(self.text_field) in self.lose:
            self.lose.discard(body[self.text_field])
            await route.fetch()
            await route.abort("connectionreset")
            return
        await route.continue_()

    def ids_of(self, text: str) -> list[str]:
        return [body.get("message_id", "") for body in self.posted if body.get(self.text_field) == text]


def unreachable(attempts: list[dict[str, Any]]) -> Callable[[Route], Awaitable[None]]:
    """A route on which every request fails to connect; each request's body goes to ``attempts``."""
    async def refuse(route: Route) -> None:
        attempts.append(json.loads(route.request.post_data or "{}"))
        await route.abort("connectionrefused")

    return refuse


async def patient_and_console(stack: Stack, new_context: NewContext) -> tuple[Page, str, Page]:
    """A patient page in line, its conversation's id, and Amy's console, signed in."""
    page = await (await new_context(PHONE)).new_page()
    sender = await patient_in_line(page, stack, LossyNetwork("message", set()))
    return page, sender, await signed_in_console(new_context, stack, "amy")


async def patient_in_line(page: Page, stack: Stack, network: LossyNetwork) -> str:
    """The patient greets the bot and asks for a person, whose answer is lost; the id of their conversation."""
    await page.route(WEBHOOK, network)
    await page.goto(stack.patient_page_url)
    await say(page, training_message("en", "greet"))
    await expect(page.locator(".message.from-bot").last).to_contain_text("virtual assistant")
    await say(page, training_message("en", "request_human"))
    # On the push socket, which the escalation's answer (or, lost, the one to the message sent again) opens.
    await expect(page.locator(".status").last).to_have_text(re.compile(r"^You're number \d+ in line"))
    sender = await page.evaluate("JSON.parse(sessionStorage.getItem('patientSession')).conversation_id")
    assert isinstance(sender, str) and sender
    return sender


async def test_the_patient_page_sends_a_message_whose_answer_was_lost_again_and_it_is_stored_once(
    stack: Stack, new_context: NewContext, screenshot_dir: Path
) -> None:
    page = await (await new_context(PHONE)).new_page()
    errors = collect_page_errors(page)
    network = LossyNetwork("message", {training_message("en", "request_human"), ASKED_ABOUT})
    sender = await patient_in_line(page, stack, network)
    await expect(page.locator(".notice")).to_have_text([CATALOG.notice("en", "message_retrying")])
    await expect(page.locator(".message.from-bot").last).to_contain_text("in line")
    answered = await page.locator(".message.from-bot").count()
    await say(page, ASKED_ABOUT)
    await expect(page.locator(".notice")).to_have_count(2)
    await expect(page.locator(".message.from-bot")).to_have_count(answered + 1)
    await expect(page.locator(".message.from-bot").last).to_contain_text("in line")
    await page.screenshot(path=str(screenshot_dir / "patient-message-sent-again.png"), full_page=True)

    for text in (training_message("en", "request_human"), ASKED_ABOUT):
        ids = network.ids_of(text)
        assert len(ids) == 2 and ids[0] == ids[1] and re.fullmatch(r"[0-9a-f]{32}", ids[0]), ids
    assert len({ids[0] for ids in map(network.ids_of, [training_message("en", "greet"), ASKED_ABOUT])}) == 2

    async with aiohttp.ClientSession() as http:
        amy = AgentClient(http, stack)
        await amy.login("amy", AGENT_PASSWORDS["amy"])
        status, claimed = await amy.call("POST", f"/api/conversations/{sender}/claim")
        assert status == 200, claimed
        _, transcript = await amy.call("GET", f"/api/conversations/{sender}/transcript")
        said = [entry["text"] for entry in transcript["entries"] if entry["role"] == "patient"]
        assert said == [training_message("en", "greet"), training_message("en", "request_human"), ASKED_ABOUT]
        status, _ = await amy.call("POST", f"/api/conversations/{sender}/messages", {"text": "Amy here."})
        assert status == 201
        await expect(page.locator(".message.from-agent")).to_have_text(["Amy here."])
        await amy.call("POST", f"/api/conversations/{sender}/close", {"outcome": "closed"})
    assert errors == []


async def test_when_every_attempt_fails_the_patient_is_told_and_finds_the_message_back_in_the_box(
    stack: Stack, new_context: NewContext, screenshot_dir: Path
) -> None:
    page = await (await new_context(PHONE)).new_page()
    errors = collect_page_errors(page)
    attempts: list[dict[str, Any]] = []
    refuse = unreachable(attempts)
    await page.goto(stack.patient_page_url)
    await page.get_by_label("Language").select_option(label="Español")
    await say(page, training_message("es", "greet"))
    await expect(page.locator(".message.from-bot").last).to_be_visible()
    await page.route(WEBHOOK, refuse)
    await say(page, training_message("es", "ask_hours"))
    await expect(page.locator(".notice").first).to_have_text(CATALOG.notice("es", "message_retrying"))
    await expect(page.locator(".notice.not-sent")).to_have_text(CATALOG.notice("es", "message_not_sent"))
    await expect(page.locator("#text")).to_have_value(training_message("es", "ask_hours"))
    await page.screenshot(path=str(screenshot_dir / "patient-message-not-sent.png"), full_page=True)
    assert 2 <= len(attempts) <= 6 and len({attempt["message_id"] for attempt in attempts}) == 1, attempts

    await page.unroute(WEBHOOK, refuse)
    network = LossyNetwork("message", set())
    await page.route(WEBHOOK, network)
    await page.locator("#composer").get_by_role("button").click()
    await expect(page.locator(".message.from-bot").last).to_contain_text("lunes a viernes")
    assert network.ids_of(training_message("es", "ask_hours")) == [attempts[0]["message_id"]], "sent as it was"
    assert errors == []


async def test_the_console_sends_a_reply_whose_answer_was_lost_again_and_the_patient_gets_it_once(
    stack: Stack, new_context: NewContext, screenshot_dir: Path
) -> None:
    page, sender, console = await patient_and_console(stack, new_context)
    console_errors = collect_page_errors(console)
    network = LossyNetwork("text", {"Hi, Amy here."})
    unavailable_once = [True]

    async def lossy_then_unavailable(route: Route) -> None:
        """The first reply's answer is lost; the second attempt gets 503 (Retry-After 1) without reaching the
        server; the third goes through."""
        if len(network.posted) == 1 and unavailable_once.pop():
            network.posted.append(json.loads(route.request.post_data or "{}"))
            await route.fulfill(status=503, headers={"Retry-After": "1"},
                                json={"error": "the service is briefly unavailable; please retry"})
            return
        await network(route)

    await console.route(REPLIES, lossy_then_unavailable)
    await console.locator(f'#queue li.task[data-conversation="{sender}"] button.claim').click()
    panel = conversation_panel(console, sender)
    await reply(panel, "Hi, Amy here.")
    await expect(panel.locator(".reply-state")).to_have_text("")
    await reply(panel, "How can I help?")
    await expect(page.locator(".message.from-agent")).to_have_text(["Hi, Amy here.", "How can I help?"])
    await expect(panel.locator(".transcript .entry-agent .text")).to_have_text(["Hi, Amy here.", "How can I help?"])
    ids = network.ids_of("Hi, Amy here.")
    assert len(ids) == 3 and len(set(ids)) == 1 and re.fullmatch(r"[0-9a-f]{32}", ids[0]), ids
    assert network.ids_of("How can I help?") != ids[:1]
    await console.screenshot(path=str(screenshot_dir / "console-reply-sent-again.png"), full_page=True)

    async with aiohttp.ClientSession() as http:
        amy = AgentClient(http, stack)
        await amy.login("amy", AGENT_PASSWORDS["amy"])
        _, transcript = await amy.call("GET", f"/api/conversations/{sender}/transcript")
        written = [entry["text"] for entry in transcript["entries"] if entry["role"] == "agent"]
        assert written == ["Hi, Amy here.", "How can I help?"]
    await panel.get_by_role("button", name="Close conversation").click()
    await expect(panel).to_have_count(0)
    assert console_errors == []


async def test_the_console_says_a_reply_did_not_go_and_sends_it_again_with_its_id(
    stack: Stack, new_context: NewContext, screenshot_dir: Path
) -> None:
    page, sender, console = await patient_and_console(stack, new_context)
    attempts: list[dict[str, Any]] = []
    refuse = unreachable(attempts)

    await console.locator(f'#queue li.task[data-conversation="{sender}"] button.claim').click()
    panel = conversation_panel(console, sender)
    await console.route(REPLIES, refuse)
    await panel.get_by_label("Reply to the patient").fill("Are you still there?")
    await panel.locator(".reply-form").get_by_role("button", name="Send").click()
    await expect(panel.locator(".reply-state")).to_contain_text("Sending again")
    await expect(panel.locator(".reply-state")).to_contain_text("Not sent", timeout=45_000)
    await expect(panel.get_by_label("Reply to the patient")).to_have_value("Are you still there?")
    await console.screenshot(path=str(screenshot_dir / "console-reply-not-sent.png"), full_page=True)

    await console.unroute(REPLIES, refuse)
    network = LossyNetwork("text", set())
    await console.route(REPLIES, network)
    await panel.locator(".reply-form").get_by_role("button", name="Send").click()
    await expect(page.locator(".message.from-agent")).to_have_text(["Are you still there?"])
    assert {attempt["message_id"] for attempt in attempts} == set(network.ids_of("Are you still there?"))
    await panel.get_by_role("button", name="Close conversation").click()
    await expect(panel).to_have_count(0)


async def test_a_crisis_answer_with_an_error_status_is_shown_never_sent_again_over(
    stack: Stack, new_context: NewContext, screenshot_dir: Path
) -> None:
    """The server's answer to a crisis message carries the resources in ``messages`` whatever its status (here made
    503 on the way): the page shows them at once and does not send the message again."""
    page = await (await new_context(PHONE)).new_page()
    errors = collect_page_errors(page)
    posted: list[dict[str, Any]] = []

    async def as_unavailable(route: Route) -> None:
        posted.append(json.loads(route.request.post_data or "{}"))
        answer = await route.fetch()
        await route.fulfill(status=503, headers={"Retry-After": "5"},
                            json={"error": "the service is briefly unavailable", "messages": await answer.json()})

    await page.route(WEBHOOK, as_unavailable)
    await page.goto(stack.patient_page_url)
    await say(page, "I took all my pills")
    await expect(page.locator(".message.from-bot").first).to_have_text(CATALOG.notice("en", "crisis_resources"))
    await expect(page.locator(".status", has_text="the service is briefly unavailable")).to_have_count(1)
    await page.screenshot(path=str(screenshot_dir / "patient-crisis-answer-shown.png"), full_page=True)
    assert len(posted) == 1 and await page.locator(".notice").count() == 0
    assert errors == []

    sender = await page.evaluate("JSON.parse(sessionStorage.getItem('patientSession')).conversation_id")
    async with aiohttp.ClientSession() as http:
        sam = AgentClient(http, stack)
        await sam.login("sam", AGENT_PASSWORDS["sam"])
        await sam.call("POST", f"/api/conversations/{sender}/acknowledge-crisis")
        status, claimed = await sam.call("POST", f"/api/conversations/{sender}/claim")
        assert status == 200, claimed
        status, closed = await sam.call("POST", f"/api/conversations/{sender}/close",
                                        {"outcome": "closed", "crisis_disposition": "phone_follow_up_done"})
        assert status == 200, closed
