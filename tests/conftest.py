"""Fixtures that start real services: a Redis-compatible server, and for e2e tests
the whole system (action server, Rasa server with the patient channel, console)."""

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Optional

import pytest
import pytest_asyncio
import yaml
from redis.asyncio import Redis

from handoff import KeyRing, KeySpace, hash_password
from handoff.background import stop_tasks
from handoff.crypto import generate_key_ring_spec
from handoff.redis_connection import async_redis
from stack.redis_server import RedisServer
from stack.services import PROJECT_DIR, Stack, StackConfig, free_port, wait_until_serving
from tests.teardown import session_teardown_watched

AGENT_PASSWORDS = {
    "amy": "amy-secret-pass",
    "luis": "luis-secret-pass",
    "sam": "sam-supervisor-pass",
    "tess": "tess-lapsed-training-pass",
    "amal": "amal-secret-pass",
}
CURRENT_TRAINING = date.today() - timedelta(days=30)
EXPIRED_TRAINING = date.today() - timedelta(days=400)
AUDIT_KEYS = generate_key_ring_spec("a1")
PORTAL_SECRET = "portal-shared-secret-for-tests"
PLATFORM_SECRET = "platform-relay-secret-for-tests"
METRICS_TOKEN = "metrics-scraper-token-for-tests-0123456789"
METRICS_AUTHORIZATION = {"Authorization": f"Bearer {METRICS_TOKEN}"}
STACK_ENVIRONMENT = {
    "SANIC_PROXIES_COUNT": "1",
    "PATIENT_PORTAL_IDENTITY_SECRET": PORTAL_SECRET,
    "PATIENT_PLATFORM_SECRET": PLATFORM_SECRET,
    "AGENT_AUTO_ASSIGN": "false",
    "AGENT_DEFAULT_CAPACITY": "500",
}
"""Every test patient comes from an address of its own (``X-Forwarded-For``), as behind a proxy. The stack's console
leaves the queue to pull-claims, so that tests pick their conversations (auto-assignment is tested on its own
console app: ``tests/integration/test_auto_assignment.py``). One stack serves the whole session and its agents close
few of the conversations they claim, so each may hold as many as the session's tests give it: a pull-claim beyond
an agent's capacity is refused (capacity itself: ``tests/integration/test_claim_capacity.py``)."""
IMPATIENT_CONSOLE_ENVIRONMENT = {"AGENT_ANSWER_TIMEOUT_SECONDS": "2", "AGENT_CRISIS_ACK_TIMEOUT_SECONDS": "2"}
"""Settings of a second console process on the running stack: 2 s to write to a claimed patient, 2 s to acknowledge
a crisis. The stack's own console keeps the defaults (60 s, 30 s), so no other test is hurried by them."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: Optional[pytest.Item]) -> Iterator[None]:
    """The last test's teardown tears down every session fixture: a watchdog makes sure it ends."""
    if nextitem is not None:
        return (yield)
    with session_teardown_watched(item.config):
        return (yield)


@pytest_asyncio.fixture(scope="session", autouse=True)
async def background_tasks_stopped() -> AsyncIterator[None]:
    """Tasks that tests left running end before the session's event loop closes. The loop cancels what is left once
    and waits for it; a loop that lost that cancellation (``handoff.background``) would keep it waiting for ever."""
    yield
    await stop_tasks(*(task for task in asyncio.all_tasks() if task is not asyncio.current_task()))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest_asyncio.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = async_redis(redis_server.url)
    yield client
    await client.close()


@pytest_asyncio.fixture
async def other_process(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """A connection of its own to the same server, as a second console process would have."""
    async with async_redis(redis_server.url) as client:
        yield client


@pytest.fixture
def keys() -> KeySpace:
    """A namespace of its own for each test, so tests never see each other's keys."""
    return KeySpace(f"test{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def key_ring_spec() -> str:
    return generate_key_ring_spec("k1")


@pytest.fixture(scope="session")
def key_ring(key_ring_spec: str) -> KeyRing:
    return KeyRing.from_spec(key_ring_spec)


@pytest.fixture(scope="session")
def audit_keys() -> KeyRing:
    """The audit log's own keys, not the data keys."""
    return KeyRing.from_spec(AUDIT_KEYS)


@pytest.fixture(scope="session")
def agents_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agents") / "agents.yml"
    agents = [
        {
            "id": "amy",
            "name": "Amy",
            "role": "nurse",
            "languages": ["en"],
            "skills": ["general", "billing", "pharmacy", "nurse", "behavioral-health"],
            "hipaa_training": CURRENT_TRAINING,
        },
        {"id": "luis", "name": "Luis", "languages": ["es"], "skills": ["general"], "hipaa_training": CURRENT_TRAINING},
        {"id": "amal", "name": "Amal", "languages": ["ar"], "skills": ["general"], "hipaa_training": CURRENT_TRAINING},
        {
            "id": "sam", "name": "Sam", "role": "supervisor", "languages": ["en"], "skills": ["general"],
            "hipaa_training": CURRENT_TRAINING,
        },
        {
            "id": "tess", "name": "Tess", "languages": ["en"], "skills": ["general"],
            "hipaa_training": EXPIRED_TRAINING,
        },
    ]
    for agent in agents:
        agent["password_hash"] = hash_password(AGENT_PASSWORDS[str(agent["id"])])
    path.write_text(yaml.safe_dump({"agents": agents}))
    return path


@pytest.fixture(scope="session")
def coverage_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every queue staffed around the clock but Portuguese, which is never staffed."""
    path = tmp_path_factory.mktemp("coverage") / "coverage.yml"
    path.write_text("timezone: America/New_York\ndefault: always\nqueues:\n  pt: {}\n")
    return path


TWILIO_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_AUTH_TOKEN = "twilio-auth-token-for-tests"
TWILIO_NUMBER = "+15550001111"
TWILIO_WHATSAPP_NUMBER = "whatsapp:+15550002222"


@pytest.fixture(scope="session")
def twilio_api_port() -> int:
    """Where the stand-in for the Twilio REST API listens (``tests/channels/twilio_api.py``)."""
    return free_port()


def credentials_with_twilio(data_dir: Path, twilio_api_port: int) -> Path:
    """The project's channels, and Twilio's with its API at the stand-in's address."""
    credentials = yaml.safe_load((PROJECT_DIR / "credentials.yml").read_text())
    credentials["connectors.gated_channel.twilio"] = {
        "account_sid": TWILIO_ACCOUNT_SID,
        "auth_token": TWILIO_AUTH_TOKEN,
        "twilio_number": TWILIO_NUMBER,
        "whatsapp_number": TWILIO_WHATSAPP_NUMBER,
        "api_base_url": f"http://127.0.0.1:{twilio_api_port}",
    }
    path = data_dir / "credentials.yml"
    path.write_text(yaml.safe_dump(credentials))
    return path


def stack_config(
    redis_url: str, key_ring_spec: str, agents_file: Path, coverage_file: Path, data_dir: Path,
    twilio_api_port: Optional[int] = None,
) -> StackConfig:
    """A whole system on free ports, on the given Redis (with Twilio when given its stand-in API's port)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    credentials = PROJECT_DIR / "credentials.yml"
    if twilio_api_port is not None:
        credentials = credentials_with_twilio(data_dir, twilio_api_port)
    return StackConfig(
        data_dir=data_dir,
        data_keys=key_ring_spec,
        audit_keys=AUDIT_KEYS,
        agents_file=agents_file,
        redis_url=redis_url,
        rasa_port=free_port(),
        actions_port=free_port(),
        console_port=free_port(),
        coverage_file=coverage_file,
        extra_environment=STACK_ENVIRONMENT,
        credentials_file=credentials,
        metrics_token=METRICS_TOKEN,
    )


@pytest.fixture(scope="session")
def stack(
    redis_server: RedisServer,
    key_ring_spec: str,
    agents_file: Path,
    coverage_file: Path,
    twilio_api_port: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    config = stack_config(
        redis_server.url, key_ring_spec, agents_file, coverage_file, tmp_path_factory.mktemp("stack"), twilio_api_port
    )
    running = Stack(config).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def stack_on(
    key_ring_spec: str, agents_file: Path, coverage_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Stack]]:
    """Starts a whole system of its own on the Redis a URL names (a test that harms its Redis must not share
    the session's), with environment variables added to every process; every system it started stops after the
    module."""
    started: list[Stack] = []

    def start(redis_url: str, **environment: str) -> Stack:
        data_dir = tmp_path_factory.mktemp("own-stack")
        config = stack_config(redis_url, key_ring_spec, agents_file, coverage_file, data_dir)
        config.extra_environment = {**config.extra_environment, **environment}
        started.append(Stack(config).start())
        return started[-1]

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def impatient_console(stack: Stack, tmp_path: Path) -> Iterator[str]:
    """The URL of a second console process on the running stack's Redis, with ``IMPATIENT_CONSOLE_ENVIRONMENT``:
    its reaper runs beside the stack console's, as several console processes do in production."""
    port = free_port()
    log = tmp_path / "impatient-console.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "handoff.console", "--port", str(port)],
            cwd=stack.config.project_dir,
            env=dict(stack.console_environment(), **IMPATIENT_CONSOLE_ENVIRONMENT),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, process, log, timeout_seconds=60)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
