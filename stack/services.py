"""The processes of one running system, started in order and stopped together."""

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlparse

from handoff.redis_connection import SentinelAddress
from handoff.transport import client_tls_context
from stack.model import ensure_model
from stack.redis_server import RedisServer

PROJECT_DIR = Path(__file__).resolve().parent.parent
SERVICE_NAMES = ("actions", "rasa", "console")


def free_port() -> int:
    """A loopback port nothing listens on now, for a private server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class StackConfig:
    data_dir: Path
    data_keys: str
    agents_file: Path
    redis_url: Optional[str] = None
    """``redis://`` or ``rediss://`` (TLS), with ``:password@`` if the server wants one."""
    redis_port: int = 6380
    rasa_port: int = 5005
    actions_port: int = 5055
    console_port: int = 5006
    namespace: str = "hcb"
    coverage_file: Path = PROJECT_DIR / "coverage.yml"
    patients_file: Optional[Path] = PROJECT_DIR / "patients" / "demo.yml"
    """Demo patients seeded (sealed) into Redis on start, for identity verification; None seeds nothing."""
    project_dir: Path = PROJECT_DIR
    bin_dir: Path = field(default_factory=lambda: Path(sys.executable).parent)
    audit_keys: str = ""
    """The audit log's own key ring (``HANDOFF_AUDIT_KEYS``); required by the console."""
    extra_environment: dict[str, str] = field(default_factory=dict)
    """Added to every process's environment, e.g. ``SANIC_PROXIES_COUNT`` or ``PATIENT_*`` limits."""
    credentials_file: Path = PROJECT_DIR / "credentials.yml"
    """The channels ``rasa run`` opens (tests add Twilio with a stand-in API; the benchmark Rasa's stock ``rest``)."""
    tls_certificate: Optional[Path] = None
    tls_key: Optional[Path] = None
    """With both set, the Rasa server (patient channel) and the console serve HTTPS and WSS only."""
    rasa_workers: int = 1
    """Sanic workers of each Rasa server (``SANIC_WORKERS``): they share one port, and Redis holds every state."""
    metrics_token: str = ""
    """The bearer token the console's and the patient channel's ``/metrics`` ask of a scraper (``METRICS_TOKEN``);
    empty: neither serves its figures to anyone."""


class Stack:
    """Redis (unless ``redis_url`` is given), action server, Rasa server and console."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.redis: Optional[RedisServer] = None
        self.processes: list[subprocess.Popen[bytes]] = []
        self.model: Optional[Path] = None
        self.log_dir = config.data_dir / "logs"

    @property
    def redis_url(self) -> str:
        if self.config.redis_url:
            return self.config.redis_url
        assert self.redis is not None
        return self.redis.url

    @property
    def crisis_spool(self) -> Path:
        """Each stack its own spool: a spool belongs to one Redis."""
        return self.config.data_dir / "crisis-spool.jsonl"

    @property
    def audit_anchor(self) -> Path:
        """The local anchor of the audit log's checkpoints (see ``handoff.audit``)."""
        return self.config.data_dir / "audit-anchor.jsonl"

    @property
    def audit_archive(self) -> Path:
        """Where ``python -m handoff.audit archive`` writes the sealed segments it moves out of Redis."""
        return self.config.data_dir / "audit-archive"

    @property
    def tls(self) -> bool:
        return self.config.tls_certificate is not None and self.config.tls_key is not None

    @property
    def _http(self) -> str:
        return "https" if self.tls else "http"

    @property
    def patient_webhook_url(self) -> str:
        return self.patient_webhook_url_at(self.config.rasa_port)

    def patient_webhook_url_at(self, port: int) -> str:
        return f"{self._http}://127.0.0.1:{port}/webhooks/patient/webhook"

    def patient_push_url_at(self, port: int) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{port}/webhooks/patient/push"

    @property
    def patient_session_url(self) -> str:
        return f"{self._http}://127.0.0.1:{self.config.rasa_port}/webhooks/patient/session"

    @property
    def patient_push_url(self) -> str:
        return self.patient_push_url_at(self.config.rasa_port)

    @property
    def patient_page_url(self) -> str:
        return f"{self._http}://127.0.0.1:{self.config.rasa_port}/webhooks/patient/chat"

    @property
    def actions_health_url(self) -> str:
        return f"http://127.0.0.1:{self.config.actions_port}/health"

    @property
    def console_url(self) -> str:
        return f"{self._http}://127.0.0.1:{self.config.console_port}/"

    def environment(self) -> dict[str, str]:
        """Every process's environment, without the audit keys (see :meth:`console_environment`); Rasa's Redis
        stores get the parts of ``REDIS_URL`` (endpoints.yml)."""
        tls = (
            {"HANDOFF_TLS_CERT": str(self.config.tls_certificate), "HANDOFF_TLS_KEY": str(self.config.tls_key)}
            if self.tls
            else {}
        )
        inherited = {name: value for name, value in os.environ.items() if name != "HANDOFF_AUDIT_KEYS"}
        return dict(
            inherited,
            PYTHONPATH=str(self.config.project_dir),
            REDIS_URL=self.redis_url,
            **rasa_store_environment(self.redis_url),
            HANDOFF_DATA_KEYS=self.config.data_keys,
            HANDOFF_AGENTS_FILE=str(self.config.agents_file),
            HANDOFF_NAMESPACE=self.config.namespace,
            HANDOFF_COVERAGE_FILE=str(self.config.coverage_file),
            HANDOFF_CRISIS_SPOOL=str(self.crisis_spool),
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.config.actions_port}/webhook",
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
            SANIC_REGISTER="False",
            SANIC_WORKERS=str(self.config.rasa_workers),
            **({"METRICS_TOKEN": self.config.metrics_token} if self.config.metrics_token else {}),
            **tls,
            **self.config.extra_environment,
        )

    def console_environment(self) -> dict[str, str]:
        """The console's environment: every process's, plus the audit keys, which only the console and the
        operator's commands hold (a Rasa server writes through the audit intake, ``handoff.audit_intake``)."""
        return dict(self.environment(), HANDOFF_AUDIT_KEYS=self.config.audit_keys,
                    HANDOFF_AUDIT_ANCHOR=str(self.audit_anchor), HANDOFF_AUDIT_ARCHIVE=str(self.audit_archive))

    def start(self) -> "Stack":
        self.start_actions()
        try:
            self._spawn(SERVICE_NAMES[1], self.rasa_command(self.config.rasa_port), self.environment())
            self.spawn_console(self.config.console_port, SERVICE_NAMES[2])
            self.wait_until_serving(self.actions_health_url, 0, 240)
            self.wait_until_serving(self.console_url, 2)
            self.wait_until_serving(f"{self._http}://127.0.0.1:{self.config.rasa_port}/webhooks/patient/", 1, 240)
        except BaseException:
            self.stop()
            raise
        return self

    def rasa_command(self, port: int) -> list[str]:
        """``rasa run`` with the patient channel and the Redis stores, on ``port``."""
        assert self.model is not None, "start_actions() chooses the model"
        tls_options = (
            ["--ssl-certificate", str(self.config.tls_certificate), "--ssl-keyfile", str(self.config.tls_key)]
            if self.tls
            else []
        )
        return [
            str(self.config.bin_dir / "rasa"), "run",
            "--model", str(self.model),
            "--port", str(port),
            "--interface", "127.0.0.1",
            "--credentials", str(self.config.credentials_file),
            "--endpoints", "endpoints.yml",
            *tls_options,
        ]

    def spawn_rasa(self, port: int, workers: Optional[int] = None) -> subprocess.Popen[bytes]:
        """One more Rasa server on this stack's Redis, on ``port`` (log ``rasa-<port>.log``), with ``workers`` Sanic
        workers (default: the stack's), as behind a load balancer; stopped with the rest."""
        environment = self.environment()
        if workers is not None:
            environment["SANIC_WORKERS"] = str(workers)
        self._spawn(f"rasa-{port}", self.rasa_command(port), environment)
        return self.processes[-1]

    def spawn_console(self, port: int, name: str = "") -> subprocess.Popen[bytes]:
        """A console process on this stack's Redis, on ``port`` (log ``<name>.log``, default ``console-<port>``)."""
        command = [str(self.config.bin_dir / "python"), "-m", "handoff.console", "--port", str(port)]
        self._spawn(name or f"console-{port}", command, self.console_environment())
        return self.processes[-1]

    def wait_until_rasa_serves(self, port: int, process: subprocess.Popen[bytes], timeout_seconds: float = 600) -> None:
        url = f"{self._http}://127.0.0.1:{port}/webhooks/patient/"
        context = client_tls_context(self.config.tls_certificate) if self.tls else None
        wait_until_serving(url, process, self.log_dir / f"rasa-{port}.log", context, timeout_seconds)

    def start_actions(self) -> "Stack":
        """Redis (unless ``redis_url`` is given), the demo patients, the current model (``self.model``) and the
        action server, without waiting for it to answer: all that ``rasa shell`` and ``rasa interactive`` need."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            if not self.config.redis_url:
                self.redis = RedisServer(self.config.redis_port, self.config.data_dir / "redis").start()
            env = self.environment()
            self.seed_patients(env)
            self.model = ensure_model(self.config.project_dir, str(self.config.bin_dir / "rasa"), env)
            python = str(self.config.bin_dir / "python")
            self._spawn(
                SERVICE_NAMES[0], [python, "-m", "stack.action_server", "--port", str(self.config.actions_port)], env
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
        if self.redis:
            self.redis.stop()
            self.redis = None

    def seed_patients(self, env: dict[str, str]) -> None:
        """Seeds the patient directory and care stores (``python -m patients.seed``), if a file is configured."""
        if self.config.patients_file is None:
            return
        with open(self.log_dir / "seed.log", "ab") as log:
            subprocess.run(
                [str(self.config.bin_dir / "python"), "-m", "patients.seed", str(self.config.patients_file)],
                cwd=self.config.project_dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=120,
            )

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        with open(self.log_dir / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                command,
                cwd=self.config.project_dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)

    def wait_until_serving(self, url: str, index: int, timeout_seconds: float = 120) -> None:
        """Waits until ``url`` answers 2xx; fails early, naming the log, if the process dies."""
        context = client_tls_context(self.config.tls_certificate) if url.startswith("https:") else None
        log = self.log_dir / f"{SERVICE_NAMES[index]}.log"
        wait_until_serving(url, self.processes[index], log, context, timeout_seconds)


def rasa_store_environment(redis_url: str) -> dict[str, str]:
    """What endpoints.yml gives Rasa's tracker and lock stores: the parts of ``redis_url``. With a Sentinel URL they
    connect through the sentinels instead (``connectors/lock_store.py``) and these name its first sentinel."""
    sentinel = SentinelAddress.parse(redis_url)
    if sentinel is not None:
        host, port = sentinel.sentinels[0]
        return dict(REDIS_HOST=host, REDIS_PORT=str(port), REDIS_DB=str(sentinel.db),
                    REDIS_PASSWORD=sentinel.password or "", REDIS_USE_SSL="")
    redis = urlparse(redis_url)
    return dict(
        REDIS_HOST=redis.hostname or "127.0.0.1",
        REDIS_PORT=str(redis.port or 6379),
        REDIS_DB=(redis.path or "/0").lstrip("/") or "0",
        REDIS_PASSWORD=unquote(redis.password or ""),
        REDIS_USE_SSL="true" if redis.scheme == "rediss" else "",
    )


def wait_until_serving(
    url: str,
    process: subprocess.Popen[bytes],
    log: Path,
    context: Optional[ssl.SSLContext] = None,
    timeout_seconds: float = 120,
) -> None:
    """Waits until ``url`` answers 2xx; fails early, naming ``log``, if ``process`` dies."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the process for {url} exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2, context=context):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout_seconds:.0f} s")

