"""Codebooks: the one YAML file that defines every label a project uses.

A codebook names the targets toward which stance is labeled, the stance scale, the frames, the cue span
labels and the optional questions. Ids are what exports and models use; names and descriptions are what
annotators see.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from annotation.bounded_yaml import YamlError, parse_yaml, read_yaml, shown

ID_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_ID_LENGTH = 64

TOP_KEYS = (
    "name",
    "version",
    "description",
    "instructions",
    "targets",
    "stance",
    "frames",
    "primary_frame",
    "cues",
    "confidence",
    "note",
)
LABEL_KEYS = ("id", "name", "description")
TARGET_KEYS = (*LABEL_KEYS, "aliases")
CUE_KEYS = ("labels", "frame")


class OtherCodebookError(ValueError):
    """Tasks or a project made from another codebook than the model that would label them."""


def require_codebook(ref: object, name: str, what: str) -> None:
    """Refuse `what` unless `ref`, the `name@version` it was made from (None when it does not say), names the
    codebook called `name`: its labels could not be shown otherwise."""
    if ref is None or str(ref).split("@")[0] != name:
        made = shown(ref)[1:-1] if isinstance(ref, str) else "unknown"
        raise OtherCodebookError(f"{what} was made from codebook {made}, the model from {name}")


class CodebookError(ValueError):
    """A codebook that cannot be used, with the file, the key and what to do about it."""

    def __init__(self, file: str, key: str, problem: str):
        self.file, self.key, self.problem = file, key, problem
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")

    def __reduce__(self):  # so that the error survives the trip back from a child process
        return type(self), (self.file, self.key, self.problem)


@dataclass(frozen=True)
class Label:
    """One label: a stable id, the name annotators see, and what it means; a target also has the `aliases`
    that stand for it in text (see `annotation.mentions`)."""

    id: str
    name: str
    description: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Codebook:
    """Everything a project labels, as read from a codebook file."""

    name: str
    version: str
    targets: tuple[Label, ...]
    stance: tuple[Label, ...]
    frames: tuple[Label, ...]
    primary_frame: bool = True
    cue_labels: tuple[Label, ...] = ()
    cue_frame: bool = True
    confidence: bool = True
    note: bool = True
    description: str = ""
    instructions: str = ""
    source: str = field(default="", compare=False)

    @property
    def ref(self) -> str:
        """`name@version`, the tag that tasks carry so exports can be checked against their codebook."""
        return f"{self.name}@{self.version}"

    @property
    def stance_controls(self) -> dict[str, Label]:
        """Control name (`stance_<target id>`) → target."""
        return {f"stance_{t.id}": t for t in self.targets}


DEFAULT_STANCE = (
    Label("favor", "Favor", "The passage supports, defends, praises or sides with the target."),
    Label("against", "Against", "The passage criticises, blames, mocks or opposes the target."),
    Label("neutral", "Neutral", "The target comes up, but the passage takes no side on it."),
    Label("not_addressed", "Not addressed", "The passage does not mention or imply the target."),
)

# The 15 generic frames of the Policy Frames Codebook (Boydstun, Card, Gross, Resnik and Smith, 2014),
# each described here in our own words.
DEFAULT_FRAMES = (
    Label("economic", "Economic", "Money: what something costs or earns, for whom, and its financial effects."),
    Label(
        "capacity_resources",
        "Capacity and resources",
        "Whether there are enough people, money, equipment or time to do something.",
    ),
    Label("morality", "Morality", "Right and wrong, duty, honour, sin or religious obligation."),
    Label(
        "fairness_equality",
        "Fairness and equality",
        "Who gets which rights, burdens or benefits, and whether that is fair or equal.",
    ),
    Label(
        "legality",
        "Legality and jurisdiction",
        "What the law, a constitution, a court or international law allows, and who has authority.",
    ),
    Label(
        "policy_prescription",
        "Policy prescription and evaluation",
        "Whether a policy works, and what should be done instead.",
    ),
    Label(
        "crime_punishment",
        "Crime and punishment",
        "Breaking rules or laws, criminals and terrorists, and the penalties they deserve.",
    ),
    Label(
        "security_defense",
        "Security and defence",
        "Threats to a country or community, war, military force, deterrence and protection.",
    ),
    Label("health_safety", "Health and safety", "Injury, illness, death, medical care and physical safety."),
    Label(
        "quality_of_life",
        "Quality of life",
        "How daily life, comfort, freedom of movement or wellbeing of ordinary people changes.",
    ),
    Label(
        "cultural_identity",
        "Cultural identity",
        "Traditions, values, religion, history and the identity of a people or group.",
    ),
    Label(
        "public_opinion",
        "Public opinion",
        "What the public thinks or feels: polls, protests, crowds, mourning, popular mood.",
    ),
    Label(
        "political",
        "Political",
        "Politicians, parties, elections, lobbying, power struggles and political tactics.",
    ),
    Label(
        "external_reputation",
        "External regulation and reputation",
        "Relations between states, alliances, treaties, and a country's standing abroad.",
    ),
    Label("other", "Other", "A frame that none of the others describe."),
)

DEFAULT_CUES = (
    Label("frame_cue", "Frame cue", "Words that call up one of the frames."),
    Label(
        "loaded_language",
        "Loaded language",
        "An evaluative word choice where a plainer word was available (e.g. 'assassination' for 'killing').",
    ),
)


def load_codebook(path: str | Path) -> Codebook:
    """Read and check a codebook file; raise `CodebookError` naming the file and key on any problem."""
    path = Path(path)
    try:
        raw = read_yaml(path)
    except FileNotFoundError:
        raise CodebookError(str(path), "", "no such file") from None
    except IsADirectoryError:
        raise CodebookError(str(path), "", "is a folder, not a codebook file") from None
    except UnicodeDecodeError as err:
        raise CodebookError(str(path), "", f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    except YamlError as err:
        raise _yaml_problem(str(path), err) from None
    return _checked(raw, str(path))


def parse_codebook(text: str, source: str = "<codebook>") -> Codebook:
    """Check a codebook given as YAML text; `source` names it in error messages."""
    try:
        raw = parse_yaml(text)
    except YamlError as err:
        raise _yaml_problem(source, err) from None
    return _checked(raw, source)


def _yaml_problem(source: str, err: YamlError) -> CodebookError:
    return CodebookError(source, f"line {err.line}" if err.line else "", err.problem)


def _checked(raw: object, source: str) -> Codebook:
    if not isinstance(raw, dict):
        raise CodebookError(source, "", "a codebook is a YAML mapping with at least 'name', 'version', 'targets'")
    return _build(raw, source)


def _build(raw: dict, source: str) -> Codebook:
    def fail(key: str, problem: str) -> CodebookError:
        return CodebookError(source, key, problem)

    _no_unknown_keys(raw, TOP_KEYS, "", fail)
    for key in ("name", "version", "targets"):
        if key not in raw:
            raise fail(key, f"missing; every codebook needs {key!r}")
    name = _text(raw["name"], "name", fail, required=True)
    version = raw["version"]
    if isinstance(version, bool) or not isinstance(version, (str, int)):
        raise fail("version", f'{shown(version)} is not a version; write it as a quoted string, e.g. version: "1.0"')
    version = str(version).strip()
    if not version or any(c.isspace() or c == "@" for c in version):
        raise fail("version", "write a version without spaces or '@', e.g. version: \"1.0\"")
    if len(version) > MAX_ID_LENGTH:
        raise fail("version", f"{len(version):,} characters; a version has at most {MAX_ID_LENGTH}")

    cues = raw.get("cues", True)
    if cues is True or cues is None:
        cue_labels, cue_frame = DEFAULT_CUES, True
    elif cues is False:
        cue_labels, cue_frame = (), False
    elif isinstance(cues, dict):
        _no_unknown_keys(cues, CUE_KEYS, "cues", fail)
        cue_labels = _labels(cues.get("labels"), "cues.labels", fail, DEFAULT_CUES)
        cue_frame = _flag(cues.get("frame", True), "cues.frame", fail)
    else:
        raise fail("cues", "write true, false, or a mapping with 'labels' and 'frame'")

    return Codebook(
        name=name,
        version=version,
        description=_text(raw.get("description", ""), "description", fail),
        instructions=_text(raw.get("instructions", ""), "instructions", fail),
        targets=_labels(raw["targets"], "targets", fail, None, keys=TARGET_KEYS),
        stance=_labels(raw.get("stance"), "stance", fail, DEFAULT_STANCE),
        frames=_labels(raw.get("frames"), "frames", fail, DEFAULT_FRAMES),
        primary_frame=_flag(raw.get("primary_frame", True), "primary_frame", fail),
        cue_labels=cue_labels,
        cue_frame=cue_frame and bool(cue_labels),
        confidence=_flag(raw.get("confidence", True), "confidence", fail),
        note=_flag(raw.get("note", True), "note", fail),
        source=source,
    )


def _no_unknown_keys(mapping: dict, known: tuple[str, ...], where: str, fail) -> None:
    for key in mapping:
        if key not in known:
            name = shown(key)[1:-1] if isinstance(key, str) else shown(key)
            path = f"{where}.{name}" if where else name
            raise fail(path, f"unknown key; the keys allowed here are: {', '.join(known)}")


def _text(value: Any, key: str, fail, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise fail(key, f"expected text, found {type(value).__name__}")
    value = str(value).strip()
    if required and not value:
        raise fail(key, "must not be empty")
    return value


def _flag(value: Any, key: str, fail) -> bool:
    if not isinstance(value, bool):
        raise fail(key, f"expected true or false, found {shown(value)}")
    return value


def _labels(
    value: Any, key: str, fail, default: tuple[Label, ...] | None, keys: tuple[str, ...] = LABEL_KEYS
) -> tuple[Label, ...]:
    if value is None and default is not None:
        return default
    if not isinstance(value, list):
        raise fail(key, "expected a list of labels, each with an 'id' (and usually a 'name' and 'description')")
    if not value:
        raise fail(
            key,
            "the list is empty; give at least one label" + ("" if default is None else " or drop the key"),
        )
    labels: list[Label] = []
    ids: dict[str, int] = {}
    names: dict[str, int] = {}
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        if isinstance(item, str):
            item = {"id": item}
        if not isinstance(item, dict):
            raise fail(where, "expected a mapping with 'id', 'name' and 'description', or a bare id")
        _no_unknown_keys(item, keys, where, fail)
        if "id" not in item:
            raise fail(where, "missing 'id'")
        label_id = item["id"]
        if isinstance(label_id, str) and len(label_id) > MAX_ID_LENGTH:
            raise fail(
                f"{where}.id",
                f"{len(label_id):,} characters; an id has at most {MAX_ID_LENGTH} (put the words people read in "
                "'name' and 'description')",
            )
        if not isinstance(label_id, str) or not ID_PATTERN.match(label_id):
            raise fail(
                f"{where}.id",
                f"{shown(label_id)} is not a valid id: use letters, digits and underscores, not starting with a "
                "digit (e.g. us_government); put the words people read in 'name'",
            )
        if label_id in ids:
            raise fail(
                f"{where}.id", f"duplicate id {shown(label_id)} (also {key}[{ids[label_id]}]); ids must be unique"
            )
        label_name = _text(item.get("name", label_id), f"{where}.name", fail) or label_id
        look = look_alike_key(label_name)
        if look in names:
            raise fail(f"{where}.name", _duplicate_name(label_name, labels[names[look]].name, f"{key}[{names[look]}]"))
        ids[label_id], names[look] = i, i
        description = _text(item.get("description", ""), f"{where}.description", fail)
        aliases = _aliases(item.get("aliases"), f"{where}.aliases", fail)
        labels.append(Label(label_id, label_name, description, aliases))
    _no_shared_aliases(labels, key, fail)
    return tuple(labels)


def _duplicate_name(name: str, other: str, where: str) -> str:
    if name == other:
        return f"duplicate name {shown(name)} (also {where}); annotators could not tell them apart"
    return (
        f"duplicate name {ascii(name)[:80]}: it looks the same as {where}, "
        f"{ascii(other)[:80]} (they differ only in look-alike or invisible characters, or in case); "
        "annotators could not tell them apart"
    )


def look_alike_key(name: str) -> str:
    """What a name looks like to a reader: the same for names that differ only in case, in compatibility forms
    (full-width letters, ligatures), in invisible characters (zero-width spaces, joiners, direction marks) or in
    letters of other scripts drawn alike (Cyrillic а for Latin a), after Unicode's confusables (UTS #39)."""
    text = unicodedata.normalize("NFKC", name)
    text = " ".join("".join(c for c in text if c.isspace() or not _invisible(c)).split())
    table = _prototypes()
    looks = "".join(table.get(c, c) for c in text).casefold()
    return "".join(table.get(c, c) for c in looks)


def _invisible(char: str) -> bool:
    """Format and control characters, and the other default-ignorable ones that draw nothing."""
    return unicodedata.category(char) in ("Cf", "Cc") or char in _IGNORABLE or "\ufe00" <= char <= "\ufe0f"


_IGNORABLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0")


@lru_cache(maxsize=1)
def _prototypes() -> dict[str, str]:
    """Each character that Unicode's confusables list draws like another, mapped to one character of its group
    (an ASCII letter where the group has one): groups are joined through every pair the list names."""
    from confusable_homoglyphs.confusables import confusables_data

    parent: dict[str, str] = {}

    def root(char: str) -> str:
        while parent.get(char, char) != char:
            char = parent[char]
        return char

    for char, homoglyphs in confusables_data.items():
        for glyph in homoglyphs:
            other = "".join(c for c in glyph["c"] if not _invisible(c))
            if len(char) == 1 and len(other) == 1:
                a, b = root(char), root(other)
                if a != b:
                    keep, drop = sorted((a, b), key=_preference)
                    parent[drop] = keep
    return {char: root(char) for char in parent}


def _preference(char: str) -> tuple[bool, bool, str]:
    return (not (char.isascii() and char.isalpha()), not char.isascii(), char)


def _aliases(value: Any, key: str, fail) -> tuple[str, ...]:
    from annotation.mentions import AliasError, alias_pattern

    if value is None:
        return ()
    if not isinstance(value, list):
        raise fail(key, 'expected a list of names, e.g. aliases: [MEK, PMOI, "re:Mojahed(in|een)"]')
    aliases: list[str] = []
    for i, alias in enumerate(value):
        if not isinstance(alias, (str, int, float)) or isinstance(alias, bool):
            raise fail(f"{key}[{i}]", f"expected a name, found {type(alias).__name__}")
        alias = str(alias).strip()
        if alias in aliases:
            raise fail(f"{key}[{i}]", f"{shown(alias)} is listed twice")
        try:
            alias_pattern(alias)
        except AliasError as err:
            raise fail(f"{key}[{i}]", str(err)) from None
        aliases.append(alias)
    return tuple(aliases)


def _no_shared_aliases(labels: list[Label], key: str, fail) -> None:
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        for alias in label.aliases:
            folded = alias.casefold()
            if folded in seen and seen[folded] != i:
                raise fail(
                    f"{key}[{i}].aliases",
                    f"{shown(alias)} is also an alias of {key}[{seen[folded]}]; a name can stand for one target only",
                )
            seen[folded] = i


def shipped_codebooks() -> dict[str, Path]:
    """The codebooks that ship with framestance, by file stem."""
    folder = resources.files("annotation") / "codebooks"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".yaml")}


def starter_codebook_text() -> str:
    """The commented starter codebook that `framestance codebook new` writes."""
    return shipped_codebooks()["starter"].read_text(encoding="utf-8")
