"""Turning what redis-py returns (bytes) into text."""

from typing import Any


def text_of(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def decoded(fields: dict[Any, Any]) -> dict[str, str]:
    return {text_of(key): text_of(value) for key, value in fields.items()}
