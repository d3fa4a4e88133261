"""The patient page in the patient's language, in a real browser on a phone-sized screen.

Before the patient writes anything the page greets them in the language of the browser's locale, with the
emergency line in it; picking another language in the labelled select greets again and changes the emergency line
and the language the bot answers in, whatever language the message is written in. Once an agent claims the
conversation the patient sees the agent's display name, and "<name> is typing…" while the agent types in the
console. Screenshots go to ``$BROWSER_SHOTS``.
"""

from pathlib import Path

from playwright.async_api import Browser, Page, expect

from stack.services import Stack
from tests.browser.conftest import DESKTOP, PHONE, WAIT_MS, NewContext
from tests.browser.test_pages import collect_page_errors, conversation_panel, say, sign_in
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.training_messages import training_message
from tests.reaping import CATALOG


async def test_greeted_in_the_locales_language_before_writing_and_again_on_switching(
    stack: Stack, browser: Browser, screenshot_dir: Path
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="es-MX")
    context.set_default_timeout(WAIT_MS)
    try:
        patient = await context.new_page()
        errors = collect_page_errors(patient)
        await patient.goto(stack.patient_page_url)
        greetings = patient.locator(".greeting")
        await expect(greetings).to_have_text([CATALOG.notice("es", "greeting")])
        emergency = patient.locator("#emergency")
        await expect(emergency).to_have_text(CATALOG.notice("es", "emergency_line"))
        await expect(emergency).to_contain_text("AYUDA")
        language = patient.get_by_label("Idioma")
        await expect(language).to_have_value("es")
        await expect_page_texts_in(patient, "es")
        assert await patient.evaluate("sessionStorage.getItem('patientSession')") is None, "greeting opens nothing"
        await patient.screenshot(path=str(screenshot_dir / "patient-greeted-spanish-locale.png"), full_page=True)

        await language.select_option(label="English")
        await expect(greetings.last).to_have_text(CATALOG.notice("en", "greeting"))
        await expect(emergency).to_have_text(CATALOG.notice("en", "emergency_line"))
        await expect(patient.get_by_label("Language")).to_have_value("en")
        await expect_page_texts_in(patient, "en")
        assert await patient.evaluate("document.documentElement.lang") == "en"
        await say(patient, training_message("es", "ask_hours"))
        bot = patient.locator(".message.from-bot")
        await expect(bot.last).to_contain_text("Monday to Friday")

        await patient.get_by_label("Language").select_option(label="Español")
        await expect(greetings).to_have_count(3)
        await expect(greetings.last).to_have_text(CATALOG.notice("es", "greeting"))
        await expect(emergency).to_have_text(CATALOG.notice("es", "emergency_line"))
        await say(patient, training_message("en", "ask_hours"))
        await expect(bot.last).to_contain_text("lunes a viernes")
        await expect(emergency).to_be_in_viewport()
        await patient.screenshot(path=str(screenshot_dir / "patient-switched-language.png"), full_page=True)
        assert errors == []
    finally:
        await context.close()


async def expect_page_texts_in(patient: Page, code: str) -> None:
    """The page's title, composer and Send button speak the language, as its accessible names."""
    assert await patient.title() == CATALOG.notice(code, "page_title")
    await expect(patient.locator("#page-title")).to_have_text(CATALOG.notice(code, "page_title"))
    message = patient.get_by_label(CATALOG.notice(code, "message_label"), exact=True)
    await expect(message).to_have_attribute("placeholder", CATALOG.notice(code, "message_placeholder"))
    await expect(patient.get_by_role("button", name=CATALOG.notice(code, "send_button"), exact=True)).to_be_visible()


async def test_the_patient_sees_the_agents_name_and_typing(
    stack: Stack, new_context: NewContext, screenshot_dir: Path
) -> None:
    patient = await (await new_context(PHONE)).new_page()
    patient_errors = collect_page_errors(patient)
    await patient.goto(stack.patient_page_url)
    await expect(patient.locator(".greeting")).to_have_text([CATALOG.notice("en", "greeting")])
    await patient.get_by_label("Language").select_option(label="Español")
    await say(patient, training_message("es", "request_human"))
    await expect(patient.locator(".status").last).to_be_visible()
    sender = await patient.evaluate("JSON.parse(sessionStorage.getItem('patientSession')).conversation_id")

    console = await (await new_context(DESKTOP)).new_page()
    console_errors = collect_page_errors(console)
    await console.goto(stack.console_url)
    await sign_in(console, "luis", AGENT_PASSWORDS["luis"])
    await console.locator(f'#queue li.task[data-conversation="{sender}"] button.claim').click()
    panel = conversation_panel(console, sender)
    await expect(panel).to_be_visible()
    await expect(patient.locator(".notice")).to_have_text([CATALOG.notice("es", "agent_joined", name="Luis")])

    reply = panel.get_by_label("Reply to the patient")
    await reply.fill("Hola, soy Luis")
    typing = patient.locator("#typing[role=status][aria-live=polite]")
    await expect(typing).to_have_text(CATALOG.notice("es", "agent_typing", name="Luis"))
    await patient.screenshot(path=str(screenshot_dir / "patient-sees-agent-typing.png"), full_page=True)
    await console.screenshot(path=str(screenshot_dir / "agent-typing-console.png"), full_page=True)
    await panel.locator(".reply-form").get_by_role("button", name="Send").click()
    await expect(patient.locator(".message.from-agent")).to_have_text(["Hola, soy Luis"])
    await expect(typing).to_have_text("")
    await expect(patient.locator(".notice")).to_have_count(1)
    await patient.screenshot(path=str(screenshot_dir / "patient-agent-named.png"), full_page=True)
    await panel.get_by_role("button", name="Close conversation").click()
    await expect(panel).to_have_count(0)
    assert patient_errors == []
    assert console_errors == []
