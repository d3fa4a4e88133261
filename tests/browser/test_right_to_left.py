"""Arabic reads right to left on both pages, message by message, and English stays left to right.

A patient writes Arabic on the patient page (the bot answers in Arabic) and asks for a person; an
Arabic-speaking agent claims the conversation in the console, where the patient's Arabic lines
are right to left and the agent's English reply left to right; each page is photographed
(``.data/screenshots/``, not committed).
"""

from pathlib import Path

from playwright.async_api import Locator, expect

from stack.services import Stack
from tests.browser.conftest import DESKTOP, PHONE, NewContext
from tests.browser.test_pages import collect_page_errors, conversation_panel, say, sign_in
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.training_messages import training_message

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".data" / "screenshots"
ARABIC_REPLY = "مرحبًا، أنا أمل من فريق المرضى. كيف يمكنني مساعدتك؟"
ENGLISH_REPLY = "Amal here; I can also write in English."


async def direction(node: Locator) -> str:
    return str(await node.evaluate("element => getComputedStyle(element).direction"))


async def test_arabic_is_right_to_left_on_the_patient_page_and_in_the_console(
    stack: Stack, new_context: NewContext
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    patient = await (await new_context(PHONE)).new_page()
    patient_errors = collect_page_errors(patient)
    await patient.goto(stack.patient_page_url)
    composer = patient.get_by_label("Message")
    assert await direction(composer) == "ltr", "an empty input starts left to right"

    greeting = training_message("ar", "greet")
    await say(patient, greeting)
    bot = patient.locator(".message.from-bot")
    await expect(bot.last).to_contain_text("المساعد الافتراضي")
    assert await direction(patient.locator(".message.from-patient").last) == "rtl"
    assert await direction(bot.last) == "rtl"

    request = training_message("ar", "request_human")
    await composer.fill(request)
    assert await direction(composer) == "rtl", "the input follows what is typed"
    await patient.get_by_role("button", name="Send").click()
    await expect(patient.locator(".message.from-patient").last).to_have_text(request)
    status = patient.locator(".status").last
    await expect(status).to_contain_text("ترتيبك رقم 1")
    assert await direction(status) == "rtl", "the place in line is told in Arabic, right to left"
    await expect(patient.locator(".status", has_text="in line")).to_have_count(0)
    assert await direction(composer) == "ltr", "cleared after sending, the input is neutral again"
    sender = await patient.evaluate("JSON.parse(sessionStorage.getItem('patientSession')).conversation_id")

    console = await (await new_context(DESKTOP)).new_page()
    console_errors = collect_page_errors(console)
    await console.goto(stack.console_url)
    await sign_in(console, "amal", AGENT_PASSWORDS["amal"])
    task = console.locator(f'#queue li.task[data-conversation="{sender}"]')
    await expect(task).to_contain_text("ar")
    await task.locator("button.claim").click()
    panel = conversation_panel(console, sender)
    patient_lines = panel.locator(".transcript .entry-patient .text")
    await expect(patient_lines).to_have_text([greeting, request])
    for index in range(2):
        assert await direction(patient_lines.nth(index)) == "rtl"
    assert await direction(panel.locator(".transcript .entry-patient .role").first) == "ltr", "labels stay LTR"

    reply = panel.get_by_label("Reply to the patient")
    await reply.fill(ARABIC_REPLY)
    assert await direction(reply) == "rtl"
    await panel.locator(".reply-form").get_by_role("button", name="Send").click()
    await expect(reply).to_have_value("")
    await reply.fill(ENGLISH_REPLY)
    assert await direction(reply) == "ltr"
    await panel.locator(".reply-form").get_by_role("button", name="Send").click()

    agent_lines = panel.locator(".transcript .entry-agent .text")
    await expect(agent_lines).to_have_text([ARABIC_REPLY, ENGLISH_REPLY])
    assert [await direction(agent_lines.nth(0)), await direction(agent_lines.nth(1))] == ["rtl", "ltr"]
    from_agent = patient.locator(".message.from-agent")
    await expect(from_agent).to_have_text([ARABIC_REPLY, ENGLISH_REPLY])
    assert [await direction(from_agent.nth(0)), await direction(from_agent.nth(1))] == ["rtl", "ltr"]

    await patient.screenshot(path=str(SCREENSHOTS / "patient-chat-arabic.png"), full_page=True)
    await console.screenshot(path=str(SCREENSHOTS / "agent-console-arabic.png"), full_page=True)
    await panel.get_by_role("button", name="Close conversation").click()
    await expect(panel).to_have_count(0)
    assert patient_errors == []
    assert console_errors == []
