"""Rasa's Redis lock store, on the primary Redis Sentinel names when ``REDIS_URL`` is a ``redis+sentinel`` URL.

Rasa's own ``type: redis`` connects to one host and port; endpoints.yml names this class instead, which is
that store on a single server and, with Sentinel, follows a failover to the new primary
(``handoff.redis_connection``). Rasa counts any lock store but the in-memory one as safe for several Sanic
workers (``SANIC_WORKERS``).
"""

from rasa.core.lock_store import DEFAULT_SOCKET_TIMEOUT_IN_SECONDS, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from handoff import HandoffSettings
from handoff.redis_connection import SentinelAddress, sync_redis


class SentinelAwareRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)
        redis_url = HandoffSettings.from_env().redis_url
        if SentinelAddress.parse(redis_url) is not None:
            timeout = endpoint_config.kwargs.get("socket_timeout", DEFAULT_SOCKET_TIMEOUT_IN_SECONDS)
            self.red = sync_redis(redis_url, socket_timeout=timeout)
