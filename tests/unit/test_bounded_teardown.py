"""The guards that make a test run end (``tests.teardown``), each replayed on a teardown that never would."""

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil

from tests.teardown import STUCK_EXIT_STATUS, close_browser

PROJECT_DIR = Path(__file__).resolve().parents[2]
MARKER = "bounded-teardown-test-child"


def run_script(body: str) -> subprocess.CompletedProcess[str]:
    """Runs ``body`` in a Python process of its own: a watchdog may end the process it watches."""
    script = "import subprocess, sys, threading\nfrom tests.teardown import SessionTeardownWatchdog\n"
    return subprocess.run(
        [sys.executable, "-c", script + textwrap.dedent(body)],
        cwd=PROJECT_DIR,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_teardown_waiting_on_a_process_that_never_ends_is_freed_and_says_where_it_was() -> None:
    finished = run_script("""
        child = subprocess.Popen(["sleep", "600"])
        watchdog = SessionTeardownWatchdog(deadline_seconds=0.5, grace_seconds=30)
        watchdog.start()
        status = child.wait()
        watchdog.finished()
        print("teardown went on; the child ended with", status)
    """)
    assert finished.returncode == 0, finished.stderr
    assert "teardown went on; the child ended with -9" in finished.stdout
    assert "session teardown still running after 0 s" in finished.stderr
    assert "child.wait()" in finished.stderr or "in wait" in finished.stderr  # the stack of the stuck thread
    assert "killed what the run started, so that waits on it return: ['sleep']" in finished.stderr


def test_a_teardown_stuck_on_nothing_it_started_ends_the_run_with_a_failure_that_names_itself() -> None:
    stuck = run_script("""
        watchdog = SessionTeardownWatchdog(deadline_seconds=0.3, grace_seconds=0.3)
        watchdog.start()
        threading.Event().wait()
    """)
    assert stuck.returncode == STUCK_EXIT_STATUS
    assert "session teardown stuck 0 s more; ending the run with status 3" in stuck.stderr


def test_a_teardown_that_ends_in_time_is_left_alone() -> None:
    prompt = run_script("""
        child = subprocess.Popen(["sleep", "2"])
        watchdog = SessionTeardownWatchdog(deadline_seconds=1, grace_seconds=1)
        watchdog.start()
        watchdog.finished()
        print("the child ended with", child.wait())
    """)
    assert prompt.returncode == 0
    assert "the child ended with 0" in prompt.stdout
    assert prompt.stderr == ""


def test_a_pytest_session_stuck_in_its_teardown_says_so_on_the_real_stderr(tmp_path: Path) -> None:
    """pytest's capture holds file descriptor 2 during a teardown: the watchdog's report must get past it."""
    (tmp_path / "conftest.py").write_text(textwrap.dedent("""
        import threading
        from typing import Iterator, Optional

        import pytest

        from tests.teardown import session_teardown_watched


        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_teardown(item: pytest.Item, nextitem: Optional[pytest.Item]) -> Iterator[None]:
            with session_teardown_watched(item.config, deadline_seconds=0.5, grace_seconds=0.5):
                return (yield)


        @pytest.fixture(scope="session")
        def never_torn_down() -> Iterator[None]:
            yield
            threading.Event().wait()
    """))
    (tmp_path / "test_stuck.py").write_text("def test_passes(never_torn_down: None) -> None:\n    assert True\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == STUCK_EXIT_STATUS
    assert "session teardown still running after 0 s" in run.stderr
    assert "in never_torn_down" in run.stderr  # the stuck fixture, named in the stack
    assert "ending the run with status 3" in run.stderr


class WedgedBrowser:
    """A browser whose close never returns, as a wedged Chromium's does."""

    async def close(self) -> None:
        await asyncio.Event().wait()


class Driver:
    stopped = False

    async def stop(self) -> None:
        self.stopped = True


def test_a_browser_that_will_not_close_is_killed_and_the_driver_still_stopped() -> None:
    sleeping = [sys.executable, "-c", "import time; time.sleep(600)"]
    wedged = subprocess.Popen([*sleeping, MARKER])
    bystander = subprocess.Popen(sleeping)
    try:
        driver = Driver()
        asyncio.run(close_browser(WedgedBrowser(), driver, MARKER, deadline_seconds=0.3))  # type: ignore[arg-type]
        assert wedged.wait(timeout=10) == -9
        assert driver.stopped
        assert bystander.poll() is None and psutil.Process(bystander.pid).is_running()
    finally:
        for process in (wedged, bystander):
            process.kill()
            process.wait()
