"""Rasa's socket.io channel behind the gate, spoken to as the rasa-webchat widget speaks.

Bot, handoff, agent reply pushed as ``bot_uttered``, patient messages to the agent, back to the bot;
crisis resources first; and the attacks on the session: another patient's conversation id, another
socket's session id in ``user_uttered``, a forged token.
"""

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from handoff import ConversationState, LiveAgentQueue, Priority
from stack.services import Stack, free_port, wait_until_serving
from tests.e2e.patient_client import AgentClient
from tests.e2e.training_messages import training_message
from tests.e2e.widget_socket import WidgetSocket

IN_LINE = "in line for a member of our team"


@pytest_asyncio.fixture
async def widget(stack: Stack) -> AsyncIterator[WidgetSocket]:
    socket = WidgetSocket(stack)
    await socket.connect()
    yield socket
    await socket.close()


async def transcript_texts(queue: LiveAgentQueue, conversation_id: str) -> list[str]:
    return [entry.text for entry in await queue.transcript(conversation_id)]


async def test_bot_handoff_agent_reply_and_back_to_the_bot(
    widget: WidgetSocket, amy: AgentClient, stack_queue: LiveAgentQueue, empty_english_queue: None
) -> None:
    await widget.say(training_message("en", "greet"))
    await widget.wait_for("virtual assistant")

    await widget.say(training_message("en", "request_human"))
    await widget.wait_for(IN_LINE)
    conversation = widget.conversation_id
    assert conversation.startswith("p-")
    queued = await stack_queue.conversation(conversation)
    assert queued is not None and queued.state == ConversationState.QUEUED

    status, _ = await amy.call("POST", f"/api/conversations/{conversation}/claim")
    assert status == 200
    status, _ = await amy.call("POST", f"/api/conversations/{conversation}/messages",
                               {"text": "Hi, this is Amy. How can I help?"})
    assert status == 201
    await widget.wait_for("Hi, this is Amy")

    replies_before = len(widget.received)
    await widget.say("I need to move my appointment")
    _, transcript = await amy.call("GET", f"/api/conversations/{conversation}/transcript")
    assert [entry["text"] for entry in transcript["entries"]][-1] == "I need to move my appointment"
    assert len(widget.received) == replies_before, "the bot must not answer while an agent has the patient"

    status, _ = await amy.call("POST", f"/api/conversations/{conversation}/close", {"outcome": "bot"})
    assert status == 200
    await widget.say(training_message("en", "ask_hours"))
    texts = await widget.wait_for("Monday to Friday")
    assert texts.count("Hi, this is Amy. How can I help?") == 1


async def test_crisis_resources_come_first(widget: WidgetSocket, stack_queue: LiveAgentQueue, amy: AgentClient) -> None:
    await widget.say("I don't want to be here anymore")
    texts = await widget.wait_for(IN_LINE)
    assert "988" in texts[0] and "911" in texts[0]
    conversation = await stack_queue.conversation(widget.conversation_id)
    assert conversation is not None and conversation.priority == Priority.CRISIS
    await amy.call("POST", f"/api/conversations/{widget.conversation_id}/claim")
    status, _ = await amy.call("POST", f"/api/conversations/{widget.conversation_id}/close",
                               {"outcome": "closed", "crisis_disposition": "resources_given_patient_safe"})
    assert status == 200


async def test_reconnecting_with_the_session_id_resumes_the_conversation_and_receives_agent_messages(
    stack: Stack, amy: AgentClient, empty_english_queue: None
) -> None:
    first = WidgetSocket(stack)
    session_id = await first.connect()
    await first.say(training_message("en", "request_human"))
    await first.wait_for(IN_LINE)
    await first.close()

    status, _ = await amy.call("POST", f"/api/conversations/{first.conversation_id}/claim")
    assert status == 200
    status, _ = await amy.call("POST", f"/api/conversations/{first.conversation_id}/messages",
                               {"text": "Amy here, are you still with us?"})
    assert status == 201

    again = WidgetSocket(stack, first.address)
    try:
        assert await again.connect(session_id) == session_id
        await again.wait_for("Amy here")
        status, _ = await amy.call("POST", f"/api/conversations/{first.conversation_id}/messages",
                                   {"text": "Take your time."})
        assert status == 201
        texts = await again.wait_for("Take your time.")
        assert texts.count("Amy here, are you still with us?") == 1
    finally:
        await again.close()
        await amy.call("POST", f"/api/conversations/{first.conversation_id}/close", {"outcome": "closed"})


async def test_a_second_socket_cannot_read_or_write_another_patients_conversation(
    stack: Stack, widget: WidgetSocket, amy: AgentClient, stack_queue: LiveAgentQueue, empty_english_queue: None
) -> None:
    await widget.say(training_message("en", "request_human"))
    await widget.wait_for(IN_LINE)
    victim = widget.conversation_id
    victim_session = widget.session_id
    assert victim_session is not None
    conversation_id, _, token = victim_session.partition(".")

    attacker = WidgetSocket(stack)
    try:
        granted = [await attacker.connect(conversation_id)]
        for claim in (f"{conversation_id}.{token[:-4]}AAAA", f"{conversation_id}.", victim):
            granted.append(await rebind(attacker, claim))
        assert all(not session.startswith(conversation_id) for session in granted), granted
        hours = training_message("en", "ask_hours")
        await attacker.say(hours, session_id=victim_session)
        await attacker.wait_for("Monday to Friday")
        assert hours not in await transcript_texts(stack_queue, victim)
        assert hours in await transcript_texts(stack_queue, attacker.conversation_id)

        status, _ = await amy.call("POST", f"/api/conversations/{victim}/claim")
        assert status == 200
        status, _ = await amy.call("POST", f"/api/conversations/{victim}/messages", {"text": "for the victim only"})
        assert status == 201
        await widget.wait_for("for the victim only")
        await attacker.say(training_message("en", "greet"))
        await attacker.wait_for("virtual assistant")
        assert not any("for the victim only" in text or IN_LINE in text for text in attacker.texts)
        assert not any("Monday to Friday" in text for text in widget.texts)
    finally:
        await attacker.close()
        await amy.call("POST", f"/api/conversations/{victim}/close", {"outcome": "closed"})


async def rebind(socket: WidgetSocket, claim: str) -> str:
    await socket.client.emit("session_request", {"session_id": claim})
    return await asyncio.wait_for(socket.confirmed.get(), 30)


async def test_the_widget_page_and_script_are_served_locally(stack: Stack, http: aiohttp.ClientSession) -> None:
    base = f"http://127.0.0.1:{stack.config.rasa_port}/webhooks/socketio"
    async with http.get(f"{base}/chat") as page:
        assert page.status == 200
        html = await page.text()
    assert '<script src="webchat.js"></script>' in html and "https://" not in html
    async with http.get(f"{base}/webchat.js") as script:
        assert script.status == 200
        assert "session_request" in await script.text()


@pytest.fixture
def second_rasa_process(stack: Stack, tmp_path: Path) -> Iterator[int]:
    """The port of another Rasa server on the stack's Redis, model and action server, as a second process behind
    a load balancer would be."""
    port = free_port()
    log = tmp_path / "second-rasa.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(stack.config.bin_dir / "rasa"), "run", "--model", str(stack.model), "--port", str(port),
             "--interface", "127.0.0.1", "--credentials", str(stack.config.credentials_file),
             "--endpoints", "endpoints.yml"],
            cwd=stack.config.project_dir, env=stack.environment(), stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/webhooks/socketio/", process, log, timeout_seconds=600)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_agent_messages_reach_the_patient_on_whichever_process_holds_the_socket(
    stack: Stack, second_rasa_process: int, amy: AgentClient, empty_english_queue: None
) -> None:
    first = WidgetSocket(stack)
    session_id = await first.connect()
    await first.say(training_message("en", "request_human"))
    await first.wait_for(IN_LINE)
    status, _ = await amy.call("POST", f"/api/conversations/{first.conversation_id}/claim")
    assert status == 200
    status, _ = await amy.call("POST", f"/api/conversations/{first.conversation_id}/messages",
                               {"text": "Amy, first process"})
    assert status == 201
    await first.wait_for("Amy, first process")
    await first.close()

    moved = WidgetSocket(stack, first.address, port=second_rasa_process)
    try:
        assert await moved.connect(session_id) == session_id
        status, _ = await amy.call("POST", f"/api/conversations/{first.conversation_id}/messages",
                                   {"text": "Amy, second process"})
        assert status == 201
        texts = await moved.wait_for("Amy, second process")
        assert "Amy, first process" not in texts
        await moved.say("thanks, I am on the other server now")
        _, transcript = await amy.call("GET", f"/api/conversations/{first.conversation_id}/transcript")
        assert transcript["entries"][-1]["text"] == "thanks, I am on the other server now"
    finally:
        await moved.close()
        await amy.call("POST", f"/api/conversations/{first.conversation_id}/close", {"outcome": "closed"})
