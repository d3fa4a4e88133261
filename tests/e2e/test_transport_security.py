"""Transport security of running processes: a whole stack over TLS with a certificate the test makes,
and the action server on loopback only, answering errors without the request (the tracker is ePHI)."""

import asyncio
import json
import socket
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from handoff.settings import TlsFiles
from handoff.transport import client_tls_context
from stack.redis_server import RedisServer
from stack.services import Stack
from tests.conftest import AGENT_PASSWORDS, stack_config
from tests.e2e.patient_client import AgentClient, Patient, handoff_of
from tests.e2e.training_messages import training_message
from tests.tls import handshake, old_tls_client, self_signed_certificate

PHI = "Maria Lopez born 03/14/1962 member HCB-100-200"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_stack(
    redis_server: RedisServer,
    key_ring_spec: str,
    agents_file: Path,
    coverage_file: Path,
    certificate: TlsFiles,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """A second whole system on the same Redis (its own namespace) serving HTTPS and WSS only."""
    config = stack_config(
        redis_server.url, key_ring_spec, agents_file, coverage_file, tmp_path_factory.mktemp("tls-stack")
    )
    config.namespace = f"tls{uuid.uuid4().hex[:8]}"
    config.tls_certificate, config.tls_key = certificate.certificate, certificate.key
    running = Stack(config).start()
    yield running
    running.stop()


@pytest_asyncio.fixture
async def https(certificate: TlsFiles) -> AsyncIterator[aiohttp.ClientSession]:
    """A client that trusts the test's certificate and verifies it."""
    connector = aiohttp.TCPConnector(ssl=client_tls_context(certificate.certificate))
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


async def test_patient_channel_and_console_work_over_tls(
    tls_stack: Stack, https: aiohttp.ClientSession
) -> None:
    assert tls_stack.patient_webhook_url.startswith("https://")
    assert tls_stack.patient_push_url.startswith("wss://") and tls_stack.console_url.startswith("https://")
    patient = Patient(https, tls_stack)
    handoff = handoff_of(await patient.say(training_message("en", "request_human")))
    assert handoff is not None and handoff["status"] == "queued"

    agent = AgentClient(https, tls_stack)
    await agent.login("amy", AGENT_PASSWORDS["amy"])
    status, _ = await agent.call("POST", f"/api/conversations/{patient.conversation_id}/claim")
    assert status == 200
    async with https.ws_connect(
        tls_stack.patient_push_url, params={"sender": patient.conversation_id, "token": handoff["push_token"]}
    ) as push:
        status, _ = await agent.call(
            "POST", f"/api/conversations/{patient.conversation_id}/messages", {"text": "Amy here, over TLS."}
        )
        assert status == 201
        message = await push.receive(timeout=20)
        assert "Amy here, over TLS." in message.data


async def test_tls_1_1_and_plain_http_are_refused(tls_stack: Stack, certificate: TlsFiles) -> None:
    for port in (tls_stack.config.rasa_port, tls_stack.config.console_port):
        with pytest.raises(ssl.SSLError):
            await asyncio.to_thread(handshake, port, old_tls_client(certificate.certificate))
        assert await asyncio.to_thread(
            handshake, port, client_tls_context(certificate.certificate)
        ) in ("TLSv1.2", "TLSv1.3")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as plain:
        with pytest.raises(aiohttp.ClientError):
            async with plain.post(tls_stack.patient_webhook_url.replace("https:", "http:"), json={}):
                pass


def test_the_action_server_listens_on_loopback_only(stack: Stack) -> None:
    """Bound to 127.0.0.1, it refuses 127.0.0.2 (Linux routes all of 127/8 to lo, so 0.0.0.0 would accept)."""
    with socket.create_connection(("127.0.0.1", stack.config.actions_port), timeout=5):
        pass
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", stack.config.actions_port), timeout=5).close()


async def test_a_failing_action_answers_without_the_request_or_its_phi(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    base = f"http://127.0.0.1:{stack.config.actions_port}"
    async with http.get(base + "/actions") as listed:
        action = (await listed.json())[0]["name"]
    body = {"next_action": action, "sender_id": "p-phi", "tracker": PHI, "domain": PHI, "version": "3.6.2"}
    async with http.post(base + "/webhook", json=body, headers={"Origin": "https://evil.example"}) as response:
        answer = await response.text()
        assert response.status == 500
        assert "Access-Control-Allow-Origin" not in response.headers
    assert "Maria" not in answer and "HCB-100-200" not in answer and "request_body" not in answer
    assert json.loads(answer)["error"]
    await asyncio.sleep(0.5)
    assert "HCB-100-200" not in (stack.log_dir / "actions.log").read_text()
