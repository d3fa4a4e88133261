"""``rediss+sentinel://``: the clients ask the sentinels and talk to the primary they name over TLS, refuse a
certificate they do not trust, and follow a failover, still over TLS.

A primary, a replica and three sentinels (the embedded Valkey has no TLS) sit behind TLS fronts
(``tests/tls_proxy.py``). The sentinels monitor the primary through its front and the replica announces its
front, so every address a sentinel gives a client is a TLS one. Which of the server's clients came over TLS is
read from the server itself: ``CLIENT LIST`` names each client and the port of its link, and the front knows
whether that link's client spoke TLS.
"""

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest
import redis
import redis.exceptions

from handoff.redis_connection import async_redis, sync_redis
from stack.redis_server import RedisServer, SentinelServer
from stack.services import free_port
from tests.tls import self_signed_certificate
from tests.tls_proxy import TlsFront

SERVICE = "hcb"
FAILOVER_DEADLINE_SECONDS = 60


class AnnouncedReplica(RedisServer):
    """A replica that gives its primary, and so the sentinels, the port of its TLS front instead of its own."""

    def __init__(self, port: int, data_dir: Path, replica_of: int, announce_port: int) -> None:
        super().__init__(port, data_dir, replica_of=replica_of)
        self.announce_port = announce_port

    def command(self) -> list[str]:
        return [*super().command(), "--replica-announce-ip", "127.0.0.1",
                "--replica-announce-port", str(self.announce_port)]


@dataclass
class TlsSentinelRedis:
    primary: RedisServer
    replica: RedisServer
    sentinels: list[SentinelServer]
    primary_front: TlsFront
    replica_front: TlsFront
    sentinel_fronts: list[TlsFront]
    certificate: Path

    @property
    def url(self) -> str:
        return "rediss+sentinel://" + ",".join(f"127.0.0.1:{front.port}" for front in self.sentinel_fronts) \
            + f"/{SERVICE}/0"

    def primary_named(self) -> Optional[int]:
        """The port of the primary the first sentinel names now (asked directly, in clear)."""
        address = redis.Redis(port=self.sentinels[0].port).sentinel_get_master_addr_by_name(SERVICE)
        return int(address[1]) if address else None


@pytest.fixture
def tls_sentinel_redis(tmp_path: Path) -> Iterator[TlsSentinelRedis]:
    certificate = self_signed_certificate(tmp_path)
    primary_port, replica_port = free_port(), free_port()
    primary_front = TlsFront(primary_port, certificate.certificate, certificate.key).start()
    replica_front = TlsFront(replica_port, certificate.certificate, certificate.key).start()
    primary = RedisServer(primary_port, tmp_path / "primary")
    replica = AnnouncedReplica(replica_port, tmp_path / "replica", primary_port, replica_front.port)
    sentinels = [SentinelServer(free_port(), tmp_path / f"sentinel-{number}", primary_front.port, SERVICE, 1000)
                 for number in range(3)]
    sentinel_fronts = [TlsFront(s.port, certificate.certificate, certificate.key).start() for s in sentinels]
    servers: list[RedisServer] = [primary, replica, *sentinels]
    try:
        for server in servers:
            server.start()
        link, deadline = redis.Redis(port=replica_port), time.monotonic() + 20
        while link.info("replication").get("master_link_status") != "up":
            assert time.monotonic() < deadline, "the replica did not reach its primary"
            time.sleep(0.1)
        yield TlsSentinelRedis(primary, replica, sentinels, primary_front, replica_front, sentinel_fronts,
                               certificate.certificate)
    finally:
        for server in reversed(servers):
            server.stop()
        for front in (primary_front, replica_front, *sentinel_fronts):
            front.stop()


def came_over_tls(server_port: int, front: TlsFront, client_name: str) -> list[bool]:
    """For each connection named ``client_name`` on the server: whether its client spoke TLS to the front."""
    clients = redis.Redis(port=server_port).client_list()
    ports = [int(client["addr"].rpartition(":")[2]) for client in clients if client["name"] == client_name]
    return [front.tls_by_server_side_port.get(port, False) for port in ports]


async def test_clients_speak_tls_to_the_sentinels_and_the_primary_and_follow_a_failover(
    tls_sentinel_redis: TlsSentinelRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    topology = tls_sentinel_redis
    monkeypatch.setenv("SSL_CERT_FILE", str(topology.certificate))
    queue_side = async_redis(topology.url, client_name="probe-async")
    rasa_side = sync_redis(topology.url, client_name="probe-sync")
    try:
        await queue_side.set("written", "over tls")
        assert rasa_side.get("written") == b"over tls"
        assert came_over_tls(topology.primary.port, topology.primary_front, "probe-async") == [True]
        assert came_over_tls(topology.primary.port, topology.primary_front, "probe-sync") == [True]
        asked = [tls for front in topology.sentinel_fronts for tls in front.tls_by_server_side_port.values()]
        assert asked and all(asked), "every question to a sentinel went over TLS"

        assert topology.primary.process is not None
        topology.primary.process.kill()
        deadline = time.monotonic() + FAILOVER_DEADLINE_SECONDS
        while topology.primary_named() != topology.replica_front.port:
            assert time.monotonic() < deadline, "the sentinels did not promote the replica"
            await asyncio.sleep(0.2)
        while True:
            try:
                await queue_side.set("after failover", "still tls")
                break
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "the client did not reach the promoted replica"
                await asyncio.sleep(0.2)
        assert rasa_side.get("after failover") == b"still tls"
        assert came_over_tls(topology.replica.port, topology.replica_front, "probe-async") == [True]
        assert came_over_tls(topology.replica.port, topology.replica_front, "probe-sync") == [True]
    finally:
        await queue_side.close()
        rasa_side.close()


async def test_a_certificate_the_client_does_not_trust_is_refused(
    tls_sentinel_redis: TlsSentinelRedis, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As a man in the middle would be: the servers' certificate is not signed by the CA the client trusts."""
    (tmp_path / "other-ca").mkdir()
    monkeypatch.setenv("SSL_CERT_FILE", str(self_signed_certificate(tmp_path / "other-ca").certificate))
    client = async_redis(tls_sentinel_redis.url, socket_connect_timeout=2, socket_timeout=2)
    try:
        with pytest.raises(redis.exceptions.ConnectionError):
            await client.set("never", "written")
    finally:
        await client.close()
    assert redis.Redis(port=tls_sentinel_redis.primary.port).exists("never") == 0
    assert not any(tls_sentinel_redis.primary_front.tls_by_server_side_port.values()), "no client got through"
