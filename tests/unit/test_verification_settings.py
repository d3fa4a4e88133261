"""Verification settings come from the environment, in one place, and bad values fail loudly."""

import pytest

from actions.settings import VerificationSettings


def test_defaults_lapse_after_15_minutes_and_hand_off_after_3_failures() -> None:
    settings = VerificationSettings.from_env({})
    assert (settings.lapse_seconds, settings.max_failures) == (900, 3)
    assert settings.throttle_failures >= settings.max_failures


def test_environment_overrides_each_setting() -> None:
    settings = VerificationSettings.from_env(
        {
            "VERIFICATION_LAPSE_SECONDS": "60",
            "VERIFICATION_MAX_FAILURES": "2",
            "VERIFICATION_THROTTLE_FAILURES": "4",
            "VERIFICATION_THROTTLE_WINDOW_SECONDS": "120",
        }
    )
    assert settings == VerificationSettings(60, 2, 4, 120)


@pytest.mark.parametrize("value", ["0", "-5", "ten", "1.5"])
def test_a_bad_value_is_refused_not_silently_defaulted(value: str) -> None:
    with pytest.raises(ValueError, match="VERIFICATION_MAX_FAILURES"):
        VerificationSettings.from_env({"VERIFICATION_MAX_FAILURES": value})
