"""Builds outside language-identification corpora that are not committed, one message a line.

    python -m evaluation.outside_corpora activ-es DIR    # DIR: ACTIV-ES ``corpus/plain`` (``*.run`` files)
    python -m evaluation.outside_corpora mtod DIR        # DIR: the Multilingual Task-Oriented Dialog ``data``
    python -m evaluation.outside_corpora emoevent DIR    # DIR: EmoEvent ``splits``
    python -m evaluation.outside_corpora chitchat DIR    # DIR: the Virtual Assistant template's ``Resources``
    python -m evaluation.outside_corpora leyzer DIR      # DIR: Leyzer's ``corpora/0.1.0``
    python -m evaluation.outside_corpora botnlu DIR      # DIR: the fetched mirrors (``owner+name/repo``) of
                                                         # the repositories of ``evaluation/botnlu_sources.txt``

ACTIV-ES (Francom, Hulden and Ussishkin, LREC 2014) is the dialogue of Argentine, Mexican and Spanish
films, one running text per film, tokens separated by spaces. Each film's text is cut into turns (a
sentence ends at ``.``, ``?``, ``!`` or ``...``; ``¿`` and ``¡`` open one), speaker names typed alone
before ``...`` dropped. Films are split by CRC-32 of their file name: a third are held out (written to
``.data/langid-measure/``, only ever scored) and the rest are for tuning (``.data/langid-tuning/``), so
no line of a held-out film was ever read. ``SAMPLE`` turns of each part are kept, chosen by CRC-32 of
their text.

The Multilingual Task-Oriented Dialog data (Schuster, Gupta, Shah and Lewis, NAACL 2019) are requests to a
voice assistant (alarms, reminders, weather) written by native speakers, one a line of a TSV (the utterance is
its third column). The dataset's own splits are kept apart: Spanish ``train`` for tuning, ``test`` held out
(only ever scored), ``eval`` unused (a reserve for a later held-out measure); English ``eval`` for tuning and
``test`` held out. EmoEvent (Plaza-del-Arco et al., LREC 2020) is Spanish and English tweets about events
of April 2019, in ``train``, ``dev`` and ``test`` splits (the tweet in the third column): ``train`` for
tuning, ``test`` held out, ``dev`` unused.

The chit-chat knowledge bases of Microsoft's Bot Framework Virtual Assistant template (``es-es`` and
``en-us`` ``QnA/*/Chitchat.qna``) hold short small-talk messages a user types to a bot ("are you a bot?", "I'm
bored", "thanks"), grouped by scenario: a ``## ? message`` heading, its paraphrases as ``- message`` lines,
then the bot's answer, which is not kept. Its ``LU/*/general.lu`` holds the commands a user types to any bot
("cancel", "yes", "talk to a person", "start over"), grouped by intent (``## Cancel``). Scenarios and intents
are split by CRC-32 of their heading, as the films are: a third held out (every paraphrase of a held-out
scenario with it), the rest for tuning.

Leyzer 0.1.0 (Sowański and Janicki, TSD 2020) holds Spanish and English requests to a voice assistant ("revisa
mi correo", "abre spotify"), generated from grammars per intent with slot values (names, song titles, addresses)
filled in. Its ``train``, ``dev`` and ``test`` splits share every intent and pattern, so they are pooled and split
again by CRC-32 of the intent, as the scenarios are; the intents are named alike in both languages.

The chat-bot NLU corpus (``botnlu``) is the training examples of public chat-bot projects on GitHub (Rasa
``nlu.md`` and ``nlu.yml``, Dialogflow ``*_usersays_<lang>.json``): short messages people
type to a bot, in Spanish and English. Its repositories are split by CRC-32 of their name, as the films are: a
third held out (``.data/langid-measure/botnlu-heldout-{es,en}.txt``, only ever scored), the rest for tuning
(``.data/langid-tuning/botnlu-tuning-{es,en}.txt``). ``evaluation/botnlu_sources.txt`` lists each source,
``owner/name@commit:path-or-glob``, its language, taken from metadata only (a ``usersays_es`` file name, a
``language: es`` Rasa configuration, an ``_es`` intent suffix), never from the messages, its licence and optionally
which intents (``suffix=_es``: only intents named ``..._es``; ``nosuffix=_es``: only the others). Entity marks keep
their words; lookup, synonym and regex sections and Dialogflow templates are no messages; a message a
project has in both languages is dropped from both, and duplicates are dropped. See
``tests/data/language_detection/README.md``.
"""

import argparse
import fnmatch
import html
import json
import re
import shutil
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
TUNING_DIR = PROJECT_DIR / ".data" / "langid-tuning"
MEASURE_DIR = PROJECT_DIR / ".data" / "langid-measure"
HELD_OUT_SHARE = 3
"""One film in this many (by CRC-32 of its file name) is held out."""
SAMPLE = 4000
SENTENCE_ENDS = frozenset([".", "?", "!", "...", "…"])
SENTENCE_OPENS = frozenset(["¿", "¡"])
LETTER = re.compile(r"[^\W\d_]")
NOT_PATIENT_WORDS = re.compile(r"(?<!\S)(?:USER|HASHTAG|URL|#\S+)(?!\S)")
"""EmoEvent's stand-ins for mentions and links and its hashtags: no patient writes them."""


def turns(running_text: str) -> list[str]:
    """A film's running text cut into turns, punctuation joined to its words, speaker labels dropped."""
    found: list[str] = []
    current: list[str] = []

    def close(end: str) -> None:
        if current and not (end in ("...", "…") and all(token[:1].isupper() for token in current)):
            found.append(_joined(current + ([end] if end else [])))
        current.clear()

    for token in running_text.split():
        if token in SENTENCE_OPENS:
            close("")
            current.append(token)
        elif token in SENTENCE_ENDS:
            close(token)
        else:
            current.append(token)
    close("")
    return [turn for turn in found if LETTER.search(turn)]


def _joined(tokens: list[str]) -> str:
    text = " ".join(tokens)
    text = re.sub(r"\s+([.,;:?!…]|\.\.\.)", r"\1", text)
    return re.sub(r"([¿¡])\s+", r"\1", text)


def held_out(name: str) -> bool:
    return zlib.crc32(name.encode("utf-8")) % HELD_OUT_SHARE == 0


def sample(messages: list[str], size: int = SAMPLE) -> list[str]:
    unique = list(dict.fromkeys(messages))
    return sorted(unique, key=lambda text: zlib.crc32(text.encode("utf-8")))[:size]


def build_activ_es(directory: Path, tuning_dir: Path = TUNING_DIR, measure_dir: Path = MEASURE_DIR) -> None:
    parts: dict[bool, list[str]] = {True: [], False: []}
    for path in sorted(directory.glob("*.run")):
        parts[held_out(path.name)].extend(turns(path.read_text(encoding="utf-8")))
    for is_held_out, target in ((False, tuning_dir), (True, measure_dir)):
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"activ-es-{'heldout' if is_held_out else 'tuning'}-es.txt"
        messages = sample(parts[is_held_out])
        path.write_text("\n".join(messages) + "\n", encoding="utf-8")
        print(f"{path}: {len(messages)} turns of {len(parts[is_held_out])}")


TSV_CORPORA: dict[str, tuple[int, dict[str, tuple[Path, str]]]] = {
    "mtod": (
        2,
        {
            "mtod-tuning-es.txt": (TUNING_DIR, "es/train-es.tsv"),
            "mtod-heldout-es.txt": (MEASURE_DIR, "es/test-es.tsv"),
            "mtod-tuning-en.txt": (TUNING_DIR, "en/eval-en.tsv"),
            "mtod-heldout-en.txt": (MEASURE_DIR, "en/test-en.tsv"),
        },
    ),
    "emoevent": (
        2,
        {
            "emoevent-tuning-es.txt": (TUNING_DIR, "es/train.tsv"),
            "emoevent-heldout-es.txt": (MEASURE_DIR, "es/test.tsv"),
            "emoevent-tuning-en.txt": (TUNING_DIR, "en/train.tsv"),
            "emoevent-heldout-en.txt": (MEASURE_DIR, "en/test.tsv"),
        },
    ),
}
"""Per corpus of TSV splits: the column of the text, and each built file's directory and split."""


def build_tsv_splits(directory: Path, column: int, splits: dict[str, tuple[Path, str]]) -> None:
    for name, (target, split) in splits.items():
        rows = (line.split("\t") for line in (directory / split).read_text(encoding="utf-8").splitlines())
        texts = (
            " ".join(NOT_PATIENT_WORDS.sub(" ", html.unescape(row[column])).split())
            for row in rows
            if len(row) > column
        )
        messages = list(dict.fromkeys(text for text in texts if text and text != "tweet"))
        target.mkdir(parents=True, exist_ok=True)
        (target / name).write_text("\n".join(messages) + "\n", encoding="utf-8")
        print(f"{target / name}: {len(messages)} messages")


CHITCHAT_LOCALES = {"es": "es-es", "en": "en-us"}
CHITCHAT_FILES = {"chitchat": "QnA/{locale}/Chitchat.qna", "bf-general": "LU/{locale}/general.lu"}
"""Per corpus, the file of a locale under the template's ``Deployment/Resources``."""
LU_ENTITY = re.compile(r"\{[^{}=]*=([^{}]*)\}")
"""An entity marked in an LU example, ``{ordinal=primero}``: its words are kept."""
LU_PATTERN = re.compile(r"[{}\[\]]")
"""A pattern of an LU file, ``(soy|yo) {PersonName.Any} [.]``, is no message."""


def chitchat_scenarios(knowledge_base: str) -> dict[str, list[str]]:
    """A ``.qna`` or ``.lu`` file's user messages per scenario or intent heading (a ``.qna`` heading's message
    first), entity marks dropped; the bot's answers, patterns and list entities' synonyms are not kept."""
    scenarios: dict[str, list[str]] = {}
    messages: Optional[list[str]] = None
    for line in knowledge_base.splitlines():
        if line.startswith("## "):
            messages = scenarios.setdefault(line, [])
            if line.startswith("## ? "):
                messages.append(line[len("## ? ") :])
        elif messages is not None and line.startswith("- "):
            message = LU_ENTITY.sub(r"\1", line[len("- ") :])
            if not LU_PATTERN.search(message):
                messages.append(message)
        elif line.strip():
            messages = None
    return scenarios


def build_chitchat(directory: Path, tuning_dir: Path = TUNING_DIR, measure_dir: Path = MEASURE_DIR) -> None:
    for corpus, file in CHITCHAT_FILES.items():
        for language, locale in CHITCHAT_LOCALES.items():
            text = (directory / file.format(locale=locale)).read_text(encoding="utf-8-sig")
            write_groups_split(chitchat_scenarios(text), f"{corpus}-{{part}}-{language}.txt", tuning_dir, measure_dir)


def write_groups_split(groups: dict[str, list[str]], name: str, tuning_dir: Path, measure_dir: Path) -> None:
    """Writes the messages of a third of the groups (by CRC-32 of their name) to ``measure_dir`` and the rest to
    ``tuning_dir``, as ``name`` with ``{part}`` ``heldout`` or ``tuning``: no message of a held-out group is read."""
    for is_held_out, target in ((False, tuning_dir), (True, measure_dir)):
        messages = (
            " ".join(message.split())
            for group, found in groups.items()
            if held_out(group) == is_held_out
            for message in found
        )
        unique = list(dict.fromkeys(message for message in messages if message))
        target.mkdir(parents=True, exist_ok=True)
        path = target / name.format(part="heldout" if is_held_out else "tuning")
        path.write_text("\n".join(unique) + "\n", encoding="utf-8")
        group_count = sum(held_out(group) == is_held_out for group in groups)
        print(f"{path}: {len(unique)} messages of {group_count} groups")


LEYZER_LOCALES = {"es": "es-ES", "en": "en-US"}
LEYZER_SPLITS = ("train", "dev", "test")


def build_leyzer(directory: Path, tuning_dir: Path = TUNING_DIR, measure_dir: Path = MEASURE_DIR) -> None:
    """Leyzer 0.1.0's requests (``leyzer-<split>-<locale>-0.1.0.tsv``: domain, intent, utterance, BIO tags), its
    three splits pooled and split again by CRC-32 of the intent, the same names in both languages."""
    for language, locale in LEYZER_LOCALES.items():
        intents: dict[str, list[str]] = {}
        for split in LEYZER_SPLITS:
            lines = (directory / f"leyzer-{split}-{locale}-0.1.0.tsv").read_text(encoding="utf-8").splitlines()
            for row in (line.split("\t") for line in lines[1:]):
                if len(row) > 2:
                    intents.setdefault(row[1], []).append(row[2])
        write_groups_split(intents, f"leyzer-{{part}}-{language}.txt", tuning_dir, measure_dir)


BOTNLU_MANIFEST = PROJECT_DIR / "evaluation" / "botnlu_sources.txt"
BOTNLU_LANGUAGES = ("es", "en")
RASA_ENTITY = re.compile(r"\[([^\[\]]*)\](?:\([^()]*\)|\{[^{}]*\})")
"""A Rasa entity mark, ``[la cardióloga](doctor)`` or ``[mañana]{"entity": "date"}``: its words are kept."""
RASA_MD_INTENT = re.compile(r"^##\s*intent\s*:\s*(.+?)\s*$")


@dataclass(frozen=True)
class BotNluSource:
    """A line of the manifest: files of a repository at a commit (a path or a glob), their language (from
    metadata), their licence, and which of their intents are kept (``suffix=_es``, ``nosuffix=_es`` or all)."""

    repo: str
    commit: str
    path: str
    language: str
    licence: str
    intents: str = ""

    def keeps(self, intent: str) -> bool:
        kind, _, suffix = self.intents.partition("=")
        if kind == "suffix":
            return intent.endswith(suffix)
        if kind == "nosuffix":
            return not intent.endswith(suffix)
        return True


def botnlu_sources(manifest: str) -> list[BotNluSource]:
    """``owner/name@commit:path<TAB>lang<TAB>licence[<TAB>intents]`` lines; ``#`` comments and blank lines skipped."""
    sources = []
    for line in manifest.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where, language, licence, *intents = line.split("\t")
        repo, _, rest = where.partition("@")
        commit, _, path = rest.partition(":")
        if language not in BOTNLU_LANGUAGES or not (repo and commit and path):
            raise ValueError(f"not a manifest line: {line!r}")
        sources.append(BotNluSource(repo, commit, path, language, licence, intents[0] if intents else ""))
    return sources


def without_entity_marks(text: str) -> str:
    return " ".join(LU_ENTITY.sub(r"\1", RASA_ENTITY.sub(r"\1", text)).split())


def rasa_md_messages(text: str) -> list[tuple[str, str]]:
    """(intent, message) of a Rasa 1.x ``nlu.md``: the ``- `` lines of ``## intent:`` sections; ``synonym``,
    ``regex`` and ``lookup`` sections are not kept."""
    found: list[tuple[str, str]] = []
    intent: Optional[str] = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            heading = RASA_MD_INTENT.match(stripped)
            intent = heading.group(1) if heading else None
        elif intent is not None and stripped.startswith(("- ", "* ")):
            found.append((intent, stripped[2:]))
    return found


def rasa_yml_messages(text: str) -> list[tuple[str, str]]:
    """(intent, message) of a Rasa 2.x/3.x NLU YAML file: the examples of its ``intent`` items (a ``|`` block of
    ``- `` lines, or a list of ``text`` items); ``synonym``, ``regex`` and ``lookup`` items are not kept."""
    document = yaml.safe_load(text) or {}
    items = document.get("nlu") if isinstance(document, dict) else None
    found: list[tuple[str, str]] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or "intent" not in item:
            continue
        intent, examples = str(item["intent"]), item.get("examples")
        if isinstance(examples, str):
            lines = (line.strip() for line in examples.splitlines())
            found.extend((intent, line[2:]) for line in lines if line.startswith("- "))
        elif isinstance(examples, list):
            for example in examples:
                text_of = example.get("text") if isinstance(example, dict) else example
                if isinstance(text_of, str):
                    found.append((intent, text_of))
    return found


def dialogflow_messages(text: str, intent: str) -> list[tuple[str, str]]:
    """(intent, message) of a Dialogflow ``<intent>_usersays_<lang>.json``: each example's parts joined; a
    template example (``@sys.date``-style patterns) is no message."""
    examples: Any = json.loads(text)
    found: list[tuple[str, str]] = []
    for example in examples if isinstance(examples, list) else []:
        if isinstance(example, dict) and not example.get("isTemplate"):
            parts = example.get("data") or []
            found.append((intent, "".join(str(part.get("text", "")) for part in parts if isinstance(part, dict))))
    return found


def nlu_file_messages(path: str, text: str) -> list[tuple[str, str]]:
    """(intent, message) of an NLU file by its kind, told by its name."""
    name = path.rsplit("/", 1)[-1]
    if "_usersays_" in name and name.endswith(".json"):
        return dialogflow_messages(text, name.rsplit("_usersays_", 1)[0])
    if name.endswith(".md"):
        return rasa_md_messages(text)
    if name.endswith((".yml", ".yaml")):
        return rasa_yml_messages(text)
    raise ValueError(f"no NLU file kind for {path}")


def source_messages(source: BotNluSource, files: dict[str, str]) -> list[str]:
    """A source's messages (entity marks dropped, spaces collapsed) from its repository's ``files`` (path: text)
    matching its path or glob, of the intents it keeps."""
    messages = []
    for path in sorted(files):
        if fnmatch.fnmatchcase(path, source.path):
            for intent, message in nlu_file_messages(path, files[path]):
                plain = without_entity_marks(message)
                if plain and source.keeps(intent):
                    messages.append(plain)
    return messages


def botnlu_groups(per_repo: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
    """Per language, each repository's messages (``per_repo[repo][language]``), less a message that the repository
    has in both languages, and its duplicates."""
    groups: dict[str, dict[str, list[str]]] = {language: {} for language in BOTNLU_LANGUAGES}
    for repo, languages in per_repo.items():
        both = set.intersection(*(set(languages.get(language, [])) for language in BOTNLU_LANGUAGES))
        for language in BOTNLU_LANGUAGES:
            kept = [message for message in dict.fromkeys(languages.get(language, [])) if message not in both]
            if kept:
                groups[language][repo] = kept
    return groups


def mirror_git_dir(mirrors: Path, repo: str) -> Path:
    """The git directory ``fetch`` made of ``owner/name``: ``owner+name/repo`` or ``owner+name/repo/.git``."""
    base = mirrors / repo.replace("/", "+") / "repo"
    return base / ".git" if (base / ".git").is_dir() else base


def git_files(git_dir: Path, commit: str, pattern: str) -> dict[str, str]:
    """The text of the files of ``git_dir`` at ``commit`` whose path matches ``pattern`` (a glob)."""
    executable = shutil.which("git") or "git"

    def git(*args: str) -> str:
        run = subprocess.run([executable, "--git-dir", str(git_dir), *args], capture_output=True, check=True)
        return run.stdout.decode("utf-8-sig")

    paths = git("ls-tree", "-r", "-z", "--name-only", commit).split("\0")
    return {path: git("show", f"{commit}:{path}") for path in paths if fnmatch.fnmatchcase(path, pattern)}


def build_botnlu(
    mirrors: Path, manifest: Path = BOTNLU_MANIFEST, tuning_dir: Path = TUNING_DIR, measure_dir: Path = MEASURE_DIR
) -> None:
    """The chat-bot NLU corpus, its repositories split by CRC-32 of their name as the films are: a third held out."""
    per_repo: dict[str, dict[str, list[str]]] = {}
    for source in botnlu_sources(manifest.read_text(encoding="utf-8")):
        files = git_files(mirror_git_dir(mirrors, source.repo), source.commit, source.path)
        if not files:
            raise SystemExit(f"no file at {source.repo}@{source.commit}:{source.path}")
        found = source_messages(source, files)
        per_repo.setdefault(source.repo, {}).setdefault(source.language, []).extend(found)
        print(f"{source.repo} {source.path} ({source.language}): {len(found)} messages of {len(files)} files")
    for language, groups in botnlu_groups(per_repo).items():
        write_groups_split(groups, f"botnlu-{{part}}-{language}.txt", tuning_dir, measure_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", choices=["activ-es", "chitchat", "leyzer", "botnlu", *TSV_CORPORA])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    if args.corpus in TSV_CORPORA:
        build_tsv_splits(args.directory, *TSV_CORPORA[args.corpus])
    elif args.corpus == "chitchat":
        build_chitchat(args.directory)
    elif args.corpus == "leyzer":
        build_leyzer(args.directory)
    elif args.corpus == "botnlu":
        build_botnlu(args.directory)
    else:
        build_activ_es(args.directory)


if __name__ == "__main__":
    main()
