"""Configuration of the handoff library, read from environment variables in one place."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from handoff.coverage import CoverageHours
from handoff.crypto import KeyRing, KeyRingError
from handoff.keys import DEFAULT_NAMESPACE

MAX_MESSAGE_BYTES = 4096
"""Largest patient or agent message accepted, in UTF-8 bytes."""
DEFAULT_CRISIS_SPOOL = Path(".data/crisis-spool.jsonl")


@dataclass(frozen=True)
class HandoffSettings:
    redis_url: str
    data_keys: str
    agents_file: Optional[Path]
    namespace: str = DEFAULT_NAMESPACE
    coverage_file: Path = Path("coverage.yml")
    crisis_spool: Path = DEFAULT_CRISIS_SPOOL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "HandoffSettings":
        """Reads ``REDIS_URL``, ``HANDOFF_DATA_KEYS``, ``HANDOFF_AGENTS_FILE``, ``HANDOFF_NAMESPACE``,
        ``HANDOFF_COVERAGE_FILE``, ``HANDOFF_CRISIS_SPOOL``."""
        data_keys = environ.get("HANDOFF_DATA_KEYS", "")
        if not data_keys:
            raise KeyRingError(
                "HANDOFF_DATA_KEYS is not set: PHI at rest must be encrypted "
                "(make run creates a key ring under .data/ for local use)"
            )
        agents_file = environ.get("HANDOFF_AGENTS_FILE")
        return cls(
            redis_url=environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            data_keys=data_keys,
            agents_file=Path(agents_file) if agents_file else None,
            namespace=environ.get("HANDOFF_NAMESPACE", DEFAULT_NAMESPACE),
            coverage_file=Path(environ.get("HANDOFF_COVERAGE_FILE", "coverage.yml")),
            crisis_spool=Path(environ.get("HANDOFF_CRISIS_SPOOL") or DEFAULT_CRISIS_SPOOL),
        )

    def key_ring(self) -> KeyRing:
        return KeyRing.from_spec(self.data_keys)

    def coverage(self) -> CoverageHours:
        """Coverage hours from the file; without one, every queue is always staffed."""
        if not self.coverage_file.exists():
            return CoverageHours.always_open()
        return CoverageHours.from_file(self.coverage_file)
