"""The compiled-pattern cache of the crisis screen (screening/compiled.py): same findings, never stale (issue 13)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional

import pytest
import yaml

from screening import CrisisCategory, CrisisScreen
from screening.compiled import cache_key, load_compiled
from screening.evaluate import load_cases
from screening.patterns import PATTERN_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
LONG_BENIGN = "I need to reschedule my appointment and ask about my copay for the refill. " * 60
# what the labelled set may not spell out: spelling variants and clitic norms (set on the vocabulary), fillers and
# joins (rewritten), exclusions, negation and pseudo-negation, windows of a long message, code-switching
EXTRA_MESSAGES = [
    ("im suicidle", "en"), ("i m gonna kill myslef", "en"), ("I want to fucking die", "en"),
    ("this wait is killing me", "en"), ("I'm dying to know my copay", "en"),
    ("I'm not suicidal, I need a refill", "en"),
    ("not sure I want to live anymore", "en"), (LONG_BENIGN + " I took all my pills. " + LONG_BENIGN, "und"),
    ("أفكر بالانتحار", "ar"), ("وسأقتل نفسي", "ar"), ("我想自殺", "zh"), ("죽고 싶어요", "ko"),
    ("Tôi không muốn sống nữa", "und"), ("我需要续药, pero ya no quiero vivir", "zh"), ("refill my sertraline", "en"),
]


def _outcomes(screen: CrisisScreen, messages: list[tuple[str, str]]) -> list[object]:
    findings = [screen.screen(text, language) for text, language in messages]
    return [None if f is None else (f.category.value, f.evidence, f.language, f.source) for f in findings]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CrisisScreen]:
    """A cache holding the project's patterns, and the screen whose compile stored them (one compile of every
    language for the module: it is the slow part)."""
    cache_dir = tmp_path_factory.mktemp("compiled")
    return cache_dir, CrisisScreen(classifier=None, cache_dir=cache_dir, prepare_in_background=False)


def test_a_screen_read_from_the_cache_finds_exactly_what_a_freshly_compiled_one_finds(
    compiled: tuple[Path, CrisisScreen],
) -> None:
    cache_dir, fresh = compiled
    assert [path.name for path in cache_dir.iterdir()] == [f"{cache_key(PATTERN_DIR)}.json"]
    cached = CrisisScreen(classifier=None, cache_dir=cache_dir, prepare_in_background=False)
    cases = load_cases()
    messages = [(case.text, case.language) for case in cases] + [(case.text, "und") for case in cases] + EXTRA_MESSAGES
    expected = _outcomes(fresh, messages)
    assert sum(outcome is not None for outcome in expected) > len(cases) // 2
    assert _outcomes(cached, messages) == expected
    # the compiled data itself survives the round trip (read back, it writes what the compile stored), every
    # group's token patterns included
    stored = load_compiled(PATTERN_DIR, cache_dir)
    written = json.loads((cache_dir / f"{cache_key(PATTERN_DIR)}.json").read_text(encoding="utf-8"))["screen"]
    for group in (group for language in stored.languages for group in [*language.groups, *language.exclusion_groups]):
        group.token_patterns()
    assert json.loads(json.dumps(stored.to_json())) == written


def _english_patterns(directory: Path, phrase: Optional[str] = None) -> Path:
    """A pattern directory of English alone (compiled in a fraction of the time of every language), with
    ``phrase`` added as a suicide and self-harm pattern."""
    pattern_dir = directory / "patterns"
    pattern_dir.mkdir(parents=True)
    data = yaml.safe_load((PATTERN_DIR / "en.yml").read_text(encoding="utf-8"))
    if phrase is not None:
        data["categories"]["suicide_self_harm"]["absolute"].append(phrase)
    (pattern_dir / "en.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return pattern_dir


def test_a_changed_pattern_file_is_compiled_afresh_never_read_from_a_stale_cache(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    CrisisScreen(_english_patterns(tmp_path / "before"), classifier=None, cache_dir=cache_dir,
                 prepare_in_background=False)
    (stale,) = cache_dir.iterdir()
    pattern_dir = _english_patterns(tmp_path / "after", "zorblax tonight")
    assert cache_key(pattern_dir) != stale.stem
    # an attacker (or a crash) leaves the old compiled patterns under the new content's name
    shutil.copy(stale, cache_dir / f"{cache_key(pattern_dir)}.json")
    screen = CrisisScreen(pattern_dir, classifier=None, cache_dir=cache_dir, prepare_in_background=False)
    finding = screen.screen("i will zorblax tonight", "en")
    assert finding is not None and finding.category is CrisisCategory.SUICIDE_SELF_HARM
    assert json.loads((cache_dir / f"{cache_key(pattern_dir)}.json").read_text())["key"] == cache_key(pattern_dir)


@pytest.mark.parametrize("damage", ["", "{", '{"key": 1}', "[]", "null"])
def test_an_unreadable_cache_file_is_replaced_by_a_fresh_compile(tmp_path: Path, damage: str) -> None:
    pattern_dir = _english_patterns(tmp_path, "zorblax tonight")
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / f"{cache_key(pattern_dir)}.json").write_text(damage)
    screen = CrisisScreen(pattern_dir, classifier=None, cache_dir=cache_dir, prepare_in_background=False)
    finding = screen.screen("i will zorblax tonight", "en")
    assert finding is not None and finding.category is CrisisCategory.SUICIDE_SELF_HARM


def test_a_cached_screen_starts_without_spacy_and_imports_it_only_to_match(
    compiled: tuple[Path, CrisisScreen],
) -> None:
    cache_dir = compiled[0]
    script = f"""
        import json, sys
        from pathlib import Path
        import screening
        screen = screening.CrisisScreen(cache_dir=Path({str(cache_dir)!r}), prepare_in_background=False)
        started = {{"spacy": "spacy" in sys.modules, "compiler": "screening.compiler" in sys.modules}}
        benign = screen.screen("thank you", "und")
        benign_spacy = "spacy" in sys.modules
        finding = screen.screen("I want to kill myself", "und")
        prepared = screening.CrisisScreen(cache_dir=Path({str(cache_dir)!r}))
        print(json.dumps({{
            "started": started, "benign": benign is None, "benign_spacy": benign_spacy,
            "finding": finding and [finding.category.value, finding.evidence, finding.source],
            "prepared": prepared.wait_prepared(timeout=600),
            "tensorflow": sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow"),
        }}))
        """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                            check=True, cwd=REPO_ROOT)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {
        "started": {"spacy": False, "compiler": False}, "benign": True, "benign_spacy": False,
        "finding": ["suicide_self_harm", "kill myself", "rules"], "prepared": True, "tensorflow": [],
    }


def test_a_process_forked_the_moment_the_screen_is_built_screens_in_the_child() -> None:
    # Rasa's Sanic forks its workers right after the channels build their screen, while the screen still
    # prepares spaCy in a thread; a child that inherited a held lock or a half-imported spaCy would hang
    script = """
        import json, os, sys
        import screening
        screen = screening.CrisisScreen()
        pid = os.fork()
        if pid == 0:
            finding = screen.screen("I want to kill myself", "und")
            os._exit(0 if finding is not None and finding.evidence == "kill myself" else 3)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"child": os.waitstatus_to_exitcode(status), "parent": screen.wait_prepared()}))
        """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                            check=True, cwd=REPO_ROOT, timeout=300)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"child": 0, "parent": True}
