"""The walking skeleton through both web pages at once, in a real browser.

A patient on a phone chats with the bot, asks for a person and waits in line; an agent on a
desktop signs in to the console, claims the conversation, reads the transcript and replies; the
reply reaches the patient's page over its websocket; the agent hands the patient back to the bot,
which answers again.
"""

import re
from pathlib import Path

from playwright.async_api import Error, Locator, Page, expect

from stack.services import Stack
from tests.browser.conftest import DESKTOP, PHONE, NewContext
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.training_messages import training_message


def collect_page_errors(page: Page) -> list[Error]:
    """Uncaught JavaScript exceptions of ``page``; a test asserts there were none."""
    errors: list[Error] = []

    def record(error: Error) -> None:  # Playwright cannot wrap a builtin such as list.append
        errors.append(error)

    page.on("pageerror", record)
    return errors


async def say(patient: Page, text: str) -> None:
    """Writes and sends ``text`` from the composer, whatever language the page speaks."""
    composer = patient.locator("#composer")
    await composer.get_by_role("textbox").fill(text)
    await composer.get_by_role("button").click()
    await expect(patient.locator(".message.from-patient").last).to_have_text(text)


def conversation_panel(console: Page, conversation_id: str) -> Locator:
    """The tab panel of one of the agent's conversations."""
    return console.locator(f'[role=tabpanel][data-conversation="{conversation_id}"]')


async def reply(panel: Locator, text: str) -> None:
    await panel.get_by_label("Reply to the patient").fill(text)
    await panel.locator(".reply-form").get_by_role("button", name="Send").click()
    await expect(panel.get_by_label("Reply to the patient")).to_have_value("")


async def sign_in(console: Page, agent_id: str, password: str) -> None:
    await console.locator("#agent-id").fill(agent_id)
    await console.locator("#password").fill(password)
    await console.get_by_role("button", name="Sign in").click()


async def test_patient_reaches_an_agent_and_returns_to_the_bot_in_the_browser(
    stack: Stack, new_context: NewContext, screenshot_dir: Path
) -> None:
    patient = await (await new_context(PHONE)).new_page()
    patient_errors = collect_page_errors(patient)
    await patient.goto(stack.patient_page_url)
    bot = patient.locator(".message.from-bot")

    await say(patient, training_message("en", "greet"))
    await expect(bot.last).to_contain_text("virtual assistant")

    await say(patient, training_message("en", "request_human"))
    await expect(bot.last).to_contain_text("connecting you")
    await expect(patient.locator(".status").last).to_have_text(re.compile(r"^You're number \d+ in line"))

    await say(patient, "it's about my appointment on friday")
    await expect(bot.last).to_contain_text("in line")
    sender = await patient.evaluate("JSON.parse(sessionStorage.getItem('patientSession')).conversation_id")
    assert isinstance(sender, str) and sender

    console = await (await new_context(DESKTOP)).new_page()
    console_errors = collect_page_errors(console)
    await console.goto(stack.console_url)
    await sign_in(console, "amy", AGENT_PASSWORDS["amy"])
    await expect(console.locator("#whoami")).to_have_text("Amy")
    task = console.locator(f'#queue li.task[data-conversation="{sender}"]')
    await expect(task).to_contain_text("en")
    await task.locator("button.claim").click()

    panel = conversation_panel(console, sender)
    await expect(console.get_by_role("tab", selected=True)).to_contain_text(f"Conversation {sender}")
    await expect(panel).to_be_visible()
    await expect(panel.locator(".answer-deadline")).to_contain_text("Write to the patient within 60 s")
    await expect(task).to_have_count(0)
    transcript = panel.locator(".transcript .entry")
    await expect(panel.locator(".transcript .entry-patient .text")).to_have_text(
        ["hello", "I want to talk to a person", "it's about my appointment on friday"]
    )
    await expect(transcript.first.locator(".role")).to_have_text("patient")

    await reply(panel, "Hi, this is Amy. How can I help?")
    await expect(panel.locator(".answer-deadline")).to_be_hidden()
    await expect(transcript.last.locator(".text")).to_have_text("Hi, this is Amy. How can I help?")
    await expect(transcript.last.locator(".role")).to_have_text("agent")
    await expect(patient.locator(".message.from-agent")).to_have_text(["Hi, this is Amy. How can I help?"])

    await say(patient, "I need to move my appointment")
    await expect(transcript.last.locator(".text")).to_have_text("I need to move my appointment")
    await console.screenshot(path=str(screenshot_dir / "agent-console-claimed.png"), full_page=True)

    await panel.get_by_role("button", name="Hand back to the bot").click()
    await expect(panel).to_have_count(0)
    await expect(console.locator("#no-conversation")).to_have_text("No conversation claimed")
    await expect(console.locator("#work-error")).to_be_empty()

    await say(patient, training_message("en", "ask_hours"))
    await expect(bot.last).to_contain_text("Monday to Friday")
    await expect(patient.locator(".message.from-agent")).to_have_count(1)

    emergency = patient.locator("#emergency")
    await expect(emergency).to_contain_text("911")
    await expect(emergency).to_contain_text("988")
    await expect(emergency).to_be_in_viewport()
    await patient.screenshot(path=str(screenshot_dir / "patient-chat.png"), full_page=True)
    await console.screenshot(path=str(screenshot_dir / "agent-console.png"), full_page=True)
    assert patient_errors == []
    assert console_errors == []


async def test_agent_reply_reaches_a_patient_who_reloaded_the_page_while_in_line(
    stack: Stack, new_context: NewContext
) -> None:
    patient = await (await new_context(PHONE)).new_page()
    await patient.goto(stack.patient_page_url)
    await say(patient, training_message("en", "request_human"))
    await expect(patient.locator(".status").last).to_contain_text("in line")
    sender = await patient.evaluate("JSON.parse(sessionStorage.getItem('patientSession')).conversation_id")
    await patient.reload()
    await expect(patient.locator(".status").last).to_contain_text("number", timeout=20_000)
    await expect(patient.locator(".message")).to_have_count(0)

    console = await (await new_context(DESKTOP)).new_page()
    await console.goto(stack.console_url)
    await sign_in(console, "amy", AGENT_PASSWORDS["amy"])
    await console.locator(f'#queue li.task[data-conversation="{sender}"] button.claim').click()
    panel = conversation_panel(console, sender)
    await reply(panel, "Amy here, are you still with us?")

    await expect(patient.locator(".message.from-agent")).to_have_text(["Amy here, are you still with us?"])
    assert await patient.evaluate("JSON.parse(sessionStorage.getItem('patientSession')).conversation_id") == sender
    await panel.get_by_role("button", name="Close conversation").click()
    await expect(panel).to_have_count(0)


async def test_console_rejects_a_wrong_password(stack: Stack, new_context: NewContext) -> None:
    console = await (await new_context(DESKTOP)).new_page()
    await console.goto(stack.console_url)
    await sign_in(console, "amy", "not-the-password")

    await expect(console.locator("#login-error")).to_have_text("unknown agent or wrong password")
    await expect(console.locator("#login-panel")).to_be_visible()
    await expect(console.locator("#work")).to_be_hidden()
    await expect(console.locator("#queue li")).to_have_count(0)
    assert await console.evaluate("sessionStorage.getItem('agentToken')") is None


async def test_the_console_tells_an_agent_with_lapsed_training_why_it_cannot_claim(
    stack: Stack, new_context: NewContext
) -> None:
    patient = await (await new_context(PHONE)).new_page()
    await patient.goto(stack.patient_page_url)
    await say(patient, training_message("en", "request_human"))
    await expect(patient.locator(".status").last).to_contain_text("in line")
    sender = await patient.evaluate("JSON.parse(sessionStorage.getItem('patientSession')).conversation_id")

    console = await (await new_context(DESKTOP)).new_page()
    await console.goto(stack.console_url)
    await sign_in(console, "tess", AGENT_PASSWORDS["tess"])
    await expect(console.locator("#work")).to_be_visible()
    await expect(console.locator("#training-notice")).to_contain_text(
        re.compile(r"You cannot claim or read conversations: HIPAA training of \d{4}-\d\d-\d\d expired")
    )
    await console.locator(f'#queue li.task[data-conversation="{sender}"] button.claim').click()
    await expect(console.locator("#work-error")).to_contain_text("renew it before claiming or reading conversations")
    await expect(console.get_by_role("tabpanel")).to_have_count(0)
    await console.reload()
    await expect(console.locator("#training-notice")).to_contain_text("expired")


async def test_a_supervisor_sees_an_unacknowledged_crisis_on_top_of_the_console_until_acknowledged(
    stack: Stack, new_context: NewContext, impatient_console: str, screenshot_dir: Path
) -> None:
    """On a console whose crises wait 2 s for acknowledgement (``impatient_console``), nobody takes a crisis."""
    console = await (await new_context(DESKTOP)).new_page()
    console_errors = collect_page_errors(console)
    await console.goto(impatient_console)
    await sign_in(console, "sam", AGENT_PASSWORDS["sam"])
    await expect(console.locator("#whoami")).to_have_text("Sam")

    patient = await (await new_context(PHONE)).new_page()
    await patient.goto(stack.patient_page_url)
    await say(patient, "he hits me every night and I'm scared to go home")
    await expect(patient.locator(".message.from-bot").first).to_contain_text("911")
    sender = await patient.evaluate("JSON.parse(sessionStorage.getItem('patientSession')).conversation_id")

    escalation = console.locator(f'#escalations li.escalation[data-conversation="{sender}"]')
    await expect(escalation).to_contain_text("CRISIS (violence_abuse)")
    await expect(escalation).to_contain_text("waiting in the en queue")
    await expect(console.locator("#escalations")).to_contain_text("CRISIS NOT ACKNOWLEDGED")
    await console.screenshot(path=str(screenshot_dir / "supervisor-escalated-crisis.png"), full_page=True)
    await escalation.get_by_role("button", name="Acknowledge").click()
    await expect(escalation).to_have_count(0)

    await console.locator(f'#queue li.task[data-conversation="{sender}"] button.claim').click()
    panel = conversation_panel(console, sender)
    await expect(panel.locator(".crisis-banner")).to_contain_text("Crisis (violence_abuse)")
    await expect(panel.locator(".crisis-banner")).to_contain_text("CALL BY PHONE")
    await panel.get_by_label("Crisis disposition").select_option("phone_follow_up_done")
    await panel.get_by_role("button", name="Close conversation").click()
    await expect(panel).to_have_count(0)
    assert console_errors == []
