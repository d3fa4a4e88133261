"""The committed ``domain.yml`` is exactly what ``domain/`` gives, and nothing trains on one that is not."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain

from languages.catalog import LanguageCatalog
from stack.domain import ASSEMBLED_DOMAIN, REGENERATE, StaleDomain, assembled_domain, staleness, write_domain
from stack.model import ensure_model

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_the_committed_domain_is_what_the_sources_give() -> None:
    assert staleness(PROJECT_DIR) is None, staleness(PROJECT_DIR)


def test_every_response_has_one_variation_per_bot_language() -> None:
    domain = Domain.load(str(PROJECT_DIR / ASSEMBLED_DOMAIN))
    bot_languages = sorted(LanguageCatalog.load().bot_languages)
    for name, variations in domain.responses.items():
        languages = sorted(
            condition["value"]
            for variation in variations
            for condition in variation.get("condition") or [{"name": None}]
            if condition["name"] == "language"
        )
        assert languages == bot_languages, f"{name}: variations for {languages}, bot languages {bot_languages}"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the domain sources and the committed ``domain.yml``."""
    shutil.copytree(PROJECT_DIR / "domain", tmp_path / "domain")
    shutil.copy(PROJECT_DIR / ASSEMBLED_DOMAIN, tmp_path / ASSEMBLED_DOMAIN)
    return tmp_path


def check(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stack.domain", "--check"], cwd=project, capture_output=True, text=True, timeout=60
    )


def test_check_passes_on_the_committed_domain(project: Path) -> None:
    result = check(project)
    assert result.returncode == 0, result.stderr


def test_an_edited_response_source_makes_the_check_fail_and_changes_nothing(project: Path) -> None:
    spanish = project / "domain" / "responses" / "es.yml"
    spanish.write_text(spanish.read_text(encoding="utf-8").replace("¡Hola!", "¡Buenas!", 1), encoding="utf-8")
    before = (project / ASSEMBLED_DOMAIN).read_bytes()
    result = check(project)
    assert result.returncode == 1
    assert "domain.yml is out of date" in result.stderr and REGENERATE in result.stderr
    assert (project / ASSEMBLED_DOMAIN).read_bytes() == before
    assert write_domain(project)
    assert "¡Buenas!" in (project / ASSEMBLED_DOMAIN).read_text(encoding="utf-8")
    assert check(project).returncode == 0


def test_a_hand_edit_of_domain_yml_makes_the_check_fail(project: Path) -> None:
    target = project / ASSEMBLED_DOMAIN
    target.write_text(target.read_text(encoding="utf-8") + "  - an_intent_only_here\n", encoding="utf-8")
    assert check(project).returncode == 1
    target.write_text(assembled_domain(project).replace("# GENERATED", "# generated", 1), encoding="utf-8")
    assert check(project).returncode == 1


def test_a_missing_domain_yml_makes_the_check_fail(project: Path) -> None:
    (project / ASSEMBLED_DOMAIN).unlink()
    result = check(project)
    assert result.returncode == 1
    assert "domain.yml is missing" in result.stderr


def test_no_model_is_trained_or_picked_for_an_out_of_date_domain(project: Path) -> None:
    """A model trained on a stale domain.yml would be cached under the name of sources it never saw."""
    (project / "domain" / "bot.yml").write_text(
        (project / "domain" / "bot.yml").read_text(encoding="utf-8").replace("  - greet\n", "  - greet\n  - thank\n"),
        encoding="utf-8",
    )
    trainer = project / "rasa-that-must-not-run"
    with pytest.raises(StaleDomain, match="out of date"):
        ensure_model(project, str(trainer))
    assert not (project / "models").exists()
