"""The errors a queue operation reports to its caller, and the Lua scripts' outcomes that raise them."""


class HandoffError(Exception):
    """Base of the errors a queue operation reports to its caller."""


class ConversationNotFound(HandoffError):
    pass


class InvalidTransition(HandoffError):
    """The conversation is not in a state that allows the operation."""


class NotAssignedAgent(HandoffError):
    """The agent is not the one working this conversation."""


class MissingCrisisDisposition(HandoffError):
    """A crisis episode cannot be closed without saying what became of the crisis."""


class CrisisChanged(HandoffError):
    """A crisis arrived after the agent last read the conversation: read it before closing."""


def raise_for(outcome: str, conversation_id: str, success_is_id: bool = False) -> None:
    if outcome == "not_found":
        raise ConversationNotFound(f"no conversation {conversation_id!r}")
    if outcome == "not_queued":
        raise InvalidTransition(f"conversation {conversation_id!r} is not waiting in a queue")
    if outcome == "wrong_language":
        raise NotAssignedAgent(f"conversation {conversation_id!r} is not in the agent's languages")
    if outcome == "wrong_skill":
        raise NotAssignedAgent(f"conversation {conversation_id!r} needs a skill the agent does not have")
    if outcome == "not_assigned":
        raise NotAssignedAgent(f"conversation {conversation_id!r} is not assigned to this agent")
    if outcome == "crisis_changed":
        raise CrisisChanged(f"a crisis arrived in conversation {conversation_id!r}: read it before closing")
    if outcome != "ok" and not success_is_id:
        raise HandoffError(f"unexpected outcome {outcome!r}")
