"""With hiredis installed, every asyncio client ``async_redis`` builds packs its commands in C: byte for byte what
redis-py's own packing sends, and the values redis-py refuses are refused."""

import pytest
import redis.asyncio
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection
from redis.exceptions import DataError

from handoff.redis_connection import HIREDIS_PACKED, HiredisPacking, async_redis

pytest.importorskip("hiredis")

COMMANDS = [
    ("EVALSHA", "a" * 40, 2, "hcb:{hcb}:conversation:p1", b"hcb:{hcb}:queue:en", 1_700_000_000_000, "", -1),
    ("HSET", "k", "reason", "v1.k1.sealed", "text", "¿Me ayuda? 医生 ✓"),
    ("SCRIPT EXISTS", "abc", "def"),
    (b"CONFIG GET", "maxmemory"),
    ("ZADD", "queue", 0.1, "p1", 1e16, "p2", 20_000_000_000_000.0, "p3"),
    ("SET", "k", memoryview(b"binary \x00\xff")),
    ("SET", "k", "x" * 20_000),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: str(command[0]))
def test_hiredis_packs_what_redis_py_packs(command: tuple[object, ...]) -> None:
    packed = b"".join(HIREDIS_PACKED[redis.asyncio.Connection]().pack_command(*command))
    assert packed == b"".join(bytes(chunk) for chunk in redis.asyncio.Connection().pack_command(*command))


@pytest.mark.parametrize("value", [None, True, ["list"], {"a": 1}])
def test_values_redis_py_refuses_are_refused(value: object) -> None:
    with pytest.raises(DataError):
        redis.asyncio.Connection().pack_command("SET", "k", value)
    with pytest.raises(DataError):
        HIREDIS_PACKED[redis.asyncio.Connection]().pack_command("SET", "k", value)


@pytest.mark.parametrize("url, plain", [
    ("redis://127.0.0.1:6379/0", redis.asyncio.Connection),
    ("rediss://127.0.0.1:6379/0", SSLConnection),
    ("unix:///run/redis.sock", UnixDomainSocketConnection),
    ("redis+sentinel://127.0.0.1:26379/hcb", redis.asyncio.sentinel.SentinelManagedConnection),
    ("rediss+sentinel://127.0.0.1:26379/hcb", redis.asyncio.sentinel.SentinelManagedSSLConnection),
])
def test_every_kind_of_client_packs_with_hiredis_and_keeps_its_transport(url: str, plain: type) -> None:
    connection_class = async_redis(url).connection_pool.connection_class
    assert issubclass(connection_class, HiredisPacking) and issubclass(connection_class, plain)
