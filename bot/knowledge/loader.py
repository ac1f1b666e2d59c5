"""Load ``knowledge/*.yaml`` into frozen :mod:`bot.knowledge.model` objects, or say what is wrong.

Each file is read (:mod:`~bot.knowledge.yaml_lines`) and checked against the schema
(:mod:`~bot.knowledge.schema_check`); then what a schema cannot see is checked across entries:
duplicate ids, references, required subject ids, ranges and dates (``valid_until``: warnings).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.knowledge.expiries import expiries_of
from bot.knowledge.model import (
    Category,
    Caveat,
    Contact,
    Conversation,
    Dialogue,
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
from bot.knowledge.problems import (
    LIST_SECTIONS,
    SINGLE_SECTIONS,
    DataPath,
    Issue,
    KnowledgeError,
    Problem,
    format_problem,
)
from bot.knowledge.schema_check import schema_checker
from bot.knowledge.yaml_lines import ParsedFile, read_file

log = logging.getLogger(__name__)

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

YAML_SUFFIXES = (".yaml", ".yml")


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


MAX_FILE_BYTES = 1024 * 1024  # the whole guide is ~60 Kio of YAML
# One text of an entry, at most: a reply holds several of them and must fit in one Matrix
# message (64 KiB, and a third more once encrypted); the guide's longest is ~600.
MAX_TEXT_CHARS = 4000


def _too_long(data: Any, path: DataPath) -> Iterator[Issue]:
    if isinstance(data, str) and len(data) > MAX_TEXT_CHARS:
        yield Issue(
            path,
            f"texte de {len(data)} caractères (au plus {MAX_TEXT_CHARS}) : la réponse qui le "
            "contient ne tiendrait pas dans un message Tchap",
        )
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _too_long(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _too_long(value, (*path, i))


def _range(data: Any) -> Range | None:
    if data is None:
        return None
    return Range(
        min=_int_or_none(data.get("min")), max=_int_or_none(data.get("max")), said=data.get("said")
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(value or ())


_NOT_WORD = re.compile(r"[^a-z0-9]+")


def _words(text: str) -> list[str]:
    """Folded words (no accents, lower case), for the checks below; the core has its own."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return [w for w in _NOT_WORD.split(bare) if w]


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

    def issue(self, f: ParsedFile, issue: Issue) -> None:
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
        paths = [p for p in paths if self._only_knowledge(p)]
        if not paths:
            self.problems.append(
                Problem(str(self.directory), None, None, "aucun fichier .yaml dans ce dossier")
            )
            return
        checker = schema_checker()
        for path in paths:
            f = read_file(path)
            self.files.append(f)
            issues = list(f.issues)
            if f.data is not None:
                issues += [*checker.errors(f.data), *_too_long(f.data, ())]
            for issue in issues:
                self.issue(f, issue)
            if f.data is not None:
                self._collect(f, issues)

    def _only_knowledge(self, path: Path) -> bool:
        """A file of the directory, of a knowledge file's size: a symbolic link leading
        out of it (to a token file, /etc/passwd...) is not read, so nothing of another
        file can ever be quoted in an error message, a log or the admin chat."""
        inside = self.directory.resolve()
        target = path.resolve()
        if target.parent != inside and inside not in target.parents:
            self.problems.append(
                Problem(path.name, None, None, "lien vers un fichier hors du dossier : ignoré")
            )
            return False
        size = target.stat().st_size
        if size > MAX_FILE_BYTES:
            self.problems.append(
                Problem(
                    path.name,
                    None,
                    None,
                    f"fichier trop gros ({size // 1024} Kio, au plus {MAX_FILE_BYTES // 1024})",
                )
            )
            return False
        return True

    def _collect(self, f: ParsedFile, issues: list[Issue]) -> None:
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
                            Issue(
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
                    Issue(
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
        # Every section must be somewhere, except outside_apps which is optional.
        missing = [s for s in LIST_SECTIONS if not self.seen[s] and s != "outside_apps"]
        missing += [s for s in SINGLE_SECTIONS if s not in self.singles]
        for section in missing:
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
        if lexicon is not None:
            self._check_situations(lexicon)
            self._check_services(lexicon)

        origins: dict[str, tuple[str, int]] = {}
        for section, (prefix, _label) in LIST_SECTIONS.items():
            for loc in self.valid[section]:
                origins[f"{prefix}:{loc.data['id']}"] = (
                    loc.file.name,
                    loc.file.line_of(loc.path) or 0,
                )
        date_origins = self._date_origins()
        if self.today is not None:  # warnings: said even when an error stops the load
            for expiry in expiries_of(tools.values(), date_origins, self.today, self.warn_days):
                self.problems.append(expiry.problem())

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
            date_origins=date_origins,
        )

    def _date_origins(self) -> dict[tuple[str, int | None], tuple[str, int]]:
        """Where each tool's and caveat's ``valid_until`` was read."""
        found: dict[tuple[str, int | None], tuple[str, int]] = {}
        for loc in self.valid["tools"]:
            subject = f"tool:{loc.data['id']}"
            dated: list[tuple[int | None, DataPath]] = []
            if loc.data.get("valid_until") is not None:
                dated.append((None, ("valid_until",)))
            for i, caveat in enumerate(loc.data.get("caveats") or ()):
                if isinstance(caveat, dict) and caveat.get("valid_until") is not None:
                    dated.append((i, ("caveats", i, "valid_until")))
            for index, path in dated:
                found[(subject, index)] = (loc.file.name, loc.file.line_of((*loc.path, *path)) or 0)
        return found

    def _check_situations(self, lexicon: Lexicon) -> None:
        """A situation combines words (one word alone is a phrasing), or is one phrase of a
        concept standing for them all ("se voir": "face à face", "voir les visages"...); a
        concept word belongs to one concept, or a situation written with it would mean two
        things."""
        stopwords = {w for s in lexicon.stopwords for w in _words(s)}
        said = {tuple(_words(p)) for ps in lexicon.concepts.values() for p in ps}
        for section in ("needs", "tools"):
            for loc in self.valid[section]:
                for i, text in enumerate(loc.data.get("situations") or ()):
                    content = [w for w in _words(text) if w not in stopwords and len(w) > 1]
                    if len(content) < 2 and tuple(_words(text)) not in said:
                        self.issue(
                            loc.file,
                            Issue(
                                (*loc.path, "situations", i),
                                f"« {text} » : une situation combine au moins deux mots "
                                "(un mot seul va dans phrasings)",
                            ),
                        )
        lex = self.singles.get("lexicon")
        if lex is None:
            return
        owner: dict[tuple[str, ...], str] = {}
        for name, phrases in lexicon.concepts.items():
            for i, phrase in enumerate(phrases):
                key = tuple(_words(phrase))
                if not key or all(w in stopwords for w in key):
                    self.issue(
                        lex.file,
                        Issue(
                            ("lexicon", "concepts", name, i),
                            f"« {phrase} » : un mot vide seul ne dit rien d'une situation",
                        ),
                    )
                elif key in owner and owner[key] != name:
                    self.issue(
                        lex.file,
                        Issue(
                            ("lexicon", "concepts", name, i),
                            f"« {phrase} » est déjà dans le concept « {owner[key]} »",
                        ),
                    )
                else:
                    owner[key] = name

    def _check_services(self, lexicon: Lexicon) -> None:
        """A fact for a service names one of lexicon.services, or it is never said."""
        known = ", ".join(lexicon.services) or "aucun"
        for loc in self.valid["tools"]:
            for i, caveat in enumerate(loc.data.get("caveats") or ()):
                for j, service in enumerate(caveat.get("services") or ()):
                    if service not in lexicon.services:
                        self.issue(
                            loc.file,
                            Issue(
                                (*loc.path, "caveats", i, "services", j),
                                f"service inconnu « {service} » (lexicon.services : {known})",
                            ),
                        )

    def _ref(self, loc: _Located, path: DataPath, kind: str, ident: str | None) -> None:
        if ident is not None and ident not in self.seen[kind]:
            label = LIST_SECTIONS[kind][1]
            self.issue(loc.file, Issue((*loc.path, *path), f"{label} inconnu « {ident} »"))

    def _check_range(self, loc: _Located, path: DataPath, r: Range | None) -> None:
        if r is not None and r.min is not None and r.max is not None and r.min > r.max:
            self.issue(
                loc.file, Issue((*loc.path, *path), f"min ({r.min}) supérieur à max ({r.max})")
            )

    def _check_date(self, loc: _Located, path: DataPath, value: Any) -> date | None:
        """A date already of the right shape, None if it does not exist.

        Whether it is past or near is said once the tools are built (``expiries_of``)."""
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.issue(loc.file, Issue((*loc.path, *path), f"date « {value} » inexistante"))
            return None

    def _caveat(self, loc: _Located, i: int, d: dict[str, Any]) -> Caveat:
        path: DataPath = ("caveats", i)
        participants = _range(d.get("participants"))
        self._check_range(loc, (*path, "participants"), participants)
        day = self._check_date(loc, (*path, "valid_until"), d.get("valid_until"))
        if d.get("expired_text") and d.get("valid_until") is None:
            self.issue(
                loc.file,
                Issue(
                    (*loc.path, *path, "expired_text"),
                    "expired_text sans valid_until : ce texte ne sera jamais affiché",
                    severity="warning",
                ),
            )
        if d.get("requires_for") and not d.get("requires"):
            self.issue(
                loc.file,
                Issue(
                    (*loc.path, *path, "requires_for"),
                    "requires_for sans requires : aucune exigence à qui l'appliquer",
                ),
            )
        return Caveat(
            text=d["text"],
            topics=_tuple(d.get("topics")),
            participants=participants,
            valid_until=day,
            expired_text=d.get("expired_text"),
            about=_tuple(d.get("about")),
            services=_tuple(d.get("services")),
            requires=_tuple(d.get("requires")),
            requires_for=_tuple(d.get("requires_for")),
            needed=d.get("needed"),
        )

    def _tool(self, loc: _Located) -> Tool:
        d = loc.data
        participants = _range(d.get("participants"))
        self._check_range(loc, ("participants",), participants)
        day = self._check_date(loc, ("valid_until",), d.get("valid_until"))
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
            situations=_tuple(d.get("situations")),
            # The SNUM's offer is the pôle's own unless said otherwise; DINUM's is everyone's.
            audience=d.get("audience", "pole" if d["offer"] == "SNUM" else "all"),
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
                    Issue(
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
                    sensitive_ok=o.get("sensitive_ok", True),
                    existing_only=o.get("existing_only", False),
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
            situations=_tuple(d.get("situations")),
        )

    def _tip(self, loc: _Located, lexicon: Lexicon | None) -> Tip:
        d = loc.data
        self._ref(loc, ("need",), "needs", d["need"])
        if lexicon is not None and d["device"] not in lexicon.devices:
            known = ", ".join(lexicon.devices) or "aucun"
            self.issue(
                loc.file,
                Issue(
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
        for i, tool in enumerate(d.get("alternatives") or ()):
            self._ref(loc, ("alternatives", i), "tools", tool)
        if d["id"] in self.seen["tools"]:
            self.issue(
                loc.file,
                Issue(
                    (*loc.path, "id"),
                    f"« {d['id']} » est déjà un outil du guide "
                    f"({self.seen['tools'][d['id']].where})",
                ),
            )
        return OutsideApp(
            id=d["id"],
            name=d["name"],
            needs=_tuple(d["needs"]),
            phrasings=_tuple(d["phrasings"]),
            alternatives=_tuple(d.get("alternatives")),
            common_word=d.get("common_word", False),
            used_for=d.get("used_for", ""),
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
            common_words=_tuple(d.get("common_words")),
            concepts={k: tuple(v) for k, v in (d.get("concepts") or {}).items()},
            services={k: tuple(v) for k, v in (d.get("services") or {}).items()},
            attributes={k: tuple(v) for k, v in (d.get("attributes") or {}).items()},
            dialogue=_dialogue(d.get("dialogue") or {}),
        )

    def _conversation(self) -> Conversation | None:
        loc = self.singles.get("conversation")
        if loc is None or "conversation" in self.invalid_singles:
            return None
        d = loc.data
        return Conversation(
            help_phrasings=_tuple(d["help_phrasings"]),
            out_of_scope_phrasings=_tuple(d["out_of_scope_phrasings"]),
            thanks_phrasings=_tuple(d.get("thanks_phrasings", ())),
            thanks=d.get("thanks", ""),
            greeting=d["greeting"],
            menu_intro=d["menu_intro"],
            out_of_scope=d["out_of_scope"],
            clarify_intro=d["clarify_intro"],
            outside_offer_rule=d["outside_offer_rule"],
            category_labels={Category(k): v for k, v in d["category_labels"].items()},
            source=d["source"],
            details_offer=d.get("details_offer", ""),
            audience_notice=d.get("audience_notice", ""),
            unnamed_app=d.get("unnamed_app", ""),
            outside_offer_topics=_tuple(d.get("outside_offer_topics")),
            unrequired=d.get("unrequired", ""),
            not_in_guide=d.get("not_in_guide", ""),
            missing=dict(d.get("missing") or {}),
        )


def _dialogue(d: dict[str, Any]) -> Dialogue:
    return Dialogue(
        ordinals={k: int(v) for k, v in (d.get("ordinals") or {}).items()},
        corrections=_tuple(d.get("corrections")),
        topic_switches=_tuple(d.get("topic_switches")),
        contrasts=_tuple(d.get("contrasts")),
        details=_tuple(d.get("details")),
        yes_no=_tuple(d.get("yes_no")),
        needed=_tuple(d.get("needed")),
        participation=_tuple(d.get("participation")),
        comparisons=_tuple(d.get("comparisons")),
        references=_tuple(d.get("references")),
        breakdowns=_tuple(d.get("breakdowns")),
        more_people=_tuple(d.get("more_people")),
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
