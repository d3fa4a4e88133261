"""Turning what redis-py returns (bytes) into text, and finding keys by prefix."""

from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis

GLOB_SPECIALS = "\\*?[]"


def text_of(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def decoded(fields: dict[Any, Any]) -> dict[str, str]:
    return {text_of(key): text_of(value) for key, value in fields.items()}


async def keys_after(redis: Redis, prefix: str) -> AsyncIterator[str]:
    """What follows ``prefix`` in every key that starts with it."""
    pattern = "".join(f"\\{char}" if char in GLOB_SPECIALS else char for char in prefix) + "*"
    async for key in redis.scan_iter(match=pattern, count=500):
        yield text_of(key)[len(prefix):]
