"""Reading a study file's YAML safely: bounded in size, nesting and alias expansion.

A study file is small (a few kB; a run's study.json with inline tables tens of kB). What
is far beyond that is refused with the limit named, before it can exhaust time or memory:
a file larger than `MAX_FILE_BYTES` (or a stream without end, such as /dev/zero), nesting
deeper than `MAX_DEPTH` (it would exhaust Python's recursion), and aliases that expand to
more than `MAX_NODES` values (a "billion laughs" file is a few hundred bytes). Duplicate
keys in a mapping are errors too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 2_000_000
"""Largest study file read (about 8 s of YAML parsing)."""

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists (a study needs about 8)."""

MAX_NODES = 200_000
"""Most values (scalars, lists, mappings) a study may hold with its aliases expanded."""


class YamlLimitError(yaml.YAMLError):
    """A study file beyond one of this module's limits, or with a duplicate key."""


def read_yaml_file(path: Path) -> Any:
    """The data of a YAML file; OSError or UnicodeDecodeError if it cannot be read,
    `YamlLimitError` or another `yaml.YAMLError` if it is not a study's YAML."""
    with open(path, "rb") as stream:  # a pipe or a device too, read only so far
        data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise YamlLimitError(
            f"larger than {MAX_FILE_BYTES // 1_000_000} MB, the largest study file femcait reads"
        )
    return yaml.load(data.decode("utf-8"), Loader=_StudyLoader)


class _StudyLoader(yaml.SafeLoader):
    """A SafeLoader that bounds nesting and alias expansion and rejects duplicate keys."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlLimitError(
                    f"nested deeper than {MAX_DEPTH} levels at line {mark.line + 1}, "
                    f"column {mark.column + 1}"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_document(self, node: yaml.Node) -> Any:
        size = _expanded_size(node, {})
        if size > MAX_NODES:
            raise YamlLimitError(
                f"holds {size:.3g} values with its aliases (*name) expanded, more than "
                f"{MAX_NODES}; a study needs far fewer"
            )
        _check_unique_keys(node, (), set())
        return super().construct_document(node)


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Number of nodes below ``node`` with every alias expanded (memoised: an alias is the
    same node object, so this is linear in the file however large the expansion)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = 1  # a recursive alias counts once
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(item, sizes) for item in node.value)
    else:
        size = 1
    sizes[id(node)] = size
    return size


def _check_unique_keys(node: yaml.Node, path: tuple[str, ...], seen_nodes: set[int]) -> None:
    """Raise `YamlLimitError` if a mapping below `node` repeats a key."""
    if id(node) in seen_nodes:  # an alias of a node already checked
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first_seen: dict[str, str] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            mark = key_node.start_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}"
            if isinstance(key_node, yaml.ScalarNode) and key in first_seen:
                raise YamlLimitError(
                    f"{'.'.join((*path, key))}: duplicate key {key!r} at {where} "
                    f"(first given at {first_seen[key]})"
                )
            first_seen.setdefault(key, where)
            _check_unique_keys(value_node, (*path, key), seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _check_unique_keys(item, (*path, str(index)), seen_nodes)
