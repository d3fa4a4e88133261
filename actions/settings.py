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

from handoff.settings import positive_ints


@dataclass(frozen=True)
class VerificationSettings:
    lapse_seconds: int = 900
    max_failures: int = 3
    throttle_failures: int = 5
    throttle_window_seconds: int = 3600

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "VerificationSettings":
        return cls(**positive_ints(cls, environ, "VERIFICATION_"))
