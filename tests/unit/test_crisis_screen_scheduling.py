"""Where the gate screens a message: a short one on the event loop, a long one in the screening thread, never two
at once; every one screened, whichever way it goes."""

import asyncio
import threading
import time
from typing import Optional

import pytest
from redis.asyncio import Redis

from connectors.crisis_escalation import SCREENED_ON_THE_LOOP_CHARS, CrisisEscalation
from connectors.gate_services import process_crisis_screen
from handoff import KeyRing, LiveAgentQueue
from handoff.coverage import CoverageHours
from handoff.crypto import generate_key_ring_spec
from handoff.staffing import Staffing
from languages import LanguageCatalog, LanguageResolver
from screening import CrisisCategory, CrisisFinding, CrisisScreen

LONG_CRISIS = "I have been thinking about a lot of things lately and honestly " * 6 + "I want to kill myself"
SHORT_CRISIS = "i want to end my life"


class WatchedScreen:
    """The process's real screen, noting which thread screened each message and how many ran at once; a long
    message lingers, so that a short one arrives while it is screened."""

    def __init__(self, screen: CrisisScreen) -> None:
        self.screen_itself = screen
        self.threads: dict[str, int] = {}
        self.running = 0
        self.most_at_once = 0
        self.long_started = threading.Event()
        self._count = threading.Lock()

    @property
    def prepared(self) -> bool:
        return self.screen_itself.prepared

    def screen(self, text: str, language: str) -> Optional[CrisisFinding]:
        with self._count:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.threads[text] = threading.get_ident()
        try:
            if len(text) > SCREENED_ON_THE_LOOP_CHARS:
                self.long_started.set()
                time.sleep(0.3)
            return self.screen_itself.screen(text, language)
        finally:
            with self._count:
                self.running -= 1


@pytest.fixture(scope="module")
def watched() -> WatchedScreen:
    screen = process_crisis_screen()
    assert screen.wait_prepared(120)
    return WatchedScreen(screen)


def escalation_with(screen: WatchedScreen) -> CrisisEscalation:
    catalog = LanguageCatalog.load()
    queue = LiveAgentQueue(Redis(), KeyRing.from_spec(generate_key_ring_spec()))  # screening never calls Redis
    return CrisisEscalation(queue, catalog, LanguageResolver(catalog), screen,  # type: ignore[arg-type]
                            Staffing(CoverageHours.always_open()), None, None)


def test_a_long_message_is_screened_off_the_event_loop_and_a_short_one_on_it(watched: WatchedScreen) -> None:
    assert len(LONG_CRISIS) > SCREENED_ON_THE_LOOP_CHARS >= len(SHORT_CRISIS)

    async def screen_both() -> tuple[Optional[CrisisFinding], Optional[CrisisFinding]]:
        escalation = escalation_with(watched)
        return await escalation.screen(LONG_CRISIS), await escalation.screen(SHORT_CRISIS)

    long_finding, short_finding = asyncio.run(screen_both())
    assert long_finding is not None and "kill myself" in long_finding.evidence
    assert short_finding is not None and "end my life" in short_finding.evidence
    assert watched.threads[LONG_CRISIS] != threading.get_ident()
    assert watched.threads[SHORT_CRISIS] == threading.get_ident()


def test_a_short_message_that_comes_while_a_long_one_is_screened_waits_its_turn_off_the_loop(
    watched: WatchedScreen,
) -> None:
    """The screen's tokenizers are not shared across threads: the short message must not run beside the long one
    on the event loop, nor block the loop while it waits."""

    async def screen_at_once() -> tuple[Optional[CrisisFinding], Optional[CrisisFinding], bool]:
        escalation = escalation_with(watched)
        long_screen = asyncio.ensure_future(escalation.screen(LONG_CRISIS))
        await asyncio.get_running_loop().run_in_executor(None, watched.long_started.wait)
        short_screen = asyncio.ensure_future(escalation.screen(SHORT_CRISIS))
        await asyncio.sleep(0)
        loop_was_free = not short_screen.done() and not long_screen.done()
        return await long_screen, await short_screen, loop_was_free

    watched.long_started.clear()
    long_finding, short_finding, loop_was_free = asyncio.run(screen_at_once())
    assert long_finding is not None and short_finding is not None
    assert short_finding.category is CrisisCategory.SUICIDE_SELF_HARM and "end my life" in short_finding.evidence
    assert watched.most_at_once == 1
    assert loop_was_free
    assert watched.threads[SHORT_CRISIS] != threading.get_ident()


def test_a_message_with_no_crisis_is_none_either_way(watched: WatchedScreen) -> None:
    async def screen_both() -> tuple[Optional[CrisisFinding], Optional[CrisisFinding]]:
        escalation = escalation_with(watched)
        ordinary = "what are your hours on saturday " * 12
        return await escalation.screen(ordinary), await escalation.screen("what are your hours")

    assert asyncio.run(screen_both()) == (None, None)
