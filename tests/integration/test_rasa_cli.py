"""The Rasa CLI works from the project root without flags, on the committed files."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_rasa_data_validate_without_flags_reads_the_committed_domain() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "data", "validate"],
        cwd=PROJECT_DIR,
        env=dict(os.environ, RASA_TELEMETRY_ENABLED="false"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "No story structure conflicts found" in output
    assert "Encountered empty domain" not in output
