"""The console's tools in a real browser: canned replies in the conversation's language, internal notes the patient
never sees, transfer with a note, escalation to phone, and the supervisor's view with take-over and reassignment,
by id and from the list of the conversations agents hold."""

import re

import aiohttp
from playwright.async_api import expect

from stack.services import Stack
from tests.browser.conftest import PHONE, NewContext
from tests.browser.test_console_realtime import signed_in_console, waiting_patient
from tests.browser.test_pages import collect_page_errors, conversation_panel, reply, say
from tests.conftest import STACK_ENVIRONMENT
from tests.e2e.patient_client import AgentClient
from tests.e2e.training_messages import training_message

SPANISH_GREETING = "Hola, soy Luis del equipo de atención. ¿En qué le puedo ayudar hoy?"
NOTE = "Patient sounds anxious; check the referral in the other system first"


async def test_a_canned_reply_in_the_patients_language_and_a_note_the_patient_never_sees(
    stack: Stack, new_context: NewContext
) -> None:
    patient = await (await new_context(PHONE)).new_page()
    patient_errors = collect_page_errors(patient)
    await patient.goto(stack.patient_page_url)
    await say(patient, training_message("es", "request_human"))
    await expect(patient.locator(".status").last).to_be_visible()
    sender = await patient.evaluate("JSON.parse(sessionStorage.getItem('patientSession')).conversation_id")

    console = await signed_in_console(new_context, stack, "luis")
    console_errors = collect_page_errors(console)
    await console.locator(f'#queue li.task[data-conversation="{sender}"] button.claim').click()
    panel = conversation_panel(console, sender)
    picker = panel.get_by_label("Canned reply")
    await expect(picker.locator("option")).to_contain_text(["choose a canned reply", "Saludo", "Un momento"])
    await expect(picker.locator("option", has_text="Greeting")).to_have_count(0)
    await picker.select_option(label="Saludo")
    composer = panel.get_by_label("Reply to the patient")
    await expect(composer).to_have_value(SPANISH_GREETING)
    await expect(composer).to_be_focused()
    await panel.locator(".reply-form").get_by_role("button", name="Send").click()
    await expect(patient.locator(".message.from-agent")).to_have_text([SPANISH_GREETING])

    await panel.get_by_label("Internal note (the patient never sees it)").fill(NOTE)
    await panel.get_by_role("button", name="Add note").click()
    note = panel.locator(".transcript .entry-note")
    await expect(note.locator(".text")).to_have_text(NOTE)
    await expect(note.locator(".role")).to_have_text("internal note by luis")
    note_style = await note.evaluate("(line) => getComputedStyle(line).backgroundColor")
    agent_style = await panel.locator(".transcript .entry-agent").first.evaluate(
        "(line) => getComputedStyle(line).backgroundColor")
    assert note_style != agent_style, "a note looks unlike a message to the patient"

    await reply(panel, "Un momento, por favor.")
    await expect(patient.locator(".message.from-agent")).to_have_text([SPANISH_GREETING, "Un momento, por favor."])
    await expect(patient.locator("body")).not_to_contain_text("anxious")
    await panel.get_by_role("button", name="Close conversation").click()
    await expect(panel).to_have_count(0)
    assert "anxious" not in await patient.content()
    assert patient_errors == [] and console_errors == []


async def test_transfer_with_a_note_phone_callback_and_the_supervisor_takes_over_and_reassigns(
    stack: Stack, new_context: NewContext
) -> None:
    amy = await signed_in_console(new_context, stack, "amy")
    sam = await signed_in_console(new_context, stack, "sam")
    errors = collect_page_errors(amy) + collect_page_errors(sam)
    await expect(sam.locator("#supervision")).to_be_visible()
    await expect(amy.locator("#supervision")).to_be_hidden()
    async with aiohttp.ClientSession() as http:
        patient = await waiting_patient(http, stack)
        sender = patient.conversation_id
        await expect(sam.locator("#supervision-queues tr[data-queue=en]")).to_have_class("has-waiting")
        await expect(sam.locator("#supervision-queues tr[data-queue=en] td").nth(2)).to_have_text(
            re.compile(r"\d+ min \d+ s"))
        await amy.locator(f'#queue li.task[data-conversation="{sender}"] button.claim').click()
        panel = conversation_panel(amy, sender)
        await reply(panel, "Hi, Amy here.")

        await panel.locator("summary", has_text="Escalate to phone").click()
        await panel.get_by_label("Phone number").fill("+1 555 123 4567")
        await panel.get_by_label("Best time to call").fill("weekdays after 5 pm")
        await panel.get_by_role("button", name="Record phone callback").click()
        await expect(panel.locator(".conversation-error")).to_have_text(
            "Phone callback recorded for +1 555 123 4567 (weekdays after 5 pm).")
        supervisor = AgentClient(http, stack)
        supervisor.token = await sam.evaluate("sessionStorage.getItem('agentToken')")
        status, listed = await supervisor.call("GET", "/api/callbacks")
        assert status == 200
        assert [(item["number"], item["best_time"]) for item in listed["callbacks"]
                if item["conversation_id"] == sender] == [("+1 555 123 4567", "weekdays after 5 pm")]

        await panel.locator("summary", has_text="Transfer").click()
        await panel.get_by_label("or to queue (language)").fill("xx")
        await panel.get_by_role("button", name="Transfer", exact=True).click()
        await expect(panel.locator(".conversation-error")).to_contain_text("language must be the code")
        await expect(panel).to_be_visible()
        await panel.get_by_label("or to queue (language)").fill("en")
        await panel.get_by_label("and/or skill").select_option("general")
        await panel.get_by_label("Note for the next person").fill("wants a callback about billing")
        await panel.get_by_role("button", name="Transfer", exact=True).click()
        await expect(panel).to_have_count(0)
        await expect(amy.locator(f'#queue li.task[data-conversation="{sender}"]')).to_be_visible()
        await expect(sam.locator("#supervision-agents tr[data-agent=amy]")).to_contain_text("available")

        await sam.get_by_label("Conversation id").fill(sender)
        await sam.get_by_role("button", name="Take over", exact=True).click()
        taken = conversation_panel(sam, sender)
        await expect(taken.locator(".transcript .entry-note .text")).to_have_text(["wants a callback about billing"])
        await expect(amy.locator(f'#queue li.task[data-conversation="{sender}"]')).to_have_count(0)

        await sam.get_by_label("Agent id (to reassign)").fill("tess")
        await sam.get_by_role("button", name="Reassign", exact=True).click()
        await expect(sam.locator("#work-error")).to_contain_text("must name a member of staff who may take")
        await expect(taken).to_be_visible()
        await sam.get_by_label("Agent id (to reassign)").fill("amy")
        await sam.get_by_label("Note for the agent").fill("back to you, Amy")
        await sam.get_by_role("button", name="Reassign", exact=True).click()
        back = conversation_panel(amy, sender)
        await expect(back.locator(".transcript .entry-note .text")).to_have_text(
            ["wants a callback about billing", "back to you, Amy"])
        await expect(taken).to_have_count(0)
        capacity = STACK_ENVIRONMENT["AGENT_DEFAULT_CAPACITY"]
        await expect(sam.locator("#supervision-agents tr[data-agent=amy]")).to_contain_text(f"1 of {capacity}")
        await back.get_by_role("button", name="Close conversation").click()
        await expect(back).to_have_count(0)

        await expect(amy.locator("#dashboard-link")).to_be_hidden()
        await sam.get_by_role("link", name="Operations dashboard").click()
        await expect(sam.locator("body[data-loaded-period='today']")).to_have_count(1)
    assert errors == []


async def test_the_supervisor_sees_what_each_agent_holds_live_and_takes_over_and_reassigns_from_the_list(
    stack: Stack, new_context: NewContext
) -> None:
    amy = await signed_in_console(new_context, stack, "amy")
    sam = await signed_in_console(new_context, stack, "sam")
    errors = collect_page_errors(amy) + collect_page_errors(sam)
    await expect(amy.locator("#held-conversations")).to_be_hidden()
    async with aiohttp.ClientSession() as http:
        patient = await waiting_patient(http, stack)
        sender = patient.conversation_id
        await amy.locator(f'#queue li.task[data-conversation="{sender}"] button.claim').click()
        panel = conversation_panel(amy, sender)
        row = sam.locator(f'#held-conversations tr[data-conversation="{sender}"]')
        await expect(row).to_have_attribute("data-agent", "amy")
        await expect(row.locator(".held-what")).to_contain_text("\u00b7 en \u00b7 general \u00b7 normal")
        await expect(row.locator(".since-agent-wrote")).to_have_text("not yet")
        await expect(row.locator(".since-claim")).to_have_text(re.compile(r"\d+ min \d+ s"))
        await reply(panel, "Hi, Amy here.")
        await expect(row.locator(".unanswered")).to_have_text("0")
        await expect(row.locator(".since-agent-wrote")).to_have_text(re.compile(r"\d+ min \d+ s"))
        await patient.say("I was charged twice for my visit")
        await expect(row.locator(".unanswered")).to_have_text("1")
        assert "charged twice" not in await sam.locator("#held-conversations").inner_text()

        amy_agent = AgentClient(http, stack)
        amy_agent.token = await amy.evaluate("sessionStorage.getItem('agentToken')")
        assert (await amy_agent.call("GET", "/api/supervision/held"))[0] == 403

        await row.get_by_role("button", name="Take over").click()
        taken = conversation_panel(sam, sender)
        await expect(taken.locator(".transcript")).to_contain_text("I was charged twice for my visit")
        await expect(panel).to_have_count(0)
        await expect(row).to_have_attribute("data-agent", "sam")
        await expect(row.get_by_role("button", name="Take over")).to_have_count(0)
        choices = row.locator("select.reassign-to option")
        await expect(choices).to_contain_text(["choose an agent", "Amy (amy"])
        await expect(choices.filter(has_text="tess")).to_have_count(0)
        await expect(choices.filter(has_text="luis")).to_have_count(0)
        await sam.get_by_label("Note for the agent").fill("billing question, back to you")
        await row.locator("select.reassign-to").select_option("amy")
        await row.get_by_role("button", name="Reassign").click()
        back = conversation_panel(amy, sender)
        await expect(back.locator(".transcript .entry-note .text")).to_have_text(["billing question, back to you"])
        await expect(taken).to_have_count(0)
        await expect(row).to_have_attribute("data-agent", "amy")
        await back.get_by_role("button", name="Close conversation").click()
        await expect(row).to_have_count(0)
    assert errors == []
