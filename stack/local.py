"""What a local run keeps under ``.data/``: its key rings and a demo agent directory, made on first use."""

import os
import secrets
from datetime import date
from pathlib import Path

import yaml

from handoff.agents import hash_password
from handoff.crypto import generate_key_ring_spec
from stack.services import PROJECT_DIR

DATA_DIR = PROJECT_DIR / ".data"


def local_secret(path: Path, create: str) -> str:
    """Reads a secret kept under .data/, creating it (mode 600) on first run."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(create)
    return path.read_text().strip()


def demo_agents_file() -> tuple[Path, str]:
    """An agent directory with one demo agent, created on first run."""
    password = local_secret(DATA_DIR / "demo-agent-password", secrets.token_urlsafe(12))
    agents_file = DATA_DIR / "agents.yml"
    if not agents_file.exists():
        directory = {
            "agents": [
                {
                    "id": "demo",
                    "name": "Demo Nurse",
                    "role": "nurse",
                    "languages": ["en", "es"],
                    "skills": ["general", "billing", "pharmacy", "nurse", "behavioral-health"],
                    "hipaa_training": date.today().isoformat(),
                    "password_hash": hash_password(password),
                }
            ]
        }
        agents_file.touch(mode=0o600)
        agents_file.write_text(yaml.safe_dump(directory, sort_keys=False))
    return agents_file, password


def local_agents_file() -> tuple[Path, str]:
    """``HANDOFF_AGENTS_FILE``, else the demo directory and its agent's password."""
    agents_env = os.environ.get("HANDOFF_AGENTS_FILE")
    return (Path(agents_env), "") if agents_env else demo_agents_file()


def local_key_rings() -> tuple[str, str]:
    """The data and audit key rings: ``HANDOFF_DATA_KEYS`` and ``HANDOFF_AUDIT_KEYS``, else kept under .data/."""
    data_keys = os.environ.get("HANDOFF_DATA_KEYS") or local_secret(DATA_DIR / "data-keys", generate_key_ring_spec())
    audit_keys = os.environ.get("HANDOFF_AUDIT_KEYS") or local_secret(
        DATA_DIR / "audit-keys", generate_key_ring_spec("a1")
    )
    return data_keys, audit_keys


def local_metrics_token() -> str:
    """``METRICS_TOKEN``, else one kept under .data/: the bearer token a Prometheus scrape of ``/metrics`` sends."""
    return os.environ.get("METRICS_TOKEN") or local_secret(DATA_DIR / "metrics-token", secrets.token_urlsafe(32))
