"""The stock rasa-webchat widget (npm package, served by our server) on a test page, in a real browser.

The patient chats with the bot, asks for a person, gets the "in line" notice; an agent claims the
conversation and replies through the console API; the reply appears in the widget; the patient's
answer reaches the agent; the agent hands back and the bot answers again. A crisis message gets the
crisis resources first.
"""

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio
from playwright.async_api import Page, expect

from stack.services import Stack
from tests.browser.conftest import PHONE, NewContext
from tests.browser.test_pages import collect_page_errors
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient
from tests.e2e.training_messages import training_message

IN_LINE = "in line for a member of our team"


@pytest_asyncio.fixture
async def agent(stack: Stack) -> AsyncIterator[AgentClient]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        client = AgentClient(http, stack)
        await client.login("amy", AGENT_PASSWORDS["amy"])
        yield client


async def open_widget(stack: Stack, new_context: NewContext) -> Page:
    page = await (await new_context(PHONE)).new_page()
    await page.goto(f"http://127.0.0.1:{stack.config.rasa_port}/webhooks/socketio/chat")
    await page.locator(".rw-launcher").click()
    await expect(page.locator(".rw-new-message")).to_be_enabled()
    return page


async def say(page: Page, text: str) -> None:
    await page.locator(".rw-new-message").fill(text)
    await page.locator(".rw-new-message").press("Enter")
    await expect(page.locator(".rw-client").last).to_contain_text(text)


async def last_transcript_entry(agent: AgentClient, conversation: str) -> str:
    _, transcript = await agent.call("GET", f"/api/conversations/{conversation}/transcript")
    return str(transcript["entries"][-1]["text"])


async def test_widget_goes_from_the_bot_to_an_agent_and_back(
    stack: Stack, new_context: NewContext, agent: AgentClient
) -> None:
    page = await open_widget(stack, new_context)
    errors = collect_page_errors(page)
    bot = page.locator(".rw-response")

    await say(page, training_message("en", "greet"))
    await expect(bot.last).to_contain_text("virtual assistant")
    await say(page, training_message("en", "request_human"))
    await expect(bot.last).to_contain_text(IN_LINE)

    session_id = await page.evaluate("JSON.parse(localStorage.getItem('chat_session')).session_id")
    conversation = str(session_id).partition(".")[0]
    status, _ = await agent.call("POST", f"/api/conversations/{conversation}/claim")
    assert status == 200
    status, _ = await agent.call("POST", f"/api/conversations/{conversation}/messages",
                                 {"text": "Hi, this is Amy. How can I help?"})
    assert status == 201
    await expect(bot.last).to_have_text("Hi, this is Amy. How can I help?")

    await say(page, "I need to move my appointment")
    for _ in range(60):
        if await last_transcript_entry(agent, conversation) == "I need to move my appointment":
            break
        await asyncio.sleep(0.5)
    assert await last_transcript_entry(agent, conversation) == "I need to move my appointment"
    await expect(bot.last).to_have_text("Hi, this is Amy. How can I help?")

    status, _ = await agent.call("POST", f"/api/conversations/{conversation}/close", {"outcome": "bot"})
    assert status == 200
    await say(page, training_message("en", "ask_hours"))
    await expect(bot.last).to_contain_text("Monday to Friday")
    await expect(bot.filter(has_text="Hi, this is Amy")).to_have_count(1)
    assert errors == []


async def test_widget_crisis_message_gets_the_crisis_resources_first(
    stack: Stack, new_context: NewContext, agent: AgentClient
) -> None:
    page = await open_widget(stack, new_context)
    bot = page.locator(".rw-response")
    await say(page, "I don't want to be here anymore")
    await expect(bot.first).to_contain_text("988")
    await expect(bot.first).to_contain_text("911")
    await expect(bot.last).to_contain_text(IN_LINE)
    session_id = await page.evaluate("JSON.parse(localStorage.getItem('chat_session')).session_id")
    conversation = str(session_id).partition(".")[0]
    _, queue = await agent.call("GET", "/api/queue")
    waiting = [task for task in queue["waiting"] if task["conversation_id"] == conversation]
    assert waiting and waiting[0]["priority"] == "crisis"
    await agent.call("POST", f"/api/conversations/{conversation}/claim")
    status, _ = await agent.call("POST", f"/api/conversations/{conversation}/close",
                               {"outcome": "closed", "crisis_disposition": "resources_given_patient_safe"})
    assert status == 200
