"""Time the crisis screen: ``python -m screening.benchmark``.

Screens the labelled messages, repeated, one at a time and prints the median
and 99th-percentile wall time per message in microseconds, twice: once with
each message's own language, and once with ``"und"`` (undetermined), which is
how the product calls the screen (every language's patterns run on every
message). Then times 4 KB messages (the largest the connector accepts) with
``"und"``: one made of every labelled message (crisis-dense: the screen can
stop at the first crisis) and one made of the non-crisis messages only (the
worst case: every window is screened and nothing ends the search early).
Every figure is printed twice: for the rules alone, and with the learned
classifier (``CrisisScreen()``, what the product runs; the classifier scores
every message the rules do not flag, so benign messages cost the most).
Targets: p99 <= 500 us for a typical message, <= 5 ms for a 4 KB one.
Prints figures only; it asserts nothing.
"""

from __future__ import annotations

import statistics
import time

from screening.crisis import CrisisScreen
from screening.evaluate import NONE_LABEL, LabelledCase, load_cases

TARGET_MESSAGES = 5000
LONG_MESSAGE_CHARS = 4096
LONG_MESSAGE_RUNS = 50


def _time(screen: CrisisScreen, messages: list[tuple[str, str]]) -> list[float]:
    clock = time.perf_counter_ns
    timings: list[float] = []
    for text, language in messages:
        started = clock()
        screen.screen(text, language)
        timings.append((clock() - started) / 1000)
    timings.sort()
    return timings


def _print(label: str, timings: list[float]) -> None:
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(f"{label:<20} median {statistics.median(timings):7.1f}  p99 {p99:7.1f}  max {timings[-1]:8.1f}  us/message")


def _run(screen: CrisisScreen, cases: list[LabelledCase]) -> None:
    repeats = -(-TARGET_MESSAGES // len(cases))
    own = [(case.text, case.language) for case in cases] * repeats
    und = [(case.text, "und") for case in cases] * repeats
    for text, language in own[: len(cases)] + und[: len(cases)]:
        screen.screen(text, language)
    print(f"  messages screened: {len(own)} per run ({len(cases)} labelled messages x {repeats})")
    _print("  own language:", _time(screen, own))
    _print('  language "und":', _time(screen, und))
    crisis_dense = " ".join(case.text for case in cases)[:LONG_MESSAGE_CHARS]
    benign = " ".join(case.text for case in cases if case.label == NONE_LABEL)[:LONG_MESSAGE_CHARS]
    for label, text in (("  4 KB crisis-dense:", crisis_dense), ("  4 KB non-crisis:", benign)):
        screen.screen(text, "und")
        _print(label, _time(screen, [(text, "und")] * LONG_MESSAGE_RUNS))


def main() -> None:
    """Run the benchmark and print the figures."""
    cases = load_cases()
    for label, screen in (("rules only", CrisisScreen(classifier=None)), ("rules + classifier", CrisisScreen())):
        print(label)
        _run(screen, cases)


if __name__ == "__main__":
    main()
