"""Canned replies for agents, per language, from YAML files a supervisor edits without touching code.

One file per language in the canned replies directory (``HANDOFF_CANNED_REPLIES``, default ``canned_replies/``),
named by its language code::

    replies:
      - id: greeting                # letters, digits, - and _; unique in the file
        title: Greeting             # what the console lists
        text: "Hi, this is {agent_name} from the care team. How can I help?"

``{agent_name}`` becomes the name of the agent who asks. A file is read again when it changes; a file that
does not parse, or an entry that breaks these rules, is reported (``problems``) instead of served, and the
other languages' replies still are.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPLY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_REPLY_CHARACTERS = 2000
AGENT_NAME = "{agent_name}"


@dataclass(frozen=True)
class CannedReply:
    reply_id: str
    language: str
    title: str
    text: str

    def for_agent(self, agent_name: str) -> dict[str, Any]:
        return {"id": self.reply_id, "language": self.language, "title": self.title,
                "text": self.text.replace(AGENT_NAME, agent_name)}


class CannedReplyError(ValueError):
    """A canned replies file is unusable; the message names the file and what is wrong."""


def read_replies(path: Path) -> list[CannedReply]:
    language = path.stem
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise CannedReplyError(f"{path.name}: cannot be read as YAML ({error})") from None
    entries = document.get("replies") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise CannedReplyError(f"{path.name}: needs a list under 'replies'")
    replies: list[CannedReply] = []
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise CannedReplyError(f"{path.name}: reply {index} must be a mapping with id, title and text")
        reply_id, title, text = entry.get("id"), entry.get("title"), entry.get("text")
        if not isinstance(reply_id, str) or not REPLY_ID.fullmatch(reply_id):
            raise CannedReplyError(f"{path.name}: reply {index} needs an id of letters, digits, - and _")
        if any(reply.reply_id == reply_id for reply in replies):
            raise CannedReplyError(f"{path.name}: the id {reply_id!r} is used twice")
        if not isinstance(title, str) or not title.strip():
            raise CannedReplyError(f"{path.name}: reply {reply_id!r} needs a title")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_REPLY_CHARACTERS:
            raise CannedReplyError(f"{path.name}: reply {reply_id!r} needs a text of 1 to {MAX_REPLY_CHARACTERS} "
                                   "characters")
        replies.append(CannedReply(reply_id, language, title.strip(), text.strip()))
    return replies


class CannedReplies:
    """The replies of every language in ``directory``, each file read again when it changes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._read: dict[Path, tuple[int, list[CannedReply] | CannedReplyError]] = {}

    def for_languages(self, languages: list[str]) -> tuple[list[CannedReply], list[str]]:
        """The replies in those languages, in file order, and what is wrong with their files."""
        replies: list[CannedReply] = []
        problems: list[str] = []
        for language in languages:
            path = self.directory / f"{language}.yml"
            try:
                modified = path.stat().st_mtime_ns
            except OSError:
                continue
            if path not in self._read or self._read[path][0] != modified:
                try:
                    self._read[path] = (modified, read_replies(path))
                except CannedReplyError as error:
                    self._read[path] = (modified, error)
            found = self._read[path][1]
            if isinstance(found, CannedReplyError):
                problems.append(str(found))
            else:
                replies.extend(found)
        return replies, problems
