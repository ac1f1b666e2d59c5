"""Knowledge YAML files read into plain data, with the line of every value and key.

PyYAML's C parser composes the nodes; we turn them into data ourselves so that duplicate
keys (which PyYAML silently accepts) are refused and scalars follow YAML 1.2: ``on``/``no``/
``oui`` stay text and ``2020-07-01`` stays text (the schema checks its format).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from bot.knowledge.problems import (
    LIST_SECTIONS,
    SINGLE_SECTIONS,
    DataPath,
    Issue,
    PathKey,
    Problem,
)

_YamlBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_STR_TAG = "tag:yaml.org,2002:str"


class _Loader(_YamlBase):  # type: ignore[valid-type,misc]
    """YAML 1.2-like scalars: only true/false are booleans, dates stay text."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
        for first, resolvers in _YamlBase.yaml_implicit_resolvers.items()
    }


_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass
class ParsedFile:
    """One YAML file as plain data, with the line of every value and key."""

    name: str
    data: Any = None
    lines: dict[DataPath, int] = field(default_factory=dict)  # value path -> line
    key_lines: dict[DataPath, int] = field(default_factory=dict)  # key path -> line
    issues: list[Issue] = field(default_factory=list)
    nodes_left: int = 0  # set by read_file: the conversion's budget (alias bombs)

    def line_of(self, path: DataPath, at_key: bool = False) -> int | None:
        """Line of the value at ``path`` (or of its key), else of its nearest parent."""
        if at_key and path in self.key_lines:
            return self.key_lines[path]
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def entry_of(self, path: DataPath) -> str | None:
        """Subject-like name of the entry holding ``path`` (``tool:zoom``, ``need#3``)."""
        if not path or not isinstance(self.data, dict):
            return None
        section = path[0]
        if section in SINGLE_SECTIONS:
            return str(section)
        if section in LIST_SECTIONS and len(path) >= 2 and isinstance(path[1], int):
            prefix = LIST_SECTIONS[str(section)][0]
            items = self.data.get(section)
            item = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
            ident = item.get("id") if isinstance(item, dict) else None
            if isinstance(ident, str) and ident:
                return f"{prefix}:{ident}"
            return f"{prefix}#{path[1] + 1}"
        return None

    def problem(self, issue: Issue) -> Problem:
        """``issue`` located in this file: line, entry, and its path inside the entry."""
        line = issue.line if issue.line is not None else self.line_of(issue.path, issue.at_key)
        entry = self.entry_of(issue.path)
        depth = 2 if entry and issue.path[0] in LIST_SECTIONS else 1 if entry else 0
        inner = issue.path[depth : -1 if issue.at_key else None]
        where = _format_path(inner)
        message = f"{where} : {issue.message}" if where else issue.message
        return Problem(self.name, line, entry, message, issue.severity)


MAX_NODES = 200_000  # values in one file, aliases expanded (the guide has ~5,000)
MAX_DEPTH = 40


def _format_path(path: Sequence[PathKey]) -> str:
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def read_file(path: Path) -> ParsedFile:
    """One file; unreadable, malformed or empty YAML becomes an issue, never an exception."""
    f = ParsedFile(path.name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        f.issues.append(Issue((), f"lecture impossible : {e}"))
        return f
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        detail = " ; ".join(str(x) for x in (e.context, e.problem) if x)
        f.issues.append(
            Issue((), f"erreur de syntaxe YAML : {detail}", line=mark.line + 1 if mark else None)
        )
        return f
    except yaml.YAMLError as e:
        f.issues.append(Issue((), f"erreur de syntaxe YAML : {e}"))
        return f
    if node is None:
        f.issues.append(Issue((), "fichier vide", line=1))
        return f
    f.nodes_left = MAX_NODES
    f.data = _convert(node, (), f, set())
    if f.nodes_left < 0:
        f.issues.append(
            Issue((), f"trop d'éléments (plus de {MAX_NODES}) : alias YAML démultipliés ?")
        )
        f.data = None
    return f


def _convert(node: yaml.Node, path: DataPath, f: ParsedFile, stack: set[int]) -> Any:
    """Plain data from a node, recording lines; duplicate keys and odd tags become issues."""
    # Aliases share nodes: expanded naively, a few hundred bytes can become gigabytes (an
    # "alias bomb"). Every node converted counts; past the budget, nothing more is built.
    f.nodes_left -= 1
    if f.nodes_left < 0 or len(path) > MAX_DEPTH:
        f.nodes_left = min(f.nodes_left, -1)
        return None
    line = node.start_mark.line + 1
    f.lines[path] = line
    if id(node) in stack:
        f.issues.append(Issue(path, "référence YAML circulaire (ancre et alias)", line=line))
        return None
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node, path, f)
    stack = stack | {id(node)}
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), f, stack) for i, item in enumerate(node.value)]
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + 1
        if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR_TAG):
            what = (
                "« << » (fusion YAML) non prise en charge"
                if key_node.tag.endswith(":merge")
                else f"« {getattr(key_node, 'value', '?')} » : une clé doit être un texte"
            )
            f.issues.append(Issue(path, f"clé {what}", line=key_line))
            continue
        key = key_node.value
        if key in out:
            first = f.key_lines[(*path, key)]
            f.issues.append(
                Issue(path, f"clé « {key} » en double (déjà ligne {first})", line=key_line)
            )
            continue
        f.key_lines[(*path, key)] = key_line
        out[key] = _convert(value_node, (*path, key), f, stack)
    return out


def _scalar(node: yaml.ScalarNode, path: DataPath, f: ParsedFile) -> Any:
    value = node.value
    tag = node.tag
    if tag == _STR_TAG:
        return value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == _BOOL_TAG:
        return value.lower() == "true"
    if tag == "tag:yaml.org,2002:int":
        try:
            return int(value.replace("_", ""), 0)
        except ValueError:
            return value
    if tag == "tag:yaml.org,2002:float":
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return value
    f.issues.append(
        Issue(path, f"étiquette YAML « {tag} » non prise en charge", line=node.start_mark.line + 1)
    )
    return value
