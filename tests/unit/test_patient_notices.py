"""Every notice the connector or the console sends a patient exists in every language we route.

Read straight from ``languages/*.yml``: a language cannot ship with a notice missing, which would
reach its patients in English and Spanish instead.
"""

from pathlib import Path

import pytest
import yaml

LANGUAGES_DIR = Path(__file__).resolve().parents[2] / "languages"
LANGUAGE_FILES = sorted(LANGUAGES_DIR.glob("*.yml"))


def notices(path: Path) -> dict[str, str]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8"))["notices"])


@pytest.mark.parametrize("path", LANGUAGE_FILES, ids=lambda p: p.stem)
def test_every_language_has_every_notice(path: Path) -> None:
    assert set(notices(path)) == set(notices(LANGUAGES_DIR / "en.yml"))


@pytest.mark.parametrize("path", LANGUAGE_FILES, ids=lambda p: p.stem)
def test_a_patient_whose_agent_left_is_told_where_to_turn_in_an_emergency(path: Path) -> None:
    text = notices(path)["agent_left"]
    assert "911" in text and "{" not in text
    if path.stem != "en":
        assert text != notices(LANGUAGES_DIR / "en.yml")["agent_left"], "translated, not copied"
