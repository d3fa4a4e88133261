"""``make profile``: where a bot turn's time goes in the Rasa process, ours (``patient``) against stock ``rest``.

Starts the bench system (``evaluation.bench_stack``), then for each channel records the Rasa server with py-spy
(sampling, on-CPU frames only) while one conversation talks to it without pause, and prints:

- the samples per turn, so the two channels' costs compare;
- the share of samples under each top-level part of our code (``connectors``, ``handoff``, ``screening``,
  ``languages``, ``actions``) and under Rasa's own message handling, inclusive;
- the functions of our code with the most inclusive samples.

The collapsed stacks are kept in ``.data/profile/<channel>.txt`` (for a flame graph). Prints figures; asserts
nothing. py-spy must be installed (``make profile`` installs it into the virtual environment).
"""

import argparse
import asyncio
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import aiohttp

from evaluation.bench_stack import BenchStack
from evaluation.turn_load import MESSAGES, Conversation

PROFILE_DIR = Path(".data/profile")
OUR_PARTS = ("connectors", "handoff", "screening", "languages", "actions")
RASA_AGENT_FILE = "rasa/core/agent.py"
IDLE_POOL_WORKER = "_worker (concurrent/futures/thread.py)"
FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^()]+)\)$")


def part_of(file: str) -> str:
    """The project part a frame's file belongs to, else ``other`` (py-spy names a file by its import path, so
    Rasa's ``rasa/core/actions/action.py`` is not ours)."""
    top = file.split("/")[0]
    return top if top in OUR_PARTS else "other"


def read_stacks(path: Path) -> list[tuple[list[str], int]]:
    """py-spy's collapsed stacks: ``frame;frame;... count`` per line, outermost first; without a thread pool's
    worker waiting for work (py-spy takes its wait for work: the crisis screen's pool would be a quarter of the
    patient channel's samples)."""
    stacks = []
    for line in path.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit() and not frames.endswith(IDLE_POOL_WORKER):
            stacks.append((frames.split(";"), int(count)))
    return stacks


def inclusive(stacks: list[tuple[list[str], int]]) -> tuple[Counter[str], Counter[str], int]:
    """Samples under each project part and each function of our code (a frame counted once per stack)."""
    parts: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for frames, count in stacks:
        total += count
        seen_parts: set[str] = set()
        seen_functions: set[str] = set()
        for frame in frames:
            match = FRAME.match(frame)
            if match is None:
                continue
            part = part_of(match["file"])
            if match["function"] == "handle_message" and match["file"].endswith(RASA_AGENT_FILE):
                seen_parts.add("rasa handle_message")
            if part != "other":
                seen_parts.add(part)
                seen_functions.add(f"{match['function']} ({match['file'].split('site-packages/')[-1]})")
        for part in seen_parts:
            parts[part] += count
        for function in seen_functions:
            functions[function] += count
    return parts, functions, total


async def talk(base: str, channel: str, seconds: float) -> int:
    """One conversation without pause for ``seconds``; returns the number of turns."""
    turns = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        patient = Conversation(http, base, channel)
        await patient.open()
        await patient.say(MESSAGES[0])
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        while loop.time() < until:
            await patient.say(MESSAGES[turns % len(MESSAGES)])
            turns += 1
    return turns


def profile(bench: BenchStack, channel: str, seconds: float) -> None:
    base = f"http://127.0.0.1:{bench.stack.config.rasa_port}"
    asyncio.run(talk(base, channel, 3))
    output = PROFILE_DIR / f"{channel}.txt"
    recorder = subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(bench.pids["rasa (1 worker)"]),
         "--duration", str(int(seconds)), "--format", "raw", "--nolineno", "--output", str(output)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    turns = asyncio.run(talk(base, channel, seconds))
    recorder.wait(timeout=seconds + 60)
    parts, functions, total = inclusive(read_stacks(output))
    print(f"\n{channel}: {turns} turns in {seconds:.0f} s, {total} samples, {total / max(turns, 1):.1f} samples per"
          f" turn ({output})")
    for part, count in parts.most_common():
        print(f"  {part:<22} {100 * count / total:5.1f} %   {count / max(turns, 1):5.1f} samples per turn")
    print("  our functions, inclusive:")
    for function, count in functions.most_common(15):
        print(f"    {100 * count / total:5.1f} %  {function}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long each channel is recorded")
    arguments = parser.parse_args()
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    with BenchStack(agent_capacity=1) as bench:
        for channel in ("rest", "patient"):
            profile(bench, channel, arguments.seconds)


if __name__ == "__main__":
    main()
