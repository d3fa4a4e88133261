"""A patient who writes that they have no English: in English words and naming no language ("no english"), they are
offered every language in its own words, and the word they write back switches the bot; in their own language ("no
hablo inglés"), the bot switches to it at once, even in the middle of an English conversation."""

import aiohttp

from handoff import LiveAgentQueue, TranscriptRole
from stack.services import Stack
from tests.e2e.patient_client import Patient, handoff_of, texts
from tests.e2e.training_messages import training_message


async def test_no_english_offers_every_language_and_the_word_written_back_switches_the_bot(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    replies = await patient.say("no english")
    assert handoff_of(replies) is None
    menu = texts(replies)
    assert len(menu) == 1, menu
    for line in ('Español: escriba "español"', '请输入"中文"', 'Tiếng Việt: nhắn "tiếng Việt"',
                 'Kreyòl ayisyen: ekri "kreyòl"'):
        assert line in menu[0], menu
    assert "English" not in menu[0], "English is what the patient has not"
    transcript = await stack_queue.transcript(patient.sender)
    assert [(entry.role, entry.text) for entry in transcript] == [
        (TranscriptRole.PATIENT, "no english"), (TranscriptRole.BOT, menu[0])
    ]

    await patient.say("español")
    conversation = await stack_queue.conversation(patient.sender)
    assert conversation is not None and conversation.spoken_language == "es"
    hours = await patient.say(training_message("es", "ask_hours"))
    assert handoff_of(hours) is None and hours, hours


async def test_no_english_said_in_spanish_switches_an_english_conversation_to_spanish(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    await patient.say(training_message("en", "greet"))
    english = await stack_queue.conversation(patient.sender)
    assert english is None or english.spoken_language in (None, "en")
    replies = await patient.say("no hablo inglés")
    assert not any('escriba "español"' in text for text in texts(replies)), "no menu: the patient said which"
    conversation = await stack_queue.conversation(patient.sender)
    assert conversation is not None and conversation.spoken_language == "es"


async def test_english_that_is_fine_gets_the_bot_not_the_menu(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    patient = Patient(http, stack)
    replies = await patient.say("no, english is fine")
    assert not any('escriba "español"' in text for text in texts(replies)), texts(replies)
