"""A small interpreter of the JSON Schema 2020-12 keywords that ``schema.json`` uses.

It imports in no time where ``jsonschema`` costs ~80 ms at every start of ``tchap-bot ask``;
``tchap-bot check`` and the unit tests run ``jsonschema`` too and compare. A keyword it does
not know makes it refuse the schema, so the two cannot drift silently.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.knowledge.problems import DataPath, Issue

SCHEMA_PATH = Path(__file__).with_name("schema.json")


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


class SchemaChecker:
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

    def errors(self, data: Any) -> Iterator[Issue]:
        """Every violation in ``data``, located by data path."""
        return self._check(data, self.root, ())

    def _check(self, value: Any, schema: Any, path: DataPath) -> Iterator[Issue]:
        if schema is True:
            return
        if schema is False:
            yield Issue(path, "valeur non permise ici")
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
                yield Issue(path, f"{wanted} attendu(e), trouvé « {_short(value)} »")
                return
        if "enum" in schema and value not in schema["enum"]:
            allowed = ", ".join(str(v) for v in schema["enum"])
            yield Issue(path, f"valeur « {_short(value)} » invalide (permises : {allowed})")
        if kind == "string":
            yield from self._check_string(value, schema, path)
        elif kind == "integer":
            if "minimum" in schema and value < schema["minimum"]:
                yield Issue(path, f"{value} est inférieur au minimum {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                yield Issue(path, f"{value} est supérieur au maximum {schema['maximum']}")
        elif kind == "array":
            yield from self._check_array(value, schema, path)
        elif kind == "object":
            yield from self._check_object(value, schema, path)

    def _check_string(
        self, value: str, schema: Mapping[str, Any], path: DataPath
    ) -> Iterator[Issue]:
        if "minLength" in schema and len(value) < schema["minLength"]:
            yield Issue(path, "texte vide" if not value else "texte trop court")
        pattern = schema.get("pattern")
        if pattern is not None and not self.patterns[pattern].search(value):
            expected = schema.get("description") or f"motif {pattern}"
            yield Issue(path, f"« {_short(value)} » invalide ({expected})")

    def _check_array(
        self, value: list[Any], schema: Mapping[str, Any], path: DataPath
    ) -> Iterator[Issue]:
        if "minItems" in schema and len(value) < schema["minItems"]:
            yield Issue(path, f"liste vide ou trop courte (au moins {schema['minItems']})")
        if schema.get("uniqueItems"):
            seen: dict[str, int] = {}
            for i, item in enumerate(value):
                key = json.dumps(item, sort_keys=True, ensure_ascii=False)
                if key in seen:
                    yield Issue(
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
    ) -> Iterator[Issue]:
        properties: Mapping[str, Any] = schema.get("properties", {})
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            yield Issue(path, "table vide")
        names = schema.get("propertyNames")
        additional = schema.get("additionalProperties", True)
        missing = [name for name in schema.get("required", ()) if name not in value]
        if missing and additional is False:
            # A misspelt key ("phrasing") is reported once, as unknown with its correction.
            unknown = [k for k in value if k not in properties]
            missing = [m for m in missing if not _close(m, unknown)]
        for name in missing:
            yield Issue(path, f"clé obligatoire manquante « {name} »")
        for key, item in value.items():
            if names is not None:
                for issue in self._check(key, names, (*path, key)):
                    issue.at_key = True
                    issue.message = f"nom « {key} » : {issue.message}"
                    yield issue
            if key in properties:
                yield from self._check(item, properties[key], (*path, key))
            elif additional is False:
                yield Issue((*path, key), _unknown_key(key, properties), at_key=True)
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


@functools.cache
def load_schema() -> dict[str, Any]:
    """The shipped schema.json, parsed once."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@functools.cache
def schema_checker() -> SchemaChecker:
    """The checker of the shipped schema, built (and the schema verified) once."""
    return SchemaChecker(load_schema())
