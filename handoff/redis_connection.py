"""Connecting to Redis from ``REDIS_URL``: one server, or the primary that Redis Sentinel names.

``REDIS_URL`` is ``redis://[:password@]host:port/db`` (``rediss://`` for TLS) for one server, or

    redis+sentinel://[:password@]host:port[,host:port...]/service[/db]

for a Sentinel-managed primary: the sentinels' addresses, the name they monitor (``sentinel monitor
<service> ...``) and the database. The password is the data servers'; the sentinels are asked without one.
``rediss+sentinel://`` speaks TLS to the sentinels and to the servers they name, verifying their certificates
as ``rediss://`` does (a private CA goes in the bundle ``SSL_CERT_FILE`` names).
Every client then asks the sentinels which server is primary when it connects, and again after a
connection fails, so after a failover the next command goes to the new primary. Every process builds its
clients here: the queue, console, action server, tools, Rasa's tracker and lock stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import unquote

import redis
import redis.asyncio
import redis.asyncio.sentinel
import redis.sentinel
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection
from redis.exceptions import DataError
from redis.utils import HIREDIS_PACK_AVAILABLE

if HIREDIS_PACK_AVAILABLE:
    import hiredis

SENTINEL_SCHEME = "redis+sentinel"
TLS_SENTINEL_SCHEME = "rediss+sentinel"


class RedisUrlError(ValueError):
    """``REDIS_URL`` names no Redis this system can connect to."""


@dataclass(frozen=True)
class SentinelAddress:
    """Where the sentinels are, which primary they watch, and its database and password."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    password: Optional[str] = None
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> Optional[SentinelAddress]:
        """The Sentinel address a ``redis+sentinel://`` or ``rediss+sentinel://`` URL gives; ``None`` for any
        other scheme.

        Raises:
            RedisUrlError: If a ``redis+sentinel`` URL lacks sentinels or a service, or a port or db is wrong.
        """
        scheme, separator, rest = url.partition("://")
        if not separator or scheme.lower() not in (SENTINEL_SCHEME, TLS_SENTINEL_SCHEME):
            return None
        netloc, _, path = rest.partition("/")
        password: Optional[str] = None
        if "@" in netloc:
            credentials, netloc = netloc.rsplit("@", 1)
            password = unquote(credentials.partition(":")[2]) or None
        sentinels = tuple(_host_port(part, url) for part in netloc.split(",") if part)
        service, _, db = path.strip("/").partition("/")
        if not sentinels or not service:
            raise RedisUrlError(f"{SENTINEL_SCHEME} URL needs host:port[,host:port...]/service[/db], not {url!r}")
        if db and not db.isdigit():
            raise RedisUrlError(f"the database of a {SENTINEL_SCHEME} URL is a number, not {db!r}")
        return cls(sentinels, service, int(db or 0), password, scheme.lower() == TLS_SENTINEL_SCHEME)

    def connection_options(self) -> dict[str, Any]:
        """What every connection, to a sentinel or to a server it names, adds to the caller's options."""
        return {"ssl": True} if self.tls else {}


def _host_port(part: str, url: str) -> tuple[str, int]:
    host, _, port = part.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise RedisUrlError(f"each sentinel of a {SENTINEL_SCHEME} URL is host:port: {part!r} in {url!r}")
    return host, int(port)


def check_redis_url(url: str) -> None:
    """Raises ``RedisUrlError`` unless ``url`` is a ``redis://``, ``rediss://``, ``unix://`` or Sentinel URL."""
    if SentinelAddress.parse(url) is None and url.partition("://")[0].lower() not in ("redis", "rediss", "unix"):
        raise RedisUrlError(f"REDIS_URL must be redis://, rediss://, {SENTINEL_SCHEME}:// or {TLS_SENTINEL_SCHEME}://,"
                            f" not {url!r}")


def async_redis(url: str, **options: Any) -> redis.asyncio.Redis:
    """An asyncio client of the Redis ``url`` names (options as for ``Redis.from_url``), packing its commands with
    hiredis when it is installed (``HiredisPacking``), whose ``close()`` closes its connections (redis-py 4.6 leaves
    the pool of a client made by ``from_url`` or ``master_for`` open)."""
    sentinel = SentinelAddress.parse(url)
    if sentinel is None:
        client = redis.asyncio.Redis.from_url(url, **options)
    else:
        watchers = redis.asyncio.sentinel.Sentinel(list(sentinel.sentinels),
                                                   sentinel_kwargs=_sentinel_options(sentinel, options))
        client = watchers.master_for(sentinel.service, db=sentinel.db, password=sentinel.password,
                                     **sentinel.connection_options(), **options)
    client.auto_close_connection_pool = True
    pool = client.connection_pool
    pool.connection_class = HIREDIS_PACKED.get(pool.connection_class, pool.connection_class)
    return client


def sync_redis(url: str, **options: Any) -> redis.Redis:
    """A blocking client of the Redis ``url`` names (Rasa's tracker and lock stores are blocking)."""
    sentinel = SentinelAddress.parse(url)
    if sentinel is None:
        return redis.Redis.from_url(url, **options)
    watchers = redis.sentinel.Sentinel(list(sentinel.sentinels), sentinel_kwargs=_sentinel_options(sentinel, options))
    return watchers.master_for(sentinel.service, db=sentinel.db, password=sentinel.password,
                               **sentinel.connection_options(), **options)


def _sentinel_options(sentinel: SentinelAddress, options: dict[str, Any]) -> dict[str, Any]:
    """The timeouts of the data connections, and TLS, apply to asking the sentinels too."""
    timeouts: dict[str, Any] = {
        name: options[name] for name in ("socket_timeout", "socket_connect_timeout") if name in options
    }
    return {**timeouts, **sentinel.connection_options()}


class HiredisPacking:
    """Packs a command in C (``hiredis.pack_command``), as redis-py 4.6 does for its blocking connections once
    hiredis is installed, but not for its asyncio ones: its Python packing was a tenth of the queue client's CPU time
    (``python -m evaluation.queue_cycles``; a close's script call with its 28 keys and arguments: 37 us, 3 in C)."""

    def pack_command(self, *args: Any) -> list[bytes]:
        """The command as redis-py's own packing gives it: a command name of several words is split, as it
        splits it."""
        if isinstance(args[0], str):
            args = (*args[0].encode().split(), *args[1:])
        elif b" " in args[0]:
            args = (*args[0].split(), *args[1:])
        try:
            return [hiredis.pack_command(args)]
        except TypeError as error:
            raise DataError(str(error)) from error


def _packed_by_hiredis(connection_class: type) -> type:
    return type(f"Hiredis{connection_class.__name__}", (HiredisPacking, connection_class), {})


HIREDIS_PACKED: dict[type, type] = {
    connection_class: _packed_by_hiredis(connection_class)
    for connection_class in (redis.asyncio.Connection, SSLConnection, UnixDomainSocketConnection,
                             redis.asyncio.sentinel.SentinelManagedConnection,
                             redis.asyncio.sentinel.SentinelManagedSSLConnection)
} if HIREDIS_PACK_AVAILABLE else {}
"""The asyncio connection classes of ``async_redis``'s clients, each with its hiredis-packing twin."""
