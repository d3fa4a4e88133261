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


class AtCapacity(InvalidTransition):
    """The agent already has as many conversations as its capacity allows."""


OUTCOMES: dict[str, tuple[type[HandoffError], str]] = {
    "not_found": (ConversationNotFound, "no conversation {id!r}"),
    "not_queued": (InvalidTransition, "conversation {id!r} is not waiting in a queue"),
    "wrong_language": (NotAssignedAgent, "conversation {id!r} is not in the agent's languages"),
    "wrong_skill": (NotAssignedAgent, "conversation {id!r} needs a skill the agent does not have"),
    "not_assigned": (NotAssignedAgent, "conversation {id!r} is not assigned to this agent"),
    "crisis_changed": (CrisisChanged, "a crisis arrived in conversation {id!r}: read it before closing"),
    "at_capacity": (AtCapacity, "the agent already has as many conversations as its capacity allows"),
    "same_agent": (InvalidTransition, "conversation {id!r} is already with that agent"),
    "no_callback": (InvalidTransition, "no phone callback is open for conversation {id!r}"),
    "no_crisis_alert": (InvalidTransition, "no crisis in conversation {id!r} waits for acknowledgement"),
}
"""A Lua script's refusal -> the error it raises and its message."""


def raise_for(outcome: str, conversation_id: str, success_is_id: bool = False) -> None:
    if outcome in OUTCOMES:
        error, message = OUTCOMES[outcome]
        raise error(message.format(id=conversation_id))
    if outcome != "ok" and not success_is_id:
        raise HandoffError(f"unexpected outcome {outcome!r}")
