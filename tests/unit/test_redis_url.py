"""REDIS_URL names one server or a Sentinel-managed primary; anything else is refused with a clear error."""

import pytest

from handoff.crypto import generate_key_ring_spec
from handoff.redis_connection import RedisUrlError, SentinelAddress, check_redis_url
from handoff.settings import HandoffSettings, SettingsError
from stack.services import rasa_store_environment


def test_a_sentinel_url_names_every_sentinel_the_service_the_database_and_the_password() -> None:
    address = SentinelAddress.parse("redis+sentinel://:s3cret%40x@10.0.0.1:26379,10.0.0.2:26380,sentinel-c:26381/hcb/2")
    assert address == SentinelAddress(
        (("10.0.0.1", 26379), ("10.0.0.2", 26380), ("sentinel-c", 26381)), "hcb", 2, "s3cret@x"
    )
    assert SentinelAddress.parse("redis+sentinel://127.0.0.1:26379/hcb") == SentinelAddress(
        (("127.0.0.1", 26379),), "hcb", 0, None
    )


def test_only_a_rediss_sentinel_url_speaks_tls_to_sentinels_and_servers() -> None:
    tls = SentinelAddress.parse("rediss+sentinel://:pw@10.0.0.1:26379,10.0.0.2:26379/hcb/1")
    assert tls == SentinelAddress((("10.0.0.1", 26379), ("10.0.0.2", 26379)), "hcb", 1, "pw", tls=True)
    assert tls.connection_options() == {"ssl": True}
    check_redis_url("REDISS+SENTINEL://10.0.0.1:26379/hcb")
    plain = SentinelAddress.parse("redis+sentinel://10.0.0.1:26379/hcb")
    assert plain is not None and not plain.tls and plain.connection_options() == {}


def test_plain_urls_are_not_sentinel_urls() -> None:
    for url in ("redis://127.0.0.1:6379/0", "rediss://:pw@redis.internal:6380/0", "unix:///run/redis.sock"):
        assert SentinelAddress.parse(url) is None
        check_redis_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "redis+sentinel://127.0.0.1:26379",  # no service
        "redis+sentinel:///hcb",  # no sentinel
        "redis+sentinel://127.0.0.1/hcb",  # no port
        "redis+sentinel://127.0.0.1:99999/hcb",  # port out of range
        "redis+sentinel://127.0.0.1:26379,:26380/hcb",  # a sentinel without a host
        "redis+sentinel://127.0.0.1:26379/hcb/zero",  # database not a number
        "rediss+sentinel://127.0.0.1:26379",  # no service, over TLS
        "redis+sentinels://127.0.0.1:26379/hcb",  # no such scheme
        "http://127.0.0.1:6379/0",
        "127.0.0.1:6379",
    ],
)
def test_a_malformed_redis_url_is_refused_naming_the_problem(url: str) -> None:
    with pytest.raises(RedisUrlError):
        check_redis_url(url)
    with pytest.raises(SettingsError, match=r"REDIS_URL|sentinel"):
        HandoffSettings.from_env({"REDIS_URL": url, "HANDOFF_DATA_KEYS": generate_key_ring_spec()})


def test_rasa_stores_get_the_first_sentinel_and_the_database_of_a_sentinel_url() -> None:
    assert rasa_store_environment("redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2:26379/hcb/3") == {
        "REDIS_HOST": "10.0.0.1", "REDIS_PORT": "26379", "REDIS_DB": "3", "REDIS_PASSWORD": "pw", "REDIS_USE_SSL": "",
    }
    assert rasa_store_environment("rediss://:p%40w@redis.internal:6380/1") == {
        "REDIS_HOST": "redis.internal", "REDIS_PORT": "6380", "REDIS_DB": "1", "REDIS_PASSWORD": "p@w",
        "REDIS_USE_SSL": "true",
    }
