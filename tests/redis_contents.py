"""What someone with read access to Redis sees: every key, its type, its values and its expiry."""

from typing import Any

from redis.asyncio import Redis


async def values_of(redis: Redis, key: bytes) -> list[bytes]:
    """Every value stored under ``key`` (hash and stream field names included), whatever its type."""
    kind = (await redis.type(key)).decode()
    if kind == "string":
        return [await redis.get(key)]
    if kind == "list":
        return list(await redis.lrange(key, 0, -1))
    if kind == "hash":
        return [part for item in (await redis.hgetall(key)).items() for part in item]
    if kind == "set":
        return sorted(await redis.smembers(key))
    if kind == "zset":
        return [member for member, _ in await redis.zrange(key, 0, -1, withscores=True)]
    if kind == "stream":
        return [part for entry_id, fields in await redis.xrange(key) for item in fields.items()
                for part in (entry_id, *item)]
    return []


async def every_stored_value(redis: Redis, pattern: str = "*") -> list[bytes]:
    """Key names and values of every key matching ``pattern``."""
    stored: list[bytes] = []
    async for key in redis.scan_iter(match=pattern, count=1000):
        stored += [key, *await values_of(redis, key)]
    return stored


async def snapshot(redis: Redis, *patterns: str) -> dict[bytes, tuple[Any, ...]]:
    """Every key matching ``patterns`` with its type, values and absolute expiry time: equal snapshots mean nothing
    changed there."""
    keys = [key for pattern in patterns or ("*",) async for key in redis.scan_iter(match=pattern, count=1000)]
    return {
        key: ((await redis.type(key)), tuple(await values_of(redis, key)),
              await redis.execute_command("PEXPIRETIME", key))
        for key in keys
    }
