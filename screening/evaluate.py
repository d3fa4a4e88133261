"""Evaluate the crisis screen on the labelled set: ``python -m screening.evaluate``.

Prints recall (crisis messages flagged with the right category) and
false-positive rates (all non-crisis messages, and hard negatives alone) per
language, per category and overall, then every miss and false alarm.
Exits 1 if recall is below 100 % or the hard-negative FPR is above 3 %.
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


@dataclass(frozen=True)
class LabelledCase:
    """One labelled message."""

    language: str
    text: str
    label: str
    kind: str


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


def load_cases(data_dir: Path = DATA_DIR) -> list[LabelledCase]:
    """Load every ``<lang>.yml`` labelled file in ``data_dir``."""
    cases: list[LabelledCase] = []
    for path in sorted(data_dir.glob("*.yml")):
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        language = str(data["language"])
        cases.extend(
            LabelledCase(language, str(item["text"]), str(item["label"]), str(item["kind"]))
            for item in data["cases"]
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


def report(outcomes: list[Outcome]) -> tuple[str, float, float]:
    """Build the text report.

    Returns:
        ``(report, recall, hard_negative_fpr)`` over all outcomes.
    """
    header = f"{'group':<20} {'cases':>5} {'recalled':>9} {'recall':>7} {'false pos':>9} {'FPR':>7}"
    header += f" {'hard FP':>9} {'hardFPR':>7}"
    lines = [header, "-" * len(header)]
    languages = sorted({o.case.language for o in outcomes})
    for language in languages:
        lines.append(_row(f"lang {language}", [o for o in outcomes if o.case.language == language]))
    for label in sorted({o.case.label for o in outcomes}):
        lines.append(_row(f"cat {label}", [o for o in outcomes if o.case.label == label]))
    for kind in sorted({o.case.kind for o in outcomes}):
        lines.append(_row(f"kind {kind}", [o for o in outcomes if o.case.kind == kind]))
    lines.append("-" * len(header))
    lines.append(_row("overall", outcomes))
    errors = [o for o in outcomes if not o.correct]
    if errors:
        lines.append("\nerrors:")
        lines.extend(
            f"  [{o.case.language}] expected {o.case.label}, got {o.predicted}: {o.case.text!r}"
            for o in errors
        )
    crisis = [o for o in outcomes if o.is_crisis]
    hard = [o for o in outcomes if o.case.kind == "hard_negative"]
    recall = sum(o.correct for o in crisis) / len(crisis) if crisis else 1.0
    hard_fpr = sum(not o.correct for o in hard) / len(hard) if hard else 0.0
    return "\n".join(lines), recall, hard_fpr


def main() -> int:
    """Run the evaluation and return the process exit status."""
    text, recall, hard_fpr = report(run(CrisisScreen(), load_cases()))
    print(text)
    passed = recall >= 1.0 and hard_fpr <= MAX_HARD_NEGATIVE_FPR
    print(f"\nrecall {recall:.1%} (target 100%), hard-negative FPR {hard_fpr:.1%} (target <= 3%):", end=" ")
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
