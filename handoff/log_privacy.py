"""What logs may say about a patient: a keyed pseudonym of the conversation, never its id or the patient's words.

A conversation id can be a phone number (``sms:+1555...``) and, next to a crisis category, a log line
would be a health fact about a person. So log lines name a conversation by ``c-`` and 16 characters
of an HMAC of its id under the current data key: the same conversation always gets the same pseudonym
(lines can be followed), and without the key the logs cannot be tied to a patient. Someone holding
the keys finds a known conversation's lines with ``python -m handoff.log_privacy <conversation id>``.
A rotation of the data keys starts new pseudonyms. Patient text is never logged.

The console's access log names conversations the same way (:func:`pseudonymous_access_log`), and logs
no query strings.
"""

import argparse
import re

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from handoff.crypto import KeyRing

PSEUDONYM_PURPOSE = "log-pseudonym"
PSEUDONYM_PREFIX = "c-"
CONVERSATION_IN_PATH = re.compile(r"(?<=/conversations/)[^/]+")


def pseudonym(key_ring: KeyRing, conversation_id: str) -> str:
    """How logs name the conversation."""
    return PSEUDONYM_PREFIX + key_ring.mac(PSEUDONYM_PURPOSE, conversation_id)[:16]


def pseudonymous_path(key_ring: KeyRing, path: str) -> str:
    """``/api/conversations/<id>/claim`` with the id replaced by its pseudonym."""
    return CONVERSATION_IN_PATH.sub(lambda match: pseudonym(key_ring, match.group(0)), path)


def pseudonymous_access_log(key_ring: KeyRing) -> type[AbstractAccessLogger]:
    """An aiohttp access logger (``web.run_app(access_log_class=...)``) that logs pseudonyms, no query strings."""

    class PseudonymousAccessLogger(AbstractAccessLogger):
        def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
            self.logger.info(
                '%s "%s %s" %s %s %.3fs', request.remote, request.method, pseudonymous_path(key_ring, request.path),
                response.status, response.body_length, time,
            )

    return PseudonymousAccessLogger


def main() -> None:
    from handoff.settings import HandoffSettings

    parser = argparse.ArgumentParser(description="Print the pseudonym that logs use for a conversation id "
                                                 "(reads HANDOFF_DATA_KEYS).")
    parser.add_argument("conversation_id")
    arguments = parser.parse_args()
    print(pseudonym(HandoffSettings.from_env().key_ring(), arguments.conversation_id))


if __name__ == "__main__":
    main()
