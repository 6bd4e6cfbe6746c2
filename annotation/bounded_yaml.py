"""YAML that cannot take more than it is worth: every YAML file framestance reads goes through `parse_yaml`.

A small file can still cost minutes and gigabytes: anchors and aliases (`&a`, `*a`) that stand for each other
a few levels deep expand to billions of values, and thousands of nested brackets exhaust Python's stack. The
loader is PyYAML's safe loader with bounds on the text's size, on how deep it nests, and on how many values
its aliases stand for; a mapping key must be a plain value, and no key may appear twice in one mapping.
"""

from __future__ import annotations

import reprlib
from pathlib import Path

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES = 1 << 20
MAX_DEPTH = 50
MAX_ALIASED_VALUES = 10_000


class YamlError(ValueError):
    """A YAML text that is not valid, or passes one of the bounds; `line` is where (0 when not known)."""

    def __init__(self, problem: str, line: int = 0):
        self.problem, self.line = problem, line
        super().__init__(f"line {line}: {problem}" if line else problem)

    def __reduce__(self):  # so that the error survives the trip back from a child process
        return type(self), (self.problem, self.line)


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that counts depth and the values aliases stand for while it composes the tree."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._aliased = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Node | None, index: object) -> Node:
        if self.check_event(AliasEvent):
            mark = self.peek_event().start_mark
            node = super().compose_node(parent, index)
            self._count_alias(node, mark)
            return node
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Bound(f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._sizes[id(node)] = 1 + sum(self._sizes.get(id(child), 1) for child in _children(node))
        return node

    def _count_alias(self, node: Node, mark) -> None:
        size = self._sizes.get(id(node))
        if size is None:
            raise _Bound("an alias inside the very value its anchor names (a loop)", mark)
        self._aliased += size
        if self._aliased > MAX_ALIASED_VALUES:
            raise _Bound(
                f"the aliases (*name) stand for more than {MAX_ALIASED_VALUES:,} values in all; "
                "write the values out, or use fewer aliases",
                mark,
            )


class _Bound(yaml.YAMLError):
    """A bound that a YAML text passes, at a place in it."""

    def __init__(self, problem: str, mark):
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _construct_mapping(loader: _BoundedLoader, node: MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode):
            kind = "mapping" if isinstance(key_node, MappingNode) else "list"
            raise _Bound(f"a key must be a plain value (a name or a number), not a {kind}", key_node.start_mark)
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise _Bound(f"the key {shown(key)} appears twice in one mapping", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_BoundedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def shown(value: object, width: int = 60) -> str:
    """`value` as Python writes it, cut to `width` characters: an error message never repeats a huge value."""
    if isinstance(value, (str, bytes)):
        value = value[: width + 1]
    text = reprlib.repr(value) if isinstance(value, (list, dict, set, tuple)) else repr(value)
    return text if len(text) <= width else f"{text[: width - 1]}…"


def parse_yaml(text: str) -> object:
    """The value of a YAML text, read with the safe loader within the bounds; `YamlError` says what and where."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise YamlError(f"{size:,} bytes; a YAML file framestance reads is at most {MAX_BYTES:,} bytes")
    try:
        return yaml.load(text, Loader=_BoundedLoader)
    except _Bound as err:
        raise YamlError(err.problem, err.problem_mark.line + 1) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err)
        raise YamlError(f"not valid YAML: {problem}", mark.line + 1 if mark else 0) from None


def read_yaml(path: str | Path) -> object:
    """The value of a YAML file, as `parse_yaml` reads it; a file over the size bound is not read at all."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise YamlError(f"{size:,} bytes; a YAML file framestance reads is at most {MAX_BYTES:,} bytes")
    return parse_yaml(path.read_text(encoding="utf-8"))
