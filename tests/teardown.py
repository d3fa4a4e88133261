"""Bounded teardown: the test run must end, with a reason, even when something it started will not stop.

A run that passed every test once hung in its session teardown until CI stopped it after 90 minutes, with no
word of where. Two guards:

- ``close_browser`` closes the shared Chromium and its Playwright driver within a deadline each, and kills them
  when one passes (a wedged Chromium is a known way for ``Browser.close()`` never to return).
- ``SessionTeardownWatchdog`` watches the session's final teardown: past its deadline it prints every thread's
  stack and kills every process the run started, so waits on them return; if the teardown is still stuck after
  a grace period, it ends the run with ``STUCK_EXIT_STATUS``, a failure that names itself.
"""

import asyncio
import faulthandler
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable

import psutil
import pytest
from playwright.async_api import Browser, Playwright

logger = logging.getLogger(__name__)

BROWSER_CLOSE_SECONDS = 30.0
SESSION_TEARDOWN_SECONDS = 300.0
STUCK_GRACE_SECONDS = 120.0
STUCK_EXIT_STATUS = 3
PLAYWRIGHT_DRIVER_ARGUMENT = "run-driver"


def kill_descendants(chosen: Callable[[psutil.Process], bool] = lambda _: True) -> list[str]:
    """SIGKILLs this process's descendants that ``chosen`` picks; returns their command names."""
    killed: list[str] = []
    for process in psutil.Process().children(recursive=True):
        try:
            if chosen(process):
                name = process.name()
                process.kill()
                killed.append(name)
        except psutil.NoSuchProcess:
            continue
    return killed


def _command_line_has(fragment: str) -> Callable[[psutil.Process], bool]:
    def chosen(process: psutil.Process) -> bool:
        return any(fragment in part for part in process.cmdline())

    return chosen


async def close_browser(browser: Browser, playwright: Playwright, chromium: str,
                        deadline_seconds: float = BROWSER_CLOSE_SECONDS) -> None:
    """Closes the browser, then stops Playwright's driver, each within ``deadline_seconds``; whichever does not
    stop in time is killed (the browser's processes by their binary, the driver by its ``run-driver``)."""
    try:
        await asyncio.wait_for(browser.close(), deadline_seconds)
    except asyncio.TimeoutError:
        logger.warning("browser.close() took over %.0f s; killed %s", deadline_seconds,
                       kill_descendants(_command_line_has(chromium)))
    try:
        await asyncio.wait_for(playwright.stop(), deadline_seconds)
    except asyncio.TimeoutError:
        logger.warning("the Playwright driver took over %.0f s to stop; killed %s", deadline_seconds,
                       kill_descendants(_command_line_has(PLAYWRIGHT_DRIVER_ARGUMENT)))


class SessionTeardownWatchdog:
    """Started when the last test's teardown begins (which tears down every session fixture), cancelled when
    it ends."""

    def __init__(self, deadline_seconds: float = SESSION_TEARDOWN_SECONDS,
                 grace_seconds: float = STUCK_GRACE_SECONDS, uncapture: Callable[[], None] = lambda: None) -> None:
        """``uncapture``: called before the first report, so that it reaches the run's real stderr (pytest's
        capture holds file descriptor 2 during a teardown)."""
        self._finished = threading.Event()
        self._uncapture = uncapture
        self._deadline_seconds = deadline_seconds
        self._grace_seconds = grace_seconds
        self._thread = threading.Thread(target=self._watch, name="session-teardown-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def finished(self) -> None:
        self._finished.set()

    def _watch(self) -> None:
        if self._finished.wait(self._deadline_seconds):
            return
        self._uncapture()
        err = sys.__stderr__
        assert err is not None
        print(f"\nsession teardown still running after {self._deadline_seconds:.0f} s; every thread's stack:",
              file=err, flush=True)
        faulthandler.dump_traceback(file=err, all_threads=True)
        print(f"killed what the run started, so that waits on it return: {kill_descendants()}", file=err, flush=True)
        if self._finished.wait(self._grace_seconds):
            return
        print(f"session teardown stuck {self._grace_seconds:.0f} s more; ending the run "
              f"with status {STUCK_EXIT_STATUS}", file=err, flush=True)
        faulthandler.dump_traceback(file=err, all_threads=True)
        os._exit(STUCK_EXIT_STATUS)


@contextmanager
def session_teardown_watched(config: pytest.Config, **deadlines: float) -> Iterator[None]:
    """Runs its block under a watchdog whose reports reach the run's stderr through pytest's capture."""
    capture = config.pluginmanager.getplugin("capturemanager")
    watchdog = SessionTeardownWatchdog(
        uncapture=(lambda: capture.suspend_global_capture(in_=False)) if capture else lambda: None, **deadlines
    )
    watchdog.start()
    try:
        yield
    finally:
        watchdog.finished()
