"""``make dev`` (``python -m stack.dev``) gives the Rasa CLI what the production ``endpoints.yml`` reads,
on services of its own: the Redis that ``REDIS_URL`` names is never touched, and nothing outlives it."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import redis

from handoff.crypto import generate_key_ring_spec
from stack.redis_server import RedisServer
from stack.services import free_port

PROJECT_DIR = Path(__file__).resolve().parents[2]
PROBE = """
import json, os, shutil, sys, urllib.request
from rasa.core.utils import AvailableEndpoints
endpoints = AvailableEndpoints.read_endpoints("endpoints.yml")
with urllib.request.urlopen(endpoints.action.url.replace("/webhook", "/health")) as response:
    health = response.status
json.dump({
    "action_url": endpoints.action.url,
    "action_health": health,
    "tracker_store": endpoints.tracker_store.type,
    "tracker_redis": [endpoints.tracker_store.url, endpoints.tracker_store.kwargs["port"]],
    "redis_url": os.environ["REDIS_URL"],
    "rasa": shutil.which("rasa"),
}, open(sys.argv[1], "w"))
"""


def test_the_dev_environment_satisfies_endpoints_yml_on_private_services(
    tmp_path: Path, key_ring_spec: str, agents_file: Path
) -> None:
    production = RedisServer(free_port(), tmp_path / "production-redis").start()
    try:
        probe = tmp_path / "probe.json"
        result = subprocess.run(
            [sys.executable, "-m", "stack.dev", sys.executable, "-c", PROBE, str(probe)],
            cwd=PROJECT_DIR,
            env=dict(
                os.environ,
                REDIS_URL=production.url,
                HANDOFF_DATA_KEYS=key_ring_spec,
                HANDOFF_AUDIT_KEYS=generate_key_ring_spec("a1"),
                HANDOFF_AGENTS_FILE=str(agents_file),
            ),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        seen = json.loads(probe.read_text())
        assert seen["action_health"] == 200
        assert seen["tracker_store"] == "connectors.tracker_store.EncryptedRedisTrackerStore"
        assert seen["redis_url"] != production.url
        assert seen["tracker_redis"] != ["127.0.0.1", str(production.port)]
        assert seen["rasa"] == str(Path(sys.executable).parent / "rasa")
        assert redis.Redis.from_url(production.url).dbsize() == 0
        for url in (seen["action_url"], seen["redis_url"]):
            port = urlparse(url).port
            with socket.socket() as client:
                assert client.connect_ex(("127.0.0.1", port)) != 0, f"{url} still answers after the command ended"
    finally:
        production.stop()
