"""The console over TLS with a certificate made for the test: TLS 1.2+ works, TLS 1.1 and plain HTTP do not."""

import asyncio
import socket
import ssl
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from redis.asyncio import Redis

from handoff import AgentDirectory, AgentSessions, AuditLog, KeyRing, KeySpace, LiveAgentQueue
from handoff.agent_sessions import LoginThrottle
from handoff.console import create_console_app
from handoff.settings import HandoffSettings, TlsFiles
from handoff.transport import client_tls_context, server_tls_context
from stack.services import free_port
from tests.conftest import AGENT_PASSWORDS
from tests.tls import handshake, old_tls_client, self_signed_certificate


@pytest.fixture
def certificate(tmp_path: Path) -> TlsFiles:
    return self_signed_certificate(tmp_path)


@pytest_asyncio.fixture
async def tls_console(
    redis: Redis, keys: KeySpace, key_ring: KeyRing, agents_file: Path, certificate: TlsFiles
) -> AsyncIterator[int]:
    """The console on a free port with the TLS context ``python -m handoff.console`` builds from the settings."""
    settings = HandoffSettings.from_env(
        {
            "HANDOFF_DATA_KEYS": "unused",
            "HANDOFF_TLS_CERT": str(certificate.certificate),
            "HANDOFF_TLS_KEY": str(certificate.key),
        }
    )
    assert settings.tls == certificate
    app = create_console_app(
        LiveAgentQueue(redis, key_ring, keys),
        AgentSessions(redis, keys, AgentDirectory.from_file(agents_file)),
        AuditLog(redis, keys, key_ring),
        LoginThrottle(redis, keys),
    )
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=server_tls_context(settings.tls)).start()
    yield port
    await runner.cleanup()


async def test_the_console_serves_https_with_the_configured_certificate(
    tls_console: int, certificate: TlsFiles
) -> None:
    base = f"https://127.0.0.1:{tls_console}"
    trust = client_tls_context(certificate.certificate)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as http:
        async with http.get(base + "/") as page:
            assert page.status == 200 and "Agent console" in await page.text()
        body = {"agent_id": "amy", "password": AGENT_PASSWORDS["amy"]}
        async with http.post(base + "/api/login", json=body) as login:
            assert login.status == 200 and (await login.json())["token"]
    assert await asyncio.to_thread(handshake, tls_console, trust) in ("TLSv1.2", "TLSv1.3")


async def test_the_console_refuses_tls_1_1_and_plain_http(tls_console: int, certificate: TlsFiles) -> None:
    with pytest.raises(ssl.SSLError):  # an alert or, from asyncio's TLS, a closed connection
        await asyncio.to_thread(handshake, tls_console, old_tls_client(certificate.certificate))
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientError):
            async with http.get(f"http://127.0.0.1:{tls_console}/", timeout=aiohttp.ClientTimeout(total=5)):
                pass


def test_the_tls_1_1_client_can_speak_tls_1_1_so_the_refusal_is_the_servers(certificate: TlsFiles) -> None:
    """Control: a server that still allows TLS 1.1 completes the handshake with the same client."""
    lax = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    lax.set_ciphers("DEFAULT:@SECLEVEL=0")
    lax.minimum_version = ssl.TLSVersion.TLSv1_1
    lax.load_cert_chain(str(certificate.certificate), str(certificate.key))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def accept_one() -> None:
            connection, _ = listener.accept()
            with lax.wrap_socket(connection, server_side=True) as secured:
                secured.recv(1)

        server = threading.Thread(target=accept_one, daemon=True)
        server.start()
        assert handshake(listener.getsockname()[1], old_tls_client(certificate.certificate)) == "TLSv1.1"
        server.join(timeout=10)
