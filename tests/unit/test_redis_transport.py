"""``rediss://`` with a password reaches every Redis client: the stack's environment and Rasa's stores."""

from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import SSLConnection as AsyncSSLConnection
from redis.connection import SSLConnection

from handoff.settings import HandoffSettings
from stack.services import PROJECT_DIR, Stack, StackConfig


def environment_for(redis_url: str) -> dict[str, str]:
    config = StackConfig(data_dir=Path("unused"), data_keys="unused", agents_file=Path("unused"), redis_url=redis_url)
    return Stack(config).environment()


def test_a_rediss_url_turns_tls_on_and_passes_the_password() -> None:
    env = environment_for("rediss://:p%40ss-word@redis.internal:6380/2")
    assert (env["REDIS_HOST"], env["REDIS_PORT"], env["REDIS_DB"]) == ("redis.internal", "6380", "2")
    assert (env["REDIS_PASSWORD"], env["REDIS_USE_SSL"]) == ("p@ss-word", "true")
    handoff = Redis.from_url(HandoffSettings.from_env(env).redis_url).connection_pool
    assert handoff.connection_class is AsyncSSLConnection and handoff.connection_kwargs["password"] == "p@ss-word"
    plain = environment_for("redis://127.0.0.1:6379/0")
    assert (plain["REDIS_PASSWORD"], plain["REDIS_USE_SSL"]) == ("", "")


@pytest.mark.parametrize(("redis_url", "tls"), [("rediss://:secret@redis.internal:6380/0", True),
                                                 ("redis://127.0.0.1:6379/0", False)])
def test_rasas_lock_store_from_endpoints_yml_follows_the_url(
    redis_url: str, tls: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.core.lock_store import LockStore, RedisLockStore
    from rasa.utils.endpoints import read_endpoint_config

    for name, value in environment_for(redis_url).items():
        monkeypatch.setenv(name, value)
    store = LockStore.create(read_endpoint_config(str(PROJECT_DIR / "endpoints.yml"), "lock_store"))
    assert isinstance(store, RedisLockStore)
    pool = store.red.connection_pool
    assert (pool.connection_class is SSLConnection) is tls
    assert pool.connection_kwargs["password"] == ("secret" if tls else "")
