"""Settings of the identity-verification actions, read from environment variables in one place.

| variable | default | meaning |
|---|---|---|
| ``VERIFICATION_LAPSE_SECONDS`` | 900 | a verification is good for this long after it succeeded |
| ``VERIFICATION_MAX_FAILURES`` | 3 | failed attempts in one conversation before a person takes over |
| ``VERIFICATION_THROTTLE_FAILURES`` | 5 | failures on one member ID, across conversations, before it is throttled |
| ``VERIFICATION_THROTTLE_WINDOW_SECONDS`` | 3600 | how long those failures count |

Redis, the key ring and the namespace come from ``handoff.settings.HandoffSettings``.
"""

import os
from dataclasses import dataclass
from typing import Mapping


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    return value


@dataclass(frozen=True)
class VerificationSettings:
    lapse_seconds: int = 900
    max_failures: int = 3
    throttle_failures: int = 5
    throttle_window_seconds: int = 3600

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "VerificationSettings":
        return cls(
            lapse_seconds=_positive_int(environ, "VERIFICATION_LAPSE_SECONDS", cls.lapse_seconds),
            max_failures=_positive_int(environ, "VERIFICATION_MAX_FAILURES", cls.max_failures),
            throttle_failures=_positive_int(environ, "VERIFICATION_THROTTLE_FAILURES", cls.throttle_failures),
            throttle_window_seconds=_positive_int(
                environ, "VERIFICATION_THROTTLE_WINDOW_SECONDS", cls.throttle_window_seconds
            ),
        )
