"""The benchmark's own system: every process of ``make run`` on a private Redis, started one at a time and timed.

The Rasa server serves Rasa's stock ``rest`` channel beside the ``patient`` channel (same model, same
process), so the two compare on equal terms. The patient limits are lifted (a benchmark sends far more than
a patient), and one agent works every conversation.
"""

import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Optional

import psutil
import yaml

from handoff import hash_password
from handoff.crypto import generate_key_ring_spec
from stack.services import PROJECT_DIR, Stack, StackConfig, free_port

AGENT_ID = "bench"
AGENT_PASSWORD = secrets.token_urlsafe(16)
"""A throw-away password of the throw-away agent directory."""
UNLIMITED = str(10**9)
BENCH_ENVIRONMENT = {
    "PATIENT_MESSAGES_PER_MINUTE": UNLIMITED,
    "PATIENT_NEW_CONVERSATIONS_PER_MINUTE": UNLIMITED,
    "PATIENT_UNAUTHORIZED_PER_MINUTE": UNLIMITED,
    "PATIENT_PUSH_SOCKETS_PER_PROCESS": "10000",
    "AGENT_ANSWER_TIMEOUT_SECONDS": "86400",
    "AGENT_PRESENCE_TIMEOUT_SECONDS": "86400",
}
BENCH_DIR = PROJECT_DIR / ".data" / "bench"
"""The benchmark's Redis data, keys and logs: replaced by each run (throw-away keys, no patient data)."""
CREDENTIALS = "rest:\nconnectors.patient_channel.PatientChannel:\n"


@dataclass(frozen=True)
class ProcessCost:
    name: str
    startup_seconds: float
    rss_mb: float


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its children (Sanic workers are children), in MB."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
        return sum(process.memory_info().rss for process in processes) / 2**20
    except psutil.NoSuchProcess:
        return 0.0


SCREEN_STARTUP = """
import resource, sys, time
from pathlib import Path
def rss(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter()
import screening
screen = screening.CrisisScreen(cache_dir=Path(sys.argv[1]))
loaded, loaded_rss = time.perf_counter() - started, rss()
screen.screen("I want to kill myself", "und")
first = time.perf_counter() - started - loaded
screen.wait_prepared()
print(loaded, loaded_rss, first, time.perf_counter() - started, rss())
"""


def screen_startup() -> list[ProcessCost]:
    """``import screening; CrisisScreen()`` in fresh interpreters: the cost each screening process pays.

    The first run compiles the patterns into an empty cache (what the first process pays after the
    patterns change), the second reads them from it (every other process): its load, a crisis message
    sent the moment it is loaded, and the background preparation (spaCy, every language's tokenizer).
    """
    costs: list[ProcessCost] = []
    with tempfile.TemporaryDirectory() as cache_dir:
        for run in ("compiling the patterns", "cached"):
            output = subprocess.run([sys.executable, "-c", SCREEN_STARTUP, cache_dir],
                                    capture_output=True, text=True, check=True).stdout
            loaded, loaded_rss, first, prepared, prepared_rss = map(float, output.split())
            if run == "cached":
                costs.append(ProcessCost("crisis screen loaded (import + CrisisScreen())", loaded, loaded_rss))
                costs.append(ProcessCost("  first crisis message, sent at once", first, loaded_rss))
            costs.append(ProcessCost(f"crisis screen prepared ({run})", prepared, prepared_rss))
    return costs


def write_bench_agents(path: Path, capacity: int) -> None:
    """The bench's one agent: English, the skills an agent's role allows, ``capacity`` conversations at once."""
    path.write_text(yaml.safe_dump({"agents": [{
        "id": AGENT_ID, "name": "Bench", "role": "agent", "languages": ["en"], "skills": ["general", "billing"],
        "hipaa_training": date.today().isoformat(), "password_hash": hash_password(AGENT_PASSWORD),
        "capacity": capacity,
    }]}))


class BenchStack:
    """Redis, action server, one Rasa server (1 worker) and a console, each timed to its first answer."""

    def __init__(self, agent_capacity: int) -> None:
        """``agent_capacity``: how many conversations the bench agent may hold at once (a pull-claim beyond it is
        refused), as many as the handoff step has it work at once."""
        data_dir = BENCH_DIR
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        agents_file = data_dir / "agents.yml"
        write_bench_agents(agents_file, agent_capacity)
        credentials = data_dir / "credentials.yml"
        credentials.write_text(CREDENTIALS)
        self.stack = Stack(StackConfig(
            data_dir=data_dir,
            data_keys=generate_key_ring_spec(),
            audit_keys=generate_key_ring_spec("a1"),
            agents_file=agents_file,
            redis_port=free_port(),
            rasa_port=free_port(),
            actions_port=free_port(),
            console_port=free_port(),
            credentials_file=credentials,
            extra_environment=BENCH_ENVIRONMENT,
        ))
        self.costs: list[ProcessCost] = []
        self.pids: dict[str, int] = {}

    def __enter__(self) -> "BenchStack":
        stack = self.stack
        try:
            stack.start_actions()
            assert stack.redis is not None and stack.redis.process is not None
            self.pids["redis"] = stack.redis.process.pid
            self._timed("action server", stack.processes[-1], lambda: stack.wait_until_serving(
                stack.actions_health_url, 0, 240))
            rasa = stack.spawn_rasa(stack.config.rasa_port)
            self._timed("rasa (1 worker)", rasa, lambda: stack.wait_until_rasa_serves(stack.config.rasa_port, rasa))
            console = stack.spawn_console(stack.config.console_port)
            self._timed("console", console, lambda: stack.wait_until_serving(stack.console_url, 2))
        except BaseException:
            self.close()
            raise
        return self

    def add_rasa(self, workers: int) -> int:
        """A second Rasa server with ``workers`` Sanic workers, timed; returns its port."""
        port = free_port()
        process = self.stack.spawn_rasa(port, workers)
        self._timed(f"rasa ({workers} workers)", process, lambda: self.stack.wait_until_rasa_serves(port, process))
        return port

    def _timed(self, name: str, process: "subprocess.Popen[bytes]", wait: Callable[[], None]) -> None:
        started = time.perf_counter()
        wait()
        self.costs.append(ProcessCost(name, time.perf_counter() - started, rss_mb(process.pid)))
        self.pids[name] = process.pid

    def resident_now(self) -> dict[str, float]:
        """Each process's resident memory now (after load), in MB."""
        return {name: rss_mb(pid) for name, pid in self.pids.items()}

    def close(self) -> None:
        """Stops every process; the logs stay in ``BENCH_DIR/logs`` until the next run."""
        self.stack.stop()

    def __exit__(
        self, kind: Optional[type[BaseException]], error: Optional[BaseException], trace: Optional[TracebackType]
    ) -> None:
        self.close()
