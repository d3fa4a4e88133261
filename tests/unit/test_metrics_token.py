"""``METRICS_TOKEN``: a generated secret or nothing; ``/metrics`` opens only to ``Bearer <token>``, and to nobody
when no token is set; ``make run``'s processes all get the same token."""

import secrets
from pathlib import Path

import pytest

from handoff.crypto import generate_key_ring_spec
from handoff.metrics import scrape_refusal
from handoff.settings import HandoffSettings, SettingsError
from stack.services import Stack, StackConfig

TOKEN = secrets.token_urlsafe(32)
ENVIRONMENT = {"HANDOFF_DATA_KEYS": generate_key_ring_spec()}


def test_a_generated_token_is_taken_and_none_leaves_metrics_closed() -> None:
    assert HandoffSettings.from_env(dict(ENVIRONMENT, METRICS_TOKEN=TOKEN)).metrics_token == TOKEN
    assert HandoffSettings.from_env(ENVIRONMENT).metrics_token == ""
    assert scrape_refusal(f"Bearer {TOKEN}", "") is not None, "no token set: nobody reads the metrics"


@pytest.mark.parametrize("token", ["prometheus", "x" * 31, f"{TOKEN[:20]} {TOKEN[20:]}", f"{TOKEN}\n"])
def test_a_guessable_or_malformed_token_stops_the_process_naming_the_variable(token: str) -> None:
    with pytest.raises(SettingsError, match="METRICS_TOKEN must be a generated secret of at least 32 characters"):
        HandoffSettings.from_env(dict(ENVIRONMENT, METRICS_TOKEN=token))


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", TOKEN, f"Basic {TOKEN}", f"bearer {TOKEN}",
                                           f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN} ", f"Bearer  {TOKEN}"])
def test_only_the_exact_bearer_token_reads_the_metrics(authorization: str) -> None:
    assert scrape_refusal(authorization, TOKEN) == "send the metrics token: Authorization: Bearer <METRICS_TOKEN>"
    assert scrape_refusal(f"Bearer {TOKEN}", TOKEN) is None


def test_every_process_of_a_run_gets_the_token() -> None:
    config = StackConfig(data_dir=Path("unused"), data_keys="unused", agents_file=Path("unused"),
                         redis_url="redis://127.0.0.1:6379/0", metrics_token=TOKEN)
    stack = Stack(config)
    assert stack.environment()["METRICS_TOKEN"] == TOKEN
    assert stack.console_environment()["METRICS_TOKEN"] == TOKEN
