"""Finding the version a phrase refers to, by code over the real version records.

Planners (offline or LLM) only *name* a version: "the original", "before the
background change", "two steps back", "option 2", "3". This module finds it,
deterministically, so version arithmetic never depends on a language model.
Search runs along the current line (the head's ancestry) first, newest first, then
the whole tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.errors import AgentError
from storage import History, NotFound, Version


class UnresolvedReference(AgentError):
    """A phrase names no version of this session; the message says what was looked for."""


@dataclass(frozen=True)
class HistorySnapshot:
    """What the planners and the resolver see of a session: read once per request."""

    versions: list[Version] = field(default_factory=list)   # the whole tree, oldest first
    head: Version | None = None
    branch: str = "main"
    branches: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, history: History) -> "HistorySnapshot":
        versions = history.log()
        if not versions:
            return cls()
        try:
            head = history.head()
        except NotFound:
            head = None
        return cls(versions, head, history.current_branch, history.branches())

    @property
    def by_id(self) -> dict[int, Version]:
        return {version.id: version for version in self.versions}

    def line(self) -> list[Version]:
        """The head's ancestry, root first: the edits that made the current image."""
        if self.head is None:
            return []
        by_id, path, current = self.by_id, [], self.head
        while current is not None:
            path.append(current)
            current = by_id.get(current.parent_id) if current.parent_id is not None else None
        return path[::-1]


NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "once": 1, "two": 2, "twice": 2, "couple": 2, "three": 3,
    "thrice": 3, "few": 3, "several": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10,
}
ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "eighth": 8, "last": -1,
}

# Words that name what a tool did, so "the background change" finds replace_background.
TOOL_WORDS = {
    "import": "original import upload uploaded photo start beginning",
    "remove_object": "remove removal removed erase erased delete deleted gone rid cleanup",
    "replace_object": "replace replaced replacement swap swapped change changed turn turned",
    "add_object": "add added addition put placed insert inserted",
    "replace_background": "background backdrop sky scene setting bg",
    "relight": "light lighting relight relit warm warmer cool cooler night dusk dawn bright "
               "brighter dark darker exposure mood",
    "style_transfer": "style stylized painting sketch drawing watercolor anime cartoon look filter",
    "edit_text": "text sign word words lettering writing caption",
    "change_camera": "camera zoom angle view rotate rotated flip flipped crop",
    "try_on": "outfit garment clothes shirt jacket dress wear try",
    "control_generate": "pose depth edges generate generated",
    "refine_collage": "collage blend blended harmonize",
    "edit": "edit edited",
}
_STOP = set("""the a an to of version versions image picture photo one we i you was were it
its that this back go before after right just when where with change changed edit edits step
steps made make did done ago my our on in at from got had has have been be is are""".split())


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s", "al"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _words(text: str) -> set[str]:
    return {_stem(word) for word in re.findall(r"[a-z0-9]+", (text or "").lower())}


def _number(text: str) -> int | None:
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    return NUMBER_WORDS.get(text)


def resolve_version(snapshot: HistorySnapshot, phrase: str | int) -> Version:
    """The version a phrase names, or UnresolvedReference saying what was looked for."""
    if snapshot.head is None:
        raise UnresolvedReference("there are no versions yet: send a photo first")
    text = re.sub(r"\s+", " ", str(phrase).strip().lower()).strip(" .,!?")
    text = re.sub(r"^(?:the |a )?(?:version|image|photo|picture|one|state)\s+(?=(?:before|after|with|from|where|when|right)\s+\S)", "", text)
    by_id = snapshot.by_id

    # "3", "@3", "v3", "version 3", "#3": an id.
    match = re.fullmatch(r"(?:version\s*|v|@|#|id\s*)?(\d+)", text)
    if match:
        version = by_id.get(int(match.group(1)))
        if version is None:
            raise UnresolvedReference(f"there is no version {match.group(1)} in this session")
        return version

    line = snapshot.line()
    if re.fullmatch(r"(?:the )?(?:current|head|latest|this|now|last version|newest|"
                    r"current (?:one|version|image|photo)|this (?:one|version|image|photo)|it)",
                    text):
        return snapshot.head
    if re.search(r"\b(?:original|beginning|start|scratch|first version|very first|unedited|"
                 r"import(?:ed)?)\b", text):
        return line[0]

    # "option 2", "the second variant": one of the siblings the last variant step made.
    ordinal = "|".join(word for word in ORDINALS if word != "last")  # "the last one": previous
    match = re.fullmatch(r"(?:the )?(?:(option|variant|variation|choice)\s*#?\s*(\w+)|(" + ordinal
                         + r")\s+(?:option|variant|variation|choice|one))", text)
    if match:
        return variant(snapshot, _option_number(match.group(2) or match.group(3)))

    # "previous", "the one before", "two steps back", "3 edits ago".
    match = re.fullmatch(r"(?:(\w+) (?:steps?|edits?|changes?|versions?) (?:back|ago|earlier|before)"
                         r"|(?:the )?(?:previous|prior|last)(?: one| version| edit| image|"
                         r" step)?|(?:the )?one before|before (?:that|this|it|the last (?:edit|"
                         r"change|step))|one step back)", text)
    if match:
        count = _number(match.group(1)) if match.group(1) else 1
        if count is None:
            raise UnresolvedReference(f"cannot tell how many steps back '{phrase}' means")
        return _ancestor(line, count, phrase)

    # "before the background change" / "after the car was removed" / "the sunset one".
    match = re.match(r"(before|prior to|after|right after|just after|with|where|when|from)\s+(.*)",
                     text)
    relation = match.group(1) if match else "at"
    described = match.group(2) if match else text
    if relation in ("where", "when", "with") and re.search(r"\bstill\b", described):
        relation = "before"  # "where the car was still there": before it was removed
    found = _find_described(snapshot, described)
    if found is None:
        raise UnresolvedReference(
            f"no version matches '{phrase}' (the history has: "
            f"{', '.join(_label(v) for v in line[-6:])})")
    if relation in ("before", "prior to"):
        if found.parent_id is None:
            raise UnresolvedReference(f"'{phrase}': nothing comes before the original")
        return by_id[found.parent_id]
    return found


def _ancestor(line: list[Version], count: int, phrase) -> Version:
    if count >= len(line):
        raise UnresolvedReference(
            f"'{phrase}' goes back {count} step(s) but the current image is only "
            f"{len(line) - 1} edit(s) from the original")
    return line[-1 - count]


def _find_described(snapshot: HistorySnapshot, described: str) -> Version | None:
    """The newest version whose operation matches the most words of the description."""
    wanted = _words(described) - _STOP
    if not wanted:
        return None
    line = snapshot.line()
    on_line = {version.id for version in line}
    best, best_key = None, None
    for version in snapshot.versions:
        if version.tool == "import":
            continue
        # What the operation was counts most; the request text (which may cover several
        # steps of one message) only breaks ties.
        done = (_words(TOOL_WORDS.get(version.tool, version.tool))
                | _words(" ".join(str(value) for key, value in (version.args or {}).items()
                                  if key != "assets")))
        strong = len(wanted & done)
        weak = len(wanted & _words(version.instruction or ""))
        if strong == 0 and weak == 0:
            continue
        key = (strong, weak, version.id in on_line, version.id)  # then current line, newest
        if best_key is None or key > best_key:
            best, best_key = version, key
    return best


def _option_number(word: str) -> int:
    word = (word or "").lower()
    number = ORDINALS.get(word) or _number(word)
    if number is None:
        raise UnresolvedReference(f"cannot tell which option '{word}' means")
    return number


def variant_group(snapshot: HistorySnapshot) -> list[Version]:
    """The newest set of sibling variants: same parent, same operation and arguments."""
    candidates = [snapshot.head] if snapshot.head else []
    candidates += list(reversed(snapshot.versions))
    for version in candidates:
        if version is None or version.parent_id is None:
            continue
        group = [other for other in snapshot.versions
                 if other.parent_id == version.parent_id and other.tool == version.tool
                 and _edit_args(other) == _edit_args(version)]
        if len(group) > 1:
            return group
    return []


def _edit_args(version: Version) -> dict:
    # The stored mask/reference asset ids differ per run; the edit itself does not.
    return {key: value for key, value in (version.args or {}).items() if key != "assets"}


def variant(snapshot: HistorySnapshot, option: int) -> Version:
    group = variant_group(snapshot)
    if not group:
        raise UnresolvedReference("there are no options to choose from yet; ask for variants "
                                  "first, e.g. 'give me three options'")
    index = len(group) if option == -1 else option
    if not 1 <= index <= len(group):
        raise UnresolvedReference(f"there are {len(group)} options; option {option} does not exist")
    return group[index - 1]


def _label(version: Version) -> str:
    from agent.history_view import summarize

    return f"{version.id}: {summarize(version, 40)}"
