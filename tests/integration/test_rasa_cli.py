"""The Rasa CLI works from the project root without flags, on the committed files."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from stack.model import ensure_model

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


def form_answer_failures(failed_test_stories: str) -> list[str]:
    """Steps of failed stories (Rasa marks them ``# predicted: <intent>: <text>``) that answer the identity form."""
    failures, story, in_form = [], "", False
    for line in failed_test_stories.splitlines():
        if line.startswith("- story:"):
            story, in_form = line, False
        in_form = in_form or "active_loop: identity_form" in line
        if in_form and "# predicted:" in line:
            failures.append(f"{story}: {line.strip()}")
    return failures


def test_plain_rasa_test_core_from_the_root_reads_every_form_answer_as_labelled() -> None:
    """``rasa test core`` with no flags, the stories half of ``rasa test`` (NLU runs on every user step, form answers
    included; the NLU half evaluates data/nlu, some 8 minutes here, and is left to ``make eval``).

    Form answers (names, dates, member IDs) are labelled with the intent the model reads in them, so no story fails
    on one; the stories then prove the form carries on whatever that intent is.
    """
    ensure_model(PROJECT_DIR, str(Path(sys.executable).parent / "rasa"))  # the newest model in models/, as Rasa picks
    results = PROJECT_DIR / "results"
    shutil.rmtree(results, ignore_errors=True)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "test", "core"],
        cwd=PROJECT_DIR,
        env=dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2"),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    story_files = [PROJECT_DIR / "tests" / "test_stories.yml", *(PROJECT_DIR / "tests" / "stories").glob("test_*.yml")]
    stories = sum(len(yaml.safe_load(path.read_text())["stories"]) for path in story_files)
    assert f"Evaluating {stories} stories" in output
    assert form_answer_failures((results / "failed_test_stories.yml").read_text()) == []
