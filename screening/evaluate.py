"""Evaluate the crisis screen on the labelled set: ``python -m screening.evaluate``.

Each ``tests/data/crisis/<lang>.yml`` holds two splits:

* ``cases``: the tuning set. Patterns are written and corrected against it.
* ``held_out`` (optional): written at the same time, before any pattern for
  the language existed, and never used to tune. Its figures estimate how the
  patterns do on messages nobody tuned them for.

Prints, for the tuning set, recall (crisis messages flagged with the right
category) and false-positive rates (all non-crisis messages, and hard
negatives alone) per language, category and kind, then the same per language
for the held-out split, then every miss and false alarm of both.
Exits 1 if tuning-set recall is below 100 % or its hard-negative FPR is above
3 %; held-out figures are reported, not gated (gating them would turn them
into a tuning set).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from screening.crisis import CrisisScreen

DATA_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "crisis"
NONE_LABEL = "none"
MAX_HARD_NEGATIVE_FPR = 0.03
TUNED = "tuned"
HELD_OUT = "held_out"
_SPLIT_KEYS = {TUNED: "cases", HELD_OUT: "held_out"}
UNDETERMINED = "und"


@dataclass(frozen=True)
class LabelledCase:
    """One labelled message."""

    language: str
    text: str
    label: str
    kind: str
    split: str = TUNED


@dataclass(frozen=True)
class Outcome:
    """A labelled case and what the screen said about it."""

    case: LabelledCase
    predicted: str

    @property
    def is_crisis(self) -> bool:
        return self.case.label != NONE_LABEL

    @property
    def correct(self) -> bool:
        return self.predicted == self.case.label


def load_cases(data_dir: Path = DATA_DIR, splits: Iterable[str] = (TUNED, HELD_OUT)) -> list[LabelledCase]:
    """Load every ``<lang>.yml`` labelled file in ``data_dir``.

    Args:
        data_dir: Directory of labelled files.
        splits: Which splits to load: ``"tuned"`` (key ``cases``) and/or
            ``"held_out"`` (key ``held_out``).
    """
    cases: list[LabelledCase] = []
    for path in sorted(data_dir.glob("*.yml")):
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        language = str(data["language"])
        for split in splits:
            cases.extend(
                LabelledCase(language, str(item["text"]), str(item["label"]), str(item["kind"]), split)
                for item in data.get(_SPLIT_KEYS[split]) or []
            )
    return cases


def run(screen: CrisisScreen, cases: Iterable[LabelledCase]) -> list[Outcome]:
    """Screen every case in its own language."""
    outcomes = []
    for case in cases:
        finding = screen.screen(case.text, case.language)
        outcomes.append(Outcome(case, finding.category.value if finding else NONE_LABEL))
    return outcomes


def _rate(numerator: int, denominator: int) -> str:
    return f"{100 * numerator / denominator:6.1f}%" if denominator else "     -"


def _row(name: str, outcomes: list[Outcome]) -> str:
    crisis = [o for o in outcomes if o.is_crisis]
    negatives = [o for o in outcomes if not o.is_crisis]
    hard = [o for o in negatives if o.case.kind == "hard_negative"]
    recalled = sum(o.correct for o in crisis)
    false_positives = sum(not o.correct for o in negatives)
    hard_false_positives = sum(not o.correct for o in hard)
    return (
        f"{name:<20} {len(outcomes):>5} {recalled:>4}/{len(crisis):<4} {_rate(recalled, len(crisis))}"
        f" {false_positives:>4}/{len(negatives):<4} {_rate(false_positives, len(negatives))}"
        f" {hard_false_positives:>4}/{len(hard):<4} {_rate(hard_false_positives, len(hard))}"
    )


def rates(outcomes: list[Outcome]) -> tuple[float, float]:
    """``(recall, hard_negative_fpr)`` of some outcomes (1.0 / 0.0 when empty)."""
    crisis = [o for o in outcomes if o.is_crisis]
    hard = [o for o in outcomes if o.case.kind == "hard_negative"]
    recall = sum(o.correct for o in crisis) / len(crisis) if crisis else 1.0
    hard_fpr = sum(not o.correct for o in hard) / len(hard) if hard else 0.0
    return recall, hard_fpr


def report(outcomes: list[Outcome]) -> tuple[str, float, float]:
    """Build the text report.

    Returns:
        ``(report, recall, hard_negative_fpr)`` over the tuning-set outcomes.
    """
    header = f"{'group':<24} {'cases':>5} {'recalled':>9} {'recall':>7} {'false pos':>9} {'FPR':>7}"
    header += f" {'hard FP':>9} {'hardFPR':>7}"
    rule = "-" * len(header)
    tuned = [o for o in outcomes if o.case.split == TUNED]
    held_out = [o for o in outcomes if o.case.split == HELD_OUT]
    lines = ["tuning set (cases the patterns were written and corrected against)", header, rule]
    languages = sorted({o.case.language for o in outcomes})
    for language in languages:
        lines.append(_row(f"lang {language}", [o for o in tuned if o.case.language == language]))
    for label in sorted({o.case.label for o in tuned}):
        lines.append(_row(f"cat {label}", [o for o in tuned if o.case.label == label]))
    for kind in sorted({o.case.kind for o in tuned}):
        lines.append(_row(f"kind {kind}", [o for o in tuned if o.case.kind == kind]))
    lines += [rule, _row("overall", tuned)]
    if held_out:
        lines += ["", "held-out split (never used to tune)", header, rule]
        for language in languages:
            group = [o for o in held_out if o.case.language == language]
            if group:
                lines.append(_row(f"lang {language}", group))
        lines += [rule, _row("overall", held_out)]
    for name, group in (("tuning-set", tuned), ("held-out", held_out)):
        errors = [o for o in group if not o.correct]
        if errors:
            lines.append(f"\n{name} errors:")
            lines.extend(
                f"  [{o.case.language}] expected {o.case.label}, got {o.predicted}: {o.case.text!r}"
                for o in errors
            )
    recall, hard_fpr = rates(tuned)
    return "\n".join(lines), recall, hard_fpr


def run_undetermined(screen: CrisisScreen, cases: Iterable[LabelledCase]) -> list[Outcome]:
    """Screen every case as ``"und"``: every language's patterns, as the connector does."""
    outcomes = []
    for case in cases:
        finding = screen.screen(case.text, UNDETERMINED)
        outcomes.append(Outcome(case, finding.category.value if finding else NONE_LABEL))
    return outcomes


def _undetermined_report(outcomes: list[Outcome]) -> str:
    lines = [f'\nevery message screened as "{UNDETERMINED}" (all languages, as the connector screens):']
    for name, split in (("tuning set", TUNED), ("held-out", HELD_OUT)):
        recall, hard_fpr = rates([o for o in outcomes if o.case.split == split])
        lines.append(f"  {name:<10} recall {recall:6.1%}  hard-negative FPR {hard_fpr:5.1%}")
    lines.extend(
        f"  [{o.case.language}/{o.case.split}] expected {o.case.label}, got {o.predicted}: {o.case.text!r}"
        for o in outcomes
        if not o.correct
    )
    return "\n".join(lines)


def main() -> int:
    """Run the evaluation and return the process exit status."""
    screen = CrisisScreen()
    cases = load_cases()
    outcomes = run(screen, cases)
    text, recall, hard_fpr = report(outcomes)
    print(text)
    print(_undetermined_report(run_undetermined(screen, cases)))
    held_recall, held_fpr = rates([o for o in outcomes if o.case.split == HELD_OUT])
    print(f"\nheld-out: recall {held_recall:.1%}, hard-negative FPR {held_fpr:.1%} (reported, not gated)")
    passed = recall >= 1.0 and hard_fpr <= MAX_HARD_NEGATIVE_FPR
    print(f"tuning set: recall {recall:.1%} (target 100%), hard-negative FPR {hard_fpr:.1%} (target <= 3%):", end=" ")
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
