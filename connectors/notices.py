"""Short notices the connector itself sends while a person, not the bot, has the conversation."""

QUEUED_NOTICE = {
    "en": "Thanks, we have your message. You're number {position} in line for a member of our team.",
}


def queued_notice(language: str, position: int) -> str:
    template = QUEUED_NOTICE.get(language, QUEUED_NOTICE["en"])
    return template.format(position=position)
