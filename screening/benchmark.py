"""Time the crisis screen: ``python -m screening.benchmark``.

Screens the labelled messages, repeated, one at a time and prints the median
and 99th-percentile wall time per message in microseconds. Prints figures
only; it asserts nothing.
"""

from __future__ import annotations

import statistics
import time

from screening.crisis import CrisisScreen
from screening.evaluate import load_cases

TARGET_MESSAGES = 5000


def main() -> None:
    """Run the benchmark and print the figures."""
    screen = CrisisScreen()
    cases = load_cases()
    repeats = -(-TARGET_MESSAGES // len(cases))
    messages = [(case.text, case.language) for case in cases] * repeats
    for text, language in messages[: len(cases)]:
        screen.screen(text, language)
    timings: list[float] = []
    clock = time.perf_counter_ns
    for text, language in messages:
        started = clock()
        screen.screen(text, language)
        timings.append((clock() - started) / 1000)
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(f"messages screened: {len(timings)} ({len(cases)} labelled messages x {repeats})")
    print(f"median: {statistics.median(timings):8.1f} us/message")
    print(f"p99:    {p99:8.1f} us/message")
    print(f"max:    {timings[-1]:8.1f} us/message")
    long_text = " ".join(case.text for case in cases)[:4096]
    started = clock()
    screen.screen(long_text, "unknown")
    print(f"one 4 KB message, unknown language: {(clock() - started) / 1000:8.1f} us")


if __name__ == "__main__":
    main()
