"""``make dev``: a shell in which the Rasa CLI talks to this bot, for conversation designers.

``endpoints.yml`` is the production one, on purpose: trackers sealed in Redis, a Redis lock
store, the action server named by ``ACTION_ENDPOINT_URL``; it has no defaults, so a plain
``rasa shell`` has nothing to talk to. This starts what it needs: a private Redis on a free
port (never the one ``REDIS_URL`` names), the demo patients, the model for the current data
(trained if it is not cached, and made the newest in ``models/``, the one Rasa picks) and the
action server on a free port. Then it runs a command, by default an interactive shell, with
the environment ``endpoints.yml`` reads, so that ``rasa shell`` and ``rasa interactive`` work
without flags. When the command ends, everything stops and the private Redis is deleted.

``python -m stack.dev rasa shell`` runs one command instead of a shell.
"""

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Optional

from stack.local import local_agents_file, local_key_rings
from stack.services import Stack, StackConfig, free_port


def stop_on_sigterm(signum: int, _: Optional[FrameType]) -> None:
    sys.exit(128 + signum)


def leave_ctrl_c_to_the_command(_signum: int, _frame: Optional[FrameType]) -> None:
    """Ctrl-C stops ``rasa shell``, not the services under it (a handler, unlike SIG_IGN, is not inherited)."""


def main() -> int:
    command = sys.argv[1:] or [os.environ.get("SHELL") or "/bin/bash"]
    data_keys, audit_keys = local_key_rings()
    agents_file, _ = local_agents_file()
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    with tempfile.TemporaryDirectory(prefix="hcb-dev-") as scratch:
        stack = Stack(
            StackConfig(
                data_dir=Path(scratch),
                data_keys=data_keys,
                audit_keys=audit_keys,
                agents_file=agents_file,
                redis_port=free_port(),
                actions_port=free_port(),
            )
        )
        try:
            print("Starting a private Redis, the demo patients, the model and the action server...", flush=True)
            stack.start_actions().wait_until_serving(stack.actions_health_url, 0, 240)
            assert stack.model is not None
            bin_dir = stack.config.bin_dir
            environment = dict(
                stack.environment(),
                PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                VIRTUAL_ENV=str(bin_dir.parent),
            )
            print(
                f"Model {stack.model.name}, action server {environment['ACTION_ENDPOINT_URL']}.\n"
                "Rasa CLI ready: rasa shell, rasa interactive (on ports 5005 and 5006, make run's: stop it first).\n"
                "rasa shell talks to the bot directly: no crisis screen, language detection or queue in front.\n"
                f"Running {' '.join(command)}; when it ends, these services stop.",
                flush=True,
            )
            signal.signal(signal.SIGINT, leave_ctrl_c_to_the_command)
            return subprocess.run(command, env=environment, check=False).returncode
        finally:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
