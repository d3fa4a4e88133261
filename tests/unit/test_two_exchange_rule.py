from typing import Any

from rasa_sdk import Tracker

from actions.fallback import consecutive_unplaced_exchanges


def user(intent: str) -> dict[str, Any]:
    return {"event": "user", "text": "...", "parse_data": {"intent": {"name": intent}}}


def tracker(*events: dict[str, Any]) -> Tracker:
    return Tracker("patient-1", {}, {}, list(events), False, None, {}, "action_listen")


def test_counts_only_the_latest_run_of_unplaced_messages() -> None:
    assert consecutive_unplaced_exchanges(tracker()) == 0
    assert consecutive_unplaced_exchanges(tracker(user("nlu_fallback"))) == 1
    events = (user("nlu_fallback"), {"event": "bot", "text": "Sorry?"}, user("nlu_fallback"))
    assert consecutive_unplaced_exchanges(tracker(*events)) == 2
    assert consecutive_unplaced_exchanges(tracker(user("nlu_fallback"), user("greet"))) == 0
    assert consecutive_unplaced_exchanges(tracker(user("greet"), user("nlu_fallback"))) == 1
