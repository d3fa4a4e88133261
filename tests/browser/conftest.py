"""A real Chromium, driven by Playwright's async API, for end-to-end tests of the two web pages.

Uses the system browser (Debian's ``chromium`` package); Playwright's own browser downloads are
never used. Set ``CHROMIUM`` to point at another binary. A missing browser fails the tests.
"""

import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, ViewportSize, async_playwright, expect

from tests.teardown import close_browser

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(os.environ.get("BROWSER_SHOTS", Path(tempfile.gettempdir()) / "browser-shots"))
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=800)
# Generous: the first bot replies wait for Rasa; a person would wait too.
WAIT_MS = 30_000

NewContext = Callable[[ViewportSize], Awaitable[BrowserContext]]


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The browser binary; its absence is a failure, never a skip."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install it with `apt-get install -y chromium` "
            "or set CHROMIUM to the browser binary",
            pytrace=False,
        )
    return CHROMIUM


@pytest_asyncio.fixture(scope="package")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """One browser for the browser tests, closed (or killed) when they are done."""
    expect.set_options(timeout=WAIT_MS)
    playwright = await async_playwright().start()
    try:
        launched = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
    except BaseException:
        await playwright.stop()
        raise
    yield launched
    await close_browser(launched, playwright, str(chromium))


@pytest_asyncio.fixture
async def new_context(browser: Browser) -> AsyncIterator[NewContext]:
    """Opens isolated browser contexts (separate cookies and sessionStorage), closed after the test."""
    opened: list[BrowserContext] = []

    async def open_context(viewport: ViewportSize) -> BrowserContext:
        context = await browser.new_context(viewport=viewport, locale="en-US")
        context.set_default_timeout(WAIT_MS)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        await context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
