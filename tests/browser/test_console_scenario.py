"""The issue's scenario through both pages, on a system of its own whose console assigns conversations itself.

A patient asks for a person; Gabe, signed in, is given the conversation without claiming it, replies, uses a canned
reply and an internal note and transfers the patient to Amy, a nurse, with a note; Amy replies and closes; the
patient rates the chat. Gabe's browser is then closed without signing out: his heartbeat stops, his presence lapses,
and the next patient goes to Amy. Screenshots of both pages at each step go to the browser tests' folder.

The session's stack leaves the queue to pull-claims (``STACK_ENVIRONMENT``) and holds other tests' waiting
conversations, which auto-assignment would hand out first; this system has its own Redis, auto-assignment on and a
presence timeout of a few seconds, and its directory adds Gabe, an English general agent who is not a nurse.
"""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from playwright.async_api import Page, expect

from handoff import hash_password
from handoff.settings import AgentAccess
from languages import LanguageCatalog
from stack.redis_server import RedisServer
from stack.services import Stack, free_port
from tests.browser.conftest import DESKTOP, PHONE, NewContext
from tests.browser.test_pages import collect_page_errors, conversation_panel, reply, say, sign_in
from tests.conftest import AGENT_PASSWORDS, CURRENT_TRAINING, STACK_ENVIRONMENT, stack_config
from tests.e2e.training_messages import training_message

GABE_PASSWORD = "gabe-secret-pass"
PRESENCE_TIMEOUT_SECONDS = 6
CATALOG = LanguageCatalog.load()
CANNED_GREETING = "Hi, this is Gabe from the care team. How can I help you today?"


@pytest.fixture(scope="module")
def assigning_stack(
    key_ring_spec: str, agents_file: Path, coverage_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("assigning-stack")
    directory = yaml.safe_load(agents_file.read_text())
    directory["agents"].append({
        "id": "gabe", "name": "Gabe", "languages": ["en"], "skills": ["general"],
        "hipaa_training": CURRENT_TRAINING, "password_hash": hash_password(GABE_PASSWORD),
    })
    own_agents = data_dir / "agents.yml"
    own_agents.write_text(yaml.safe_dump(directory))
    redis = RedisServer(free_port(), data_dir / "redis").start()
    environment = dict(STACK_ENVIRONMENT, AGENT_AUTO_ASSIGN="true",
                       AGENT_DEFAULT_CAPACITY=str(AgentAccess().default_capacity),
                       AGENT_PRESENCE_TIMEOUT_SECONDS=str(PRESENCE_TIMEOUT_SECONDS))
    config = replace(stack_config(redis.url, key_ring_spec, own_agents, coverage_file, data_dir / "stack"),
                     extra_environment=environment)
    running = Stack(config).start()
    yield running
    running.stop()
    redis.stop()


class Shots:
    """Screenshots of both pages at each step, numbered in order."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.step = 0

    async def take(self, name: str, **pages: Page) -> None:
        self.step += 1
        for who, page in pages.items():
            await page.screenshot(path=str(self.folder / f"scenario-{self.step:02d}-{name}-{who}.png"), full_page=True)


async def conversation_id_of(patient: Page) -> str:
    return str(await patient.evaluate("JSON.parse(sessionStorage.getItem('patientSession')).conversation_id"))


async def test_auto_assignment_canned_reply_note_transfer_to_a_nurse_survey_and_a_lapsed_agent(
    assigning_stack: Stack, new_context: NewContext, screenshot_dir: Path
) -> None:
    stack, shots = assigning_stack, Shots(screenshot_dir)
    gabe_context = await new_context(DESKTOP)
    gabe = await gabe_context.new_page()
    await gabe.goto(stack.console_url)
    await sign_in(gabe, "gabe", GABE_PASSWORD)
    await expect(gabe.locator("body[data-connection=online]")).to_have_count(1)

    patient = await (await new_context(PHONE)).new_page()
    patient_errors = collect_page_errors(patient)
    await patient.goto(stack.patient_page_url)
    await say(patient, training_message("en", "request_human"))
    await expect(patient.locator(".status").last).to_contain_text("in line")
    sender = await conversation_id_of(patient)
    await shots.take("patient-escalates", patient=patient, gabe=gabe)

    panel = conversation_panel(gabe, sender)
    await expect(panel).to_be_visible()
    await expect(gabe.get_by_role("tab", selected=True)).to_contain_text(sender)
    await expect(panel.locator(".answer-deadline")).to_contain_text("New conversation for you")
    await expect(panel.locator(".transcript .entry-patient .text")).to_have_text(
        [training_message("en", "request_human")])
    await shots.take("auto-assigned", patient=patient, gabe=gabe)

    await panel.get_by_label("Canned reply").select_option(label="Greeting")
    await panel.locator(".reply-form").get_by_role("button", name="Send").click()
    await expect(patient.locator(".message.from-agent")).to_have_text([CANNED_GREETING])
    await say(patient, "I have a question about my test results")
    await expect(panel.locator(".transcript .entry-patient .text").last).to_have_text(
        "I have a question about my test results")
    await reply(panel, "A nurse can go through those with you. One moment.")
    await panel.get_by_label("Internal note (the patient never sees it)").fill("asked about lab results from May")
    await panel.get_by_role("button", name="Add note").click()
    await expect(panel.locator(".transcript .entry-note .text")).to_have_text(["asked about lab results from May"])
    await shots.take("replied-canned-and-note", patient=patient, gabe=gabe)

    amy = await (await new_context(DESKTOP)).new_page()
    console_errors = collect_page_errors(gabe) + collect_page_errors(amy)
    await amy.goto(stack.console_url)
    await sign_in(amy, "amy", AGENT_PASSWORDS["amy"])
    await expect(amy.locator("body[data-connection=online]")).to_have_count(1)
    await panel.locator("summary", has_text="Transfer").click()
    await panel.get_by_label("To agent (id)").fill("amy")
    await panel.get_by_label("Note for the next person").fill("lab results question, patient verified nothing yet")
    await panel.get_by_role("button", name="Transfer", exact=True).click()
    await expect(panel).to_have_count(0)

    nurse_panel = conversation_panel(amy, sender)
    await expect(nurse_panel.locator(".transcript .entry-note .text")).to_have_text(
        ["asked about lab results from May", "lab results question, patient verified nothing yet"])
    await shots.take("transferred-to-nurse", patient=patient, amy=amy, gabe=gabe)
    await reply(nurse_panel, "Hi, I'm Amy, a nurse. Let's look at your results together.")
    await expect(patient.locator(".message.from-agent").last).to_have_text(
        "Hi, I'm Amy, a nurse. Let's look at your results together.")
    await nurse_panel.get_by_role("button", name="Close conversation").click()
    await expect(nurse_panel).to_have_count(0)
    await expect(patient.locator(".message").last).to_contain_text(CATALOG.notice("en", "survey_offer"))
    await shots.take("nurse-closed", patient=patient, amy=amy)

    await say(patient, "5")
    await expect(patient.locator(".message").last).to_contain_text(CATALOG.notice("en", "survey_thanks"))
    for text in ("lab results", "verified nothing"):
        await expect(patient.locator("body")).not_to_contain_text(text)
    await shots.take("patient-rated", patient=patient, amy=amy)

    await gabe_context.close()
    next_patient = await (await new_context(PHONE)).new_page()
    await next_patient.goto(stack.patient_page_url)
    await say(next_patient, training_message("en", "request_human"))
    await expect(next_patient.locator(".message.from-bot").last).to_contain_text("connecting you")
    next_sender = await conversation_id_of(next_patient)
    next_panel = conversation_panel(amy, next_sender)
    await expect(next_panel).to_be_visible()
    await expect(next_panel.locator(".transcript .entry-patient .text")).to_have_text(
        [training_message("en", "request_human")])
    await reply(next_panel, "Hi, this is Amy. How can I help?")
    await expect(next_patient.locator(".message.from-agent")).to_have_text(["Hi, this is Amy. How can I help?"])
    await shots.take("next-patient-to-amy", patient=next_patient, amy=amy)
    await next_panel.get_by_role("button", name="Close conversation").click()
    await expect(next_panel).to_have_count(0)
    assert patient_errors == [] and console_errors == []
