"""Time the crisis screen: ``python -m screening.benchmark``.

Screens the labelled messages, repeated, one at a time and prints the median
and 99th-percentile wall time per message in microseconds, twice: once with
each message's own language, and once with ``"und"`` (undetermined), which is
how the product calls the screen (every language's patterns run on every
message). Prints figures only; it asserts nothing.
"""

from __future__ import annotations

import statistics
import time

from screening.crisis import CrisisScreen
from screening.evaluate import load_cases

TARGET_MESSAGES = 5000


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
    print(f"{label:<22} median {statistics.median(timings):7.1f}  p99 {p99:7.1f}  max {timings[-1]:8.1f}  us/message")


def main() -> None:
    """Run the benchmark and print the figures."""
    screen = CrisisScreen()
    cases = load_cases()
    repeats = -(-TARGET_MESSAGES // len(cases))
    own = [(case.text, case.language) for case in cases] * repeats
    und = [(case.text, "und") for case in cases] * repeats
    for text, language in own[: len(cases)] + und[: len(cases)]:
        screen.screen(text, language)
    print(f"messages screened: {len(own)} per run ({len(cases)} labelled messages x {repeats})")
    _print("own language:", _time(screen, own))
    _print('language "und":', _time(screen, und))
    long_text = " ".join(case.text for case in cases)[:4096]
    started = time.perf_counter_ns()
    screen.screen(long_text, "und")
    print(f'one 4 KB message, "und": {(time.perf_counter_ns() - started) / 1000:8.1f} us')


if __name__ == "__main__":
    main()
