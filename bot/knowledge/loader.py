"""Load ``knowledge/*.yaml`` into frozen :mod:`bot.knowledge.model` objects, or say what is wrong.

Every problem is collected before anything is refused, and each one is located
(file, line, entry), in French, for the ministry staff who maintain the files.

Steps, for each ``*.yaml`` / ``*.yml`` file of the directory (sorted, dotfiles ignored):

1. parse with PyYAML's C parser into nodes (``compose``), then turn nodes into plain data
   ourselves, recording the line of every value and every key and refusing duplicate keys
   (which PyYAML would silently accept). Scalars follow YAML 1.2: ``on``/``no``/``oui``
   stay text and ``2020-07-01`` stays text (the schema checks its format);
2. check the data against ``schema.json`` with :class:`_SchemaChecker`, a small interpreter
   of the JSON Schema keywords the schema uses. It imports in no time where ``jsonschema``
   costs ~80 ms at every start of ``tchap-bot ask``; ``tchap-bot check`` and the unit tests
   run ``jsonschema`` too and compare (see :mod:`bot.knowledge.check`). A keyword the
   interpreter does not know makes it refuse the schema, so the two cannot drift silently;
3. build the typed objects of the entries found valid, then check what a schema cannot:
   duplicate ids across files, references between entries, the subject ids required by the
   evaluation, ranges, dates (past or near ``valid_until`` = warning only).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml

from bot.knowledge.model import (
    Category,
    Caveat,
    Contact,
    Conversation,
    Knowledge,
    Lexicon,
    Link,
    Need,
    Option,
    OutsideApp,
    Range,
    Tip,
    Tool,
)

log = logging.getLogger(__name__)

Severity = Literal["error", "warning"]
PathKey = str | int
DataPath = tuple[PathKey, ...]

# The subjects shared/eval/README.md requires, by kind.
REQUIRED_IDS: dict[str, tuple[str, ...]] = {
    "needs": (
        "audio_conference",
        "web_conference",
        "collaborative_workspace",
        "email",
        "instant_messaging",
    ),
    "tools": (
        "mobile_phone",
        "audioconf_ministere",
        "webconf_etat",
        "lifesize",
        "zoom",
        "scaleway",
        "tixeo",
        "sharepoint",
        "alfresco",
        "osmose",
        "webmel_stockage",
        "mel",
        "tchap",
        "ariane",
    ),
    "tips": ("merge_calls_android", "merge_calls_iphone"),
}

# Sections holding lists of entries: subject prefix and French name (for messages).
LIST_SECTIONS: dict[str, tuple[str, str]] = {
    "needs": ("need", "besoin"),
    "tools": ("tool", "outil"),
    "tips": ("tip", "astuce"),
    "outside_apps": ("outside_app", "application hors offre"),
}
SINGLE_SECTIONS: dict[str, str] = {"lexicon": "lexique", "conversation": "conversation"}
ENTRY_LABELS: dict[str, str] = {
    **{prefix: label for prefix, label in LIST_SECTIONS.values()},
    **{name: label for name, label in SINGLE_SECTIONS.items()},
}
YAML_SUFFIXES = (".yaml", ".yml")
SCHEMA_PATH = Path(__file__).with_name("schema.json")


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a look) in the knowledge files.

    ``entry`` is the subject-like name of the entry concerned (``tool:zoom``,
    ``need#3`` when it has no usable id, ``lexicon``, ``conversation``) or ``None``.
    """

    file: str
    line: int | None
    entry: str | None
    message: str
    severity: Severity = "error"


class KnowledgeError(Exception):
    """The knowledge cannot be loaded: ``problems`` lists every error (and warning) found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(
            f"{len(errors)} erreur(s) dans la base de connaissances :\n"
            + "\n".join(format_problem(p) for p in problems)
        )


def entry_label(entry: str) -> str:
    """`tool:zoom` -> `outil « zoom »`, `tool#3` -> `outil n° 3`, `lexicon` -> `lexique`."""
    if ":" in entry:
        kind, name = entry.split(":", 1)
        return f"{ENTRY_LABELS.get(kind, kind)} « {name} »"
    if "#" in entry:
        kind, number = entry.split("#", 1)
        return f"{ENTRY_LABELS.get(kind, kind)} n° {number}"
    return ENTRY_LABELS.get(entry, entry)


def format_problem(p: Problem) -> str:
    """One line per problem, ``file:line: entry : message`` (editors can jump to it)."""
    where = p.file if p.line is None else f"{p.file}:{p.line}"
    parts = [f"{where}:"]
    if p.severity == "warning":
        parts.append("avertissement :")
    if p.entry:
        parts.append(f"{entry_label(p.entry)} :")
    parts.append(p.message)
    return " ".join(parts)


# --------------------------------------------------------------------------- YAML reading

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
class _Issue:
    """A problem before its entry and line are resolved: located by a data path."""

    path: DataPath
    message: str
    severity: Severity = "error"
    at_key: bool = False  # locate at the key ``path[-1]`` rather than at its value
    line: int | None = None  # known line, overriding the path


@dataclass
class ParsedFile:
    """One YAML file as plain data, with the line of every value and key."""

    name: str
    data: Any = None
    lines: dict[DataPath, int] = field(default_factory=dict)  # value path -> line
    key_lines: dict[DataPath, int] = field(default_factory=dict)  # key path -> line
    issues: list[_Issue] = field(default_factory=list)

    def line_of(self, path: DataPath, at_key: bool = False) -> int | None:
        if at_key and path in self.key_lines:
            return self.key_lines[path]
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def entry_of(self, path: DataPath) -> str | None:
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

    def problem(self, issue: _Issue) -> Problem:
        line = issue.line if issue.line is not None else self.line_of(issue.path, issue.at_key)
        entry = self.entry_of(issue.path)
        depth = 2 if entry and issue.path[0] in LIST_SECTIONS else 1 if entry else 0
        inner = issue.path[depth : -1 if issue.at_key else None]
        where = _format_path(inner)
        message = f"{where} : {issue.message}" if where else issue.message
        return Problem(self.name, line, entry, message, issue.severity)


def _format_path(path: Sequence[PathKey]) -> str:
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _read_file(path: Path) -> ParsedFile:
    f = ParsedFile(path.name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        f.issues.append(_Issue((), f"lecture impossible : {e}", line=None))
        return f
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        detail = " ; ".join(str(x) for x in (e.context, e.problem) if x)
        f.issues.append(
            _Issue((), f"erreur de syntaxe YAML : {detail}", line=mark.line + 1 if mark else None)
        )
        return f
    except yaml.YAMLError as e:
        f.issues.append(_Issue((), f"erreur de syntaxe YAML : {e}", line=None))
        return f
    if node is None:
        f.issues.append(_Issue((), "fichier vide", line=1))
        return f
    f.data = _convert(node, (), f, set())
    return f


def _convert(node: yaml.Node, path: DataPath, f: ParsedFile, stack: set[int]) -> Any:
    """Plain data from a node, recording lines; duplicate keys and odd tags become issues."""
    line = node.start_mark.line + 1
    f.lines[path] = line
    if id(node) in stack:
        f.issues.append(_Issue(path, "référence YAML circulaire (ancre et alias)", line=line))
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
            f.issues.append(_Issue(path, f"clé {what}", line=key_line))
            continue
        key = key_node.value
        if key in out:
            first = f.key_lines[(*path, key)]
            f.issues.append(
                _Issue(path, f"clé « {key} » en double (déjà ligne {first})", line=key_line)
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
        _Issue(path, f"étiquette YAML « {tag} » non prise en charge", line=node.start_mark.line + 1)
    )
    return value


# --------------------------------------------------------------------------- schema checking

_TYPE_NAMES = {
    "object": "une table (clé: valeur)",
    "array": "une liste",
    "string": "un texte",
    "integer": "un nombre entier",
    "boolean": "true ou false",
    "null": "rien",
}


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


class _SchemaChecker:
    """Checks plain data against the subset of JSON Schema 2020-12 that schema.json uses.

    Same verdicts as ``jsonschema.Draft202012Validator`` for that subset (the unit tests
    compare them); messages in French and errors located by data path.
    """

    KEYWORDS = frozenset(
        {
            "$schema", "$id", "$defs", "$comment", "title", "description",
            "type", "properties", "required", "additionalProperties", "items", "enum",
            "pattern", "minLength", "minItems", "uniqueItems", "minimum", "maximum",
            "minProperties", "propertyNames", "$ref",
        }
    )  # fmt: skip

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.root = schema
        self.patterns: dict[str, re.Pattern[str]] = {}
        self._verify(schema, "#")

    def _verify(self, schema: Any, where: str) -> None:
        if isinstance(schema, bool):
            return
        if not isinstance(schema, dict):
            raise ValueError(f"schema.json: {where}: not a schema")
        unknown = set(schema) - self.KEYWORDS
        if unknown:
            raise ValueError(f"schema.json: {where}: unsupported keywords {sorted(unknown)}")
        for key in ("$defs", "properties"):
            for name, sub in schema.get(key, {}).items():
                self._verify(sub, f"{where}/{key}/{name}")
        for key in ("items", "additionalProperties", "propertyNames"):
            if key in schema:
                self._verify(schema[key], f"{where}/{key}")
        if "pattern" in schema:
            self.patterns[schema["pattern"]] = re.compile(schema["pattern"])
        if "$ref" in schema:
            self._resolve(schema["$ref"])

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValueError(f"schema.json: only local $ref are supported, not {ref}")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def errors(self, data: Any) -> Iterator[_Issue]:
        return self._check(data, self.root, ())

    def _check(self, value: Any, schema: Any, path: DataPath) -> Iterator[_Issue]:
        if schema is True:
            return
        if schema is False:
            yield _Issue(path, "valeur non permise ici")
            return
        if "$ref" in schema:
            target = self._resolve(schema["$ref"])
            yield from self._check(value, target, path)
        kind = _type_of(value)
        expected = schema.get("type")
        if expected is not None:
            names = [expected] if isinstance(expected, str) else list(expected)
            if kind not in names:
                wanted = " ou ".join(_TYPE_NAMES.get(n, n) for n in names)
                yield _Issue(path, f"{wanted} attendu(e), trouvé « {_short(value)} »")
                return
        if "enum" in schema and value not in schema["enum"]:
            allowed = ", ".join(str(v) for v in schema["enum"])
            yield _Issue(path, f"valeur « {_short(value)} » invalide (permises : {allowed})")
        if kind == "string":
            yield from self._check_string(value, schema, path)
        elif kind == "integer":
            if "minimum" in schema and value < schema["minimum"]:
                yield _Issue(path, f"{value} est inférieur au minimum {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                yield _Issue(path, f"{value} est supérieur au maximum {schema['maximum']}")
        elif kind == "array":
            yield from self._check_array(value, schema, path)
        elif kind == "object":
            yield from self._check_object(value, schema, path)

    def _check_string(
        self, value: str, schema: Mapping[str, Any], path: DataPath
    ) -> Iterator[_Issue]:
        if "minLength" in schema and len(value) < schema["minLength"]:
            yield _Issue(path, "texte vide" if not value else "texte trop court")
        pattern = schema.get("pattern")
        if pattern is not None and not self.patterns[pattern].search(value):
            expected = schema.get("description") or f"motif {pattern}"
            yield _Issue(path, f"« {_short(value)} » invalide ({expected})")

    def _check_array(
        self, value: list[Any], schema: Mapping[str, Any], path: DataPath
    ) -> Iterator[_Issue]:
        if "minItems" in schema and len(value) < schema["minItems"]:
            yield _Issue(path, f"liste vide ou trop courte (au moins {schema['minItems']})")
        if schema.get("uniqueItems"):
            seen: dict[str, int] = {}
            for i, item in enumerate(value):
                key = json.dumps(item, sort_keys=True, ensure_ascii=False)
                if key in seen:
                    yield _Issue(
                        (*path, i),
                        f"« {_short(item)} » en double dans la liste "
                        f"(déjà en position {seen[key] + 1})",
                    )
                else:
                    seen[key] = i
        if "items" in schema:
            for i, item in enumerate(value):
                yield from self._check(item, schema["items"], (*path, i))

    def _check_object(
        self, value: dict[str, Any], schema: Mapping[str, Any], path: DataPath
    ) -> Iterator[_Issue]:
        properties: Mapping[str, Any] = schema.get("properties", {})
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            yield _Issue(path, "table vide")
        names = schema.get("propertyNames")
        additional = schema.get("additionalProperties", True)
        missing = [name for name in schema.get("required", ()) if name not in value]
        if missing and additional is False:
            # A misspelt key ("phrasing") is reported once, as unknown with its correction.
            unknown = [k for k in value if k not in properties]
            missing = [m for m in missing if not _close(m, unknown)]
        for name in missing:
            yield _Issue(path, f"clé obligatoire manquante « {name} »")
        for key, item in value.items():
            if names is not None:
                for issue in self._check(key, names, (*path, key)):
                    issue.at_key = True
                    issue.message = f"nom « {key} » : {issue.message}"
                    yield issue
            if key in properties:
                yield from self._check(item, properties[key], (*path, key))
            elif additional is False:
                yield _Issue((*path, key), _unknown_key(key, properties), at_key=True)
            elif additional is not True:
                yield from self._check(item, additional, (*path, key))


def _close(word: str, candidates: Sequence[str]) -> str | None:
    if not candidates:
        return None
    import difflib  # only on error paths

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def _unknown_key(key: str, known: Mapping[str, Any]) -> str:
    close = _close(key, list(known))
    hint = f"attendu : {close}" if close else "permises : " + ", ".join(known)
    return f"clé inconnue « {key} » ({hint})"


_schema_cache: dict[str, Any] = {}


def load_schema() -> dict[str, Any]:
    """The shipped schema.json, parsed once."""
    if "schema" not in _schema_cache:
        text = SCHEMA_PATH.read_text(encoding="utf-8")
        _schema_cache["schema"] = json.loads(text)
    schema: dict[str, Any] = _schema_cache["schema"]
    return schema


def schema_checker() -> _SchemaChecker:
    if "checker" not in _schema_cache:
        _schema_cache["checker"] = _SchemaChecker(load_schema())
    checker: _SchemaChecker = _schema_cache["checker"]
    return checker


# --------------------------------------------------------------------------- typed building


@dataclass
class _Located:
    """An entry that passed the schema, with where it came from."""

    file: ParsedFile
    path: DataPath
    data: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.file.name}:{self.file.line_of(self.path)}"


@dataclass
class LoadResult:
    """Everything one load found: the knowledge (None on error), problems, parsed files."""

    knowledge: Knowledge | None
    problems: list[Problem]
    files: list[ParsedFile]  # every file read, with its plain data and line tables


def _range(data: Any) -> Range | None:
    if data is None:
        return None
    return Range(min=_int_or_none(data.get("min")), max=_int_or_none(data.get("max")))


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(value or ())


class _Builder:
    def __init__(self, directory: Path, today: date | None, warn_days: int) -> None:
        self.directory = directory
        self.today = today
        self.warn_days = warn_days
        self.problems: list[Problem] = []
        self.files: list[ParsedFile] = []
        # kind -> id -> first place it was seen (valid or not), for duplicates and references
        self.seen: dict[str, dict[str, _Located]] = {k: {} for k in LIST_SECTIONS}
        self.valid: dict[str, list[_Located]] = {k: [] for k in LIST_SECTIONS}
        self.singles: dict[str, _Located] = {}
        self.invalid_singles: set[str] = set()  # present but failed the schema

    def issue(self, f: ParsedFile, issue: _Issue) -> None:
        self.problems.append(f.problem(issue))

    # -- reading and schema

    def read(self) -> None:
        if not self.directory.is_dir():
            self.problems.append(Problem(str(self.directory), None, None, "dossier introuvable"))
            return
        paths = sorted(
            p
            for p in self.directory.iterdir()
            if p.suffix in YAML_SUFFIXES and not p.name.startswith(".") and p.is_file()
        )
        if not paths:
            self.problems.append(
                Problem(str(self.directory), None, None, "aucun fichier .yaml dans ce dossier")
            )
            return
        checker = schema_checker()
        for path in paths:
            f = _read_file(path)
            self.files.append(f)
            issues = list(f.issues)
            if f.data is not None:
                issues += checker.errors(f.data)
            for issue in issues:
                self.issue(f, issue)
            if f.data is not None:
                self._collect(f, issues)

    def _collect(self, f: ParsedFile, issues: list[_Issue]) -> None:
        if not isinstance(f.data, dict):
            return
        bad = {i.path[:2] for i in issues if len(i.path) >= 2} | {
            i.path[:1] for i in issues if len(i.path) == 1
        }
        if any(len(i.path) == 0 for i in issues if i.severity == "error"):
            bad.add(())
        for section in LIST_SECTIONS:
            items = f.data.get(section)
            if not isinstance(items, list):
                continue
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    continue
                here = _Located(f, (section, i), item)
                ident = item.get("id")
                if isinstance(ident, str):
                    first = self.seen[section].get(ident)
                    if first is not None:
                        self.issue(
                            f,
                            _Issue(
                                (section, i, "id"),
                                f"identifiant « {ident} » en double (déjà défini dans "
                                f"{first.where})",
                            ),
                        )
                        continue
                    self.seen[section][ident] = here
                if (section, i) not in bad and () not in bad and (section,) not in bad:
                    self.valid[section].append(here)
        for section in SINGLE_SECTIONS:
            if section not in f.data:
                continue
            here = _Located(f, (section,), f.data[section])
            if section in self.singles:
                self.issue(
                    f,
                    _Issue(
                        (section,),
                        f"section « {section} » déjà définie dans {self.singles[section].where}",
                        at_key=True,
                    ),
                )
                continue
            self.singles[section] = here
            if any(i.path[:1] == (section,) for i in issues) or () in bad:
                self.invalid_singles.add(section)

    # -- typed objects and cross-checks

    def build(self) -> Knowledge | None:
        if not self.files:
            return None
        for section in LIST_SECTIONS:
            if not self.seen[section] and section != "outside_apps":
                self.problems.append(
                    Problem(self.directory.name, None, None, f"section « {section} » absente")
                )
        for section in SINGLE_SECTIONS:
            if section not in self.singles:
                self.problems.append(
                    Problem(self.directory.name, None, None, f"section « {section} » absente")
                )
        for section, ids in REQUIRED_IDS.items():
            if not self.seen[section]:
                continue
            prefix, label = LIST_SECTIONS[section]
            for ident in ids:
                if ident not in self.seen[section]:
                    self.problems.append(
                        Problem(
                            self.directory.name,
                            None,
                            None,
                            f"{label} « {ident} » manquant (identifiant exigé par l'évaluation, "
                            f"{prefix}:{ident})",
                        )
                    )

        tools = {loc.data["id"]: self._tool(loc) for loc in self.valid["tools"]}
        needs = {loc.data["id"]: self._need(loc) for loc in self.valid["needs"]}
        lexicon = self._lexicon()
        tips = {loc.data["id"]: self._tip(loc, lexicon) for loc in self.valid["tips"]}
        apps = {loc.data["id"]: self._outside_app(loc) for loc in self.valid["outside_apps"]}
        conversation = self._conversation()

        origins: dict[str, tuple[str, int]] = {}
        for section, (prefix, _label) in LIST_SECTIONS.items():
            for loc in self.valid[section]:
                origins[f"{prefix}:{loc.data['id']}"] = (
                    loc.file.name,
                    loc.file.line_of(loc.path) or 0,
                )

        if any(p.severity == "error" for p in self.problems):
            return None
        assert lexicon is not None and conversation is not None
        return Knowledge(
            needs=needs,
            tools=tools,
            tips=tips,
            outside_apps=apps,
            lexicon=lexicon,
            conversation=conversation,
            origins=origins,
        )

    def _ref(self, loc: _Located, path: DataPath, kind: str, ident: str | None) -> None:
        if ident is not None and ident not in self.seen[kind]:
            label = LIST_SECTIONS[kind][1]
            self.issue(loc.file, _Issue((*loc.path, *path), f"{label} inconnu « {ident} »"))

    def _check_range(self, loc: _Located, path: DataPath, r: Range | None) -> None:
        if r is not None and r.min is not None and r.max is not None and r.min > r.max:
            self.issue(
                loc.file, _Issue((*loc.path, *path), f"min ({r.min}) supérieur à max ({r.max})")
            )

    def _check_date(
        self, loc: _Located, path: DataPath, value: Any, what: str
    ) -> tuple[date | None, bool]:
        """Parse a date already of the right shape; warn if past or near. (date, ok)."""
        if value is None:
            return None, True
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.issue(loc.file, _Issue((*loc.path, *path), f"date « {value} » inexistante"))
            return None, False
        if self.today is not None:
            where = (*loc.path, *path)
            if day < self.today:
                self.issue(
                    loc.file,
                    _Issue(where, f"{what} a expiré le {day.isoformat()}", severity="warning"),
                )
            elif day <= self.today + timedelta(days=self.warn_days):
                left = (day - self.today).days
                self.issue(
                    loc.file,
                    _Issue(
                        where,
                        f"{what} expire le {day.isoformat()} (dans {left} jour(s))",
                        severity="warning",
                    ),
                )
        return day, True

    def _caveat(self, loc: _Located, i: int, d: dict[str, Any]) -> Caveat:
        path: DataPath = ("caveats", i)
        participants = _range(d.get("participants"))
        self._check_range(loc, (*path, "participants"), participants)
        day, _ok = self._check_date(
            loc, (*path, "valid_until"), d.get("valid_until"), "la mise en garde"
        )
        if d.get("expired_text") and d.get("valid_until") is None:
            self.issue(
                loc.file,
                _Issue(
                    (*loc.path, *path, "expired_text"),
                    "expired_text sans valid_until : ce texte ne sera jamais affiché",
                    severity="warning",
                ),
            )
        return Caveat(
            text=d["text"],
            topics=_tuple(d.get("topics")),
            participants=participants,
            valid_until=day,
            expired_text=d.get("expired_text"),
        )

    def _tool(self, loc: _Located) -> Tool:
        d = loc.data
        participants = _range(d.get("participants"))
        self._check_range(loc, ("participants",), participants)
        day, _ok = self._check_date(loc, ("valid_until",), d.get("valid_until"), "l'outil")
        for i, tip in enumerate(d.get("tips") or ()):
            self._ref(loc, ("tips", i), "tips", tip)
        return Tool(
            id=d["id"],
            name=d["name"],
            offer=d["offer"],
            summary=d["summary"],
            phrasings=_tuple(d["phrasings"]),
            links=tuple(Link(x["label"], x["url"]) for x in d.get("links") or ()),
            contacts=tuple(Contact(x["label"], x["email"]) for x in d.get("contacts") or ()),
            caveats=tuple(self._caveat(loc, i, c) for i, c in enumerate(d.get("caveats") or ())),
            steps=_tuple(d.get("steps")),
            participants=participants,
            sensitive_ok=d.get("sensitive_ok", True),
            valid_until=day,
            tips=_tuple(d.get("tips")),
        )

    def _need(self, loc: _Located) -> Need:
        d = loc.data
        options = []
        for i, o in enumerate(d["options"]):
            participants = _range(o.get("participants"))
            self._check_range(loc, ("options", i, "participants"), participants)
            self._ref(loc, ("options", i, "tool"), "tools", o.get("tool"))
            if o.get("tool") is None and not o.get("text"):
                self.issue(
                    loc.file,
                    _Issue(
                        (*loc.path, "options", i),
                        "option sans outil : la clé « text » (règle du guide) est obligatoire",
                    ),
                )
            options.append(
                Option(
                    category=Category(o["category"]),
                    tool=o.get("tool"),
                    text=o.get("text", ""),
                    participants=participants,
                )
            )
        for i, tip in enumerate(d.get("tips") or ()):
            self._ref(loc, ("tips", i), "tips", tip)
        return Need(
            id=d["id"],
            title=d["title"],
            summary=d["summary"],
            phrasings=_tuple(d["phrasings"]),
            options=tuple(options),
            tips=_tuple(d.get("tips")),
            notes=_tuple(d.get("notes")),
        )

    def _tip(self, loc: _Located, lexicon: Lexicon | None) -> Tip:
        d = loc.data
        self._ref(loc, ("need",), "needs", d["need"])
        if lexicon is not None and d["device"] not in lexicon.devices:
            known = ", ".join(lexicon.devices) or "aucun"
            self.issue(
                loc.file,
                _Issue(
                    (*loc.path, "device"),
                    f"appareil inconnu « {d['device']} » (lexicon.devices : {known})",
                ),
            )
        return Tip(
            id=d["id"],
            title=d["title"],
            device=d["device"],
            need=d["need"],
            steps=_tuple(d["steps"]),
            phrasings=_tuple(d["phrasings"]),
        )

    def _outside_app(self, loc: _Located) -> OutsideApp:
        d = loc.data
        for i, need in enumerate(d["needs"]):
            self._ref(loc, ("needs", i), "needs", need)
        if d["id"] in self.seen["tools"]:
            self.issue(
                loc.file,
                _Issue(
                    (*loc.path, "id"),
                    f"« {d['id']} » est déjà un outil du guide "
                    f"({self.seen['tools'][d['id']].where})",
                ),
            )
        return OutsideApp(
            id=d["id"], name=d["name"], needs=_tuple(d["needs"]), phrasings=_tuple(d["phrasings"])
        )

    def _lexicon(self) -> Lexicon | None:
        loc = self.singles.get("lexicon")
        if loc is None or "lexicon" in self.invalid_singles:
            return None
        d = loc.data
        return Lexicon(
            abbreviations=dict(d["abbreviations"]),
            devices={k: tuple(v) for k, v in d["devices"].items()},
            sensitive=_tuple(d["sensitive"]),
            approximate_numbers={k: int(v) for k, v in d["approximate_numbers"].items()},
            stopwords=_tuple(d["stopwords"]),
        )

    def _conversation(self) -> Conversation | None:
        loc = self.singles.get("conversation")
        if loc is None or "conversation" in self.invalid_singles:
            return None
        d = loc.data
        return Conversation(
            help_phrasings=_tuple(d["help_phrasings"]),
            out_of_scope_phrasings=_tuple(d["out_of_scope_phrasings"]),
            greeting=d["greeting"],
            menu_intro=d["menu_intro"],
            out_of_scope=d["out_of_scope"],
            clarify_intro=d["clarify_intro"],
            outside_offer_rule=d["outside_offer_rule"],
            category_labels={Category(k): v for k, v in d["category_labels"].items()},
            source=d["source"],
        )


def _sort_key(p: Problem) -> tuple[int, str, int]:
    # Directory-level problems last; then by file and line.
    return (0 if p.line is not None else 1, p.file, p.line or 0)


def load_with_problems(
    directory: Path, *, today: date | None = None, warn_days: int = 30
) -> LoadResult:
    """Load and report everything: never raises for content problems.

    ``today=None`` skips the date warnings (expired or expiring ``valid_until``).
    """
    builder = _Builder(Path(directory), today, warn_days)
    builder.read()
    knowledge = builder.build()
    problems = sorted(builder.problems, key=_sort_key)
    return LoadResult(knowledge, problems, builder.files)


def load_knowledge(directory: Path, *, today: date | None = None) -> Knowledge:
    """The knowledge of ``directory``; raises :class:`KnowledgeError` listing every error.

    Warnings (an offer past or near its ``valid_until`` relative to ``today``, skipped when
    ``today`` is None) never prevent loading: they are logged at INFO level, since replies
    already say when an offer has ended and ``tchap-bot check`` reports them.
    """
    result = load_with_problems(directory, today=today)
    if result.knowledge is None:
        raise KnowledgeError(result.problems)
    for p in result.problems:
        log.info("%s", format_problem(p))
    return result.knowledge
