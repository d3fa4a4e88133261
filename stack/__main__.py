"""``make run``: start everything, print where to chat and where agents work; Ctrl-C stops it all."""

import os
import secrets
import signal
import sys
import time
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Optional

import yaml

from handoff.agents import hash_password
from handoff.crypto import generate_key_ring_spec
from stack.services import PROJECT_DIR, Stack, StackConfig

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
                    "name": "Demo Agent",
                    "role": "agent",
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


def main() -> None:
    data_keys = os.environ.get("HANDOFF_DATA_KEYS") or local_secret(
        DATA_DIR / "data-keys", generate_key_ring_spec()
    )
    audit_keys = os.environ.get("HANDOFF_AUDIT_KEYS") or local_secret(
        DATA_DIR / "audit-keys", generate_key_ring_spec("a1")
    )
    agents_env = os.environ.get("HANDOFF_AGENTS_FILE")
    agents_file, password = (Path(agents_env), "") if agents_env else demo_agents_file()
    stack = Stack(
        StackConfig(
            data_dir=DATA_DIR,
            data_keys=data_keys,
            audit_keys=audit_keys,
            agents_file=agents_file,
            redis_url=os.environ.get("REDIS_URL"),
            tls_certificate=Path(os.environ["HANDOFF_TLS_CERT"]) if os.environ.get("HANDOFF_TLS_CERT") else None,
            tls_key=Path(os.environ["HANDOFF_TLS_KEY"]) if os.environ.get("HANDOFF_TLS_KEY") else None,
        )
    )

    def stop(signum: int, _: Optional[FrameType]) -> None:
        print("\nStopping every process this run started...", flush=True)
        stack.stop()
        sys.exit(128 + signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print("Starting Redis, training the model if data changed, starting servers...", flush=True)
    stack.start()
    print(f"\nPatient chat page:  {stack.patient_page_url}")
    print(f"Patient REST hook:  {stack.patient_webhook_url}")
    print(f"Agent console:      {stack.console_url}")
    if password:
        print(f"  demo agent login: demo / {password}  (stored in .data/demo-agent-password)")
    print(f"Logs:               {stack.log_dir}/\nPress Ctrl-C to stop.", flush=True)
    while True:
        for process in stack.processes:
            if process.poll() is not None:
                print(f"{process.args!r} exited with {process.returncode}; stopping.", flush=True)
                stack.stop()
                sys.exit(1)
        time.sleep(1)


if __name__ == "__main__":
    main()
