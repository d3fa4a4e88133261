"""A Rasa process puts what it holds once started out of the garbage collector's reach, once; what it allocates later
is collected as before (a full collection of the loaded heap paused every turn 250-300 ms, once in a hundred)."""

import gc
import weakref

from connectors.gate_services import freeze_the_loaded_process


class Cycle:
    """Garbage only the collector frees: it refers to itself."""

    def __init__(self) -> None:
        self.itself = self


def test_the_loaded_process_is_frozen_once_and_later_garbage_is_still_collected() -> None:
    freeze_the_loaded_process.cache_clear()
    try:
        loaded = Cycle()
        freeze_the_loaded_process()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        freeze_the_loaded_process()
        assert gc.get_freeze_count() == frozen, "once per process: later objects are not frozen"
        later = Cycle()
        gone = weakref.ref(later)
        del later
        gc.collect()
        assert gone() is None, "a cycle made after the freeze is collected"
        assert loaded.itself is loaded
    finally:
        gc.unfreeze()
        freeze_the_loaded_process.cache_clear()
