"""The knowledge loader: the shipped files load; broken ones are reported, located, in French."""

from __future__ import annotations

import re
import shutil
import textwrap
from datetime import date
from pathlib import Path

import pytest

from bot.knowledge import Category
from bot.knowledge.check import check_knowledge, jsonschema_paths
from bot.knowledge.loader import load_knowledge, load_with_problems
from bot.knowledge.problems import KnowledgeError, Problem, format_problem
from bot.knowledge.schema_check import schema_checker

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
TODAY = date(2020, 6, 1)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def kdir(tmp_path: Path) -> Path:
    """A copy of the shipped knowledge, to break one thing at a time."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def errors_of(directory: Path, today: date = TODAY) -> list[Problem]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory, today=today)
    problems = caught.value.problems
    assert all(isinstance(p, Problem) for p in problems)
    return [p for p in problems if p.severity == "error"]


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in {path}")


# --------------------------------------------------------------------------- shipped files


def test_shipped_knowledge_loads_without_error() -> None:
    knowledge, problems = check_knowledge(KNOWLEDGE, today=date(2026, 1, 1))
    assert knowledge is not None, [format_problem(p) for p in problems]
    assert [p for p in problems if p.severity == "error"] == []
    # The only warning: the OVH offer ended on 1 July 2020.
    assert [p.entry for p in problems] == ["tool:audioconf_ministere"]
    assert "a expiré le 01/07/2020" in problems[0].message


def test_shipped_knowledge_has_every_subject_of_the_evaluation() -> None:
    k = load_knowledge(KNOWLEDGE)
    entries = [*k.needs.values(), *k.tools.values(), *k.tips.values()]
    assert {str(e.subject) for e in entries} >= {
        "need:audio_conference",
        "need:web_conference",
        "need:collaborative_workspace",
        "need:email",
        "need:instant_messaging",
        "tool:mobile_phone",
        "tool:audioconf_ministere",
        "tool:webconf_etat",
        "tool:lifesize",
        "tool:zoom",
        "tool:scaleway",
        "tool:tixeo",
        "tool:sharepoint",
        "tool:alfresco",
        "tool:osmose",
        "tool:webmel_stockage",
        "tool:mel",
        "tool:tchap",
        "tool:ariane",
        "tip:merge_calls_android",
        "tip:merge_calls_iphone",
    }
    assert k.origins["tool:zoom"][0] == "tools.yaml"
    assert set(k.conversation.category_labels) == set(Category)


def test_shipped_knowledge_matches_jsonschema() -> None:
    """The loader's schema interpreter and jsonschema agree on the shipped files."""
    result = load_with_problems(KNOWLEDGE)
    for f in result.files:
        assert jsonschema_paths(f.data) == [], f.name


def test_yaml_scalars_stay_text(tmp_path: Path) -> None:
    """`on`, `no`, `oui` and dates are text, not booleans or dates (YAML 1.1 traps)."""
    shutil.copytree(KNOWLEDGE, tmp_path / "k")
    lexicon = tmp_path / "k" / "lexicon.yaml"
    text = lexicon.read_text(encoding="utf-8").replace("    - on\n", "    - on\n    - no\n")
    lexicon.write_text(text, encoding="utf-8")
    k = load_knowledge(tmp_path / "k")
    assert "on" in k.lexicon.stopwords and "no" in k.lexicon.stopwords
    ovh = [c for c in k.tools["audioconf_ministere"].caveats if c.valid_until]
    assert ovh[0].valid_until == date(2020, 7, 1)


# --------------------------------------------------------------------------- broken files


def test_malformed_yaml_names_file_and_line(kdir: Path) -> None:
    write(
        kdir,
        "extra.yaml",
        """
        tools:
          - id: foo
            name: "unterminated
        """,
    )
    problems = errors_of(kdir)
    assert len(problems) == 1
    p = problems[0]
    assert p.file == "extra.yaml" and p.line is not None and p.line >= 3
    assert format_problem(p).startswith(f"extra.yaml:{p.line}: erreur de syntaxe YAML")


def test_duplicate_id_across_files_names_both_places(kdir: Path) -> None:
    write(
        kdir,
        "zz_tools.yaml",
        """
        tools:
          - id: zoom
            name: Zoom bis
            offer: aucune
            summary: Doublon.
            phrasings: [zoom bis]
        """,
    )
    (p,) = errors_of(kdir)
    first = line_of(kdir / "tools.yaml", "id: zoom")
    assert (p.file, p.line, p.entry) == ("zz_tools.yaml", 2, "tool:zoom")
    assert f"déjà défini dans tools.yaml:{first}" in p.message
    assert "« zoom » en double" in p.message


def test_duplicate_key_in_one_mapping_is_an_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        "tools.yaml",
        """
        tools:
          - id: zoom
            name: Zoom
            name: Zoom encore
        """,
    )
    problems = load_with_problems(tmp_path).problems
    dup = [p for p in problems if "en double" in p.message]
    assert len(dup) == 1
    assert (dup[0].file, dup[0].line, dup[0].entry) == ("tools.yaml", 4, "tool:zoom")
    assert "clé « name » en double (déjà ligne 3)" in dup[0].message


def test_missing_field(kdir: Path) -> None:
    path = kdir / "tools.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    name: Tixéo\n", ""), encoding="utf-8")
    (p,) = errors_of(kdir)
    assert (p.file, p.entry) == ("tools.yaml", "tool:tixeo")
    assert p.line == line_of(path, "id: tixeo")
    assert "clé obligatoire manquante « name »" in p.message


def test_unknown_key_suggests_the_right_one(kdir: Path) -> None:
    path = kdir / "tools.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: zoom")
    at = text.index("    phrasings:", start)
    path.write_text(text[:at] + "    phrasing:" + text[at + 14 :], encoding="utf-8")
    (p,) = errors_of(kdir)  # not also "clé obligatoire manquante « phrasings »"
    line = text.count("\n", 0, at) + 1
    assert format_problem(p) == (
        f"tools.yaml:{line}: outil « zoom » : clé inconnue « phrasing » (attendu : phrasings)"
    )


def test_dangling_references(kdir: Path) -> None:
    tips = kdir / "tips.yaml"
    tips.write_text(
        tips.read_text(encoding="utf-8").replace("need: audio_conference", "need: audio_conf", 1),
        encoding="utf-8",
    )
    needs = kdir / "needs.yaml"
    needs.write_text(
        needs.read_text(encoding="utf-8").replace("tool: scaleway", "tool: scaleweigh"),
        encoding="utf-8",
    )
    problems = errors_of(kdir)
    by_entry = {p.entry: p for p in problems}
    assert set(by_entry) == {"tip:merge_calls_android", "need:web_conference"}
    tip = by_entry["tip:merge_calls_android"]
    assert tip.file == "tips.yaml" and tip.line == line_of(tips, "need: audio_conf")
    assert tip.message == "need : besoin inconnu « audio_conf »"
    option = by_entry["need:web_conference"]
    assert option.line == line_of(needs, "tool: scaleweigh")
    assert option.message.endswith("tool : outil inconnu « scaleweigh »")
    assert option.message.startswith("options[")


def test_unknown_device_is_an_error(kdir: Path) -> None:
    tips = kdir / "tips.yaml"
    tips.write_text(
        tips.read_text(encoding="utf-8").replace("device: iphone", "device: windows_phone"),
        encoding="utf-8",
    )
    (p,) = errors_of(kdir)
    assert p.entry == "tip:merge_calls_iphone"
    assert "appareil inconnu « windows_phone »" in p.message


def test_expired_date_is_a_warning_not_an_error(kdir: Path) -> None:
    k = load_knowledge(kdir, today=date(2021, 1, 1))  # does not raise
    assert k.tools["audioconf_ministere"].caveats[-1].expired_text
    _k, problems = check_knowledge(kdir, today=date(2021, 1, 1))
    (p,) = problems
    assert p.severity == "warning" and p.entry == "tool:audioconf_ministere"
    assert p.line == line_of(kdir / "tools.yaml", "valid_until: 2020-07-01")
    assert p.message.startswith("caveats[5].valid_until : la mise en garde « La solution")
    assert p.message.endswith("a expiré le 01/07/2020 : à mettre à jour ou retirer")
    assert "avertissement" in format_problem(p)


def test_date_expiring_soon_is_a_warning(kdir: Path) -> None:
    _k, problems = check_knowledge(kdir, today=date(2020, 6, 20), warn_days=30)
    (p,) = problems
    assert p.severity == "warning"
    assert p.message.endswith(" expire le 01/07/2020, dans 11 jours")
    _k, problems = check_knowledge(kdir, today=date(2020, 5, 1), warn_days=30)
    assert problems == []


def test_bad_date_format_and_impossible_date(kdir: Path) -> None:
    path = kdir / "tools.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("valid_until: 2020-07-01", "valid_until: 2020-7-1"), "utf-8")
    (p,) = errors_of(kdir)
    assert "date au format AAAA-MM-JJ" in p.message
    path.write_text(text.replace("valid_until: 2020-07-01", "valid_until: 2020-02-30"), "utf-8")
    (p,) = errors_of(kdir)
    assert "date « 2020-02-30 » inexistante" in p.message


def test_several_errors_reported_at_once(kdir: Path) -> None:
    tools = kdir / "tools.yaml"
    text = tools.read_text(encoding="utf-8")
    text = text.replace("offer: DINUM\n", "offer: DINAM\n", 1)  # scaleway: enum
    text = text.replace("  - id: lifesize\n", "  - id: Lifesize\n")  # bad id pattern
    tools.write_text(text, encoding="utf-8")
    write(kdir, "broken.yaml", "tips: [\n")  # syntax
    write(kdir, "notes.txt", "ignored: [\n")  # not YAML: ignored
    problems = errors_of(kdir)
    messages = [format_problem(p) for p in problems]
    assert any(m.startswith("broken.yaml:") and "syntaxe" in m for m in messages)
    assert any(
        "outil « scaleway »" in m and "« DINAM » invalide" in m and "DINUM" in m for m in messages
    )
    assert any("« Lifesize » invalide (identifiant : lettres minuscules" in m for m in messages)
    # The renamed tool leaves lifesize missing: the evaluation contract is checked too,
    # and web_conference's option pointing at it is dangling.
    assert any("outil « lifesize » manquant" in m for m in messages)
    assert any("besoin « web_conference »" in m and "« lifesize »" in m for m in messages)
    assert not any("notes.txt" in m for m in messages)


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("no yaml here", encoding="utf-8")
    (p,) = errors_of(tmp_path)
    assert "aucun fichier .yaml" in p.message


def test_missing_required_sections_and_subjects(tmp_path: Path) -> None:
    write(
        tmp_path,
        "needs.yaml",
        """
        needs:
          - id: email
            title: Messagerie
            summary: Courriels.
            phrasings: [mail]
            options:
              - category: autrement
        """,
    )
    problems = errors_of(tmp_path)
    messages = [format_problem(p) for p in problems]
    assert any("section « tools » absente" in m for m in messages)
    assert any("section « lexicon » absente" in m for m in messages)
    assert any("besoin « audio_conference » manquant" in m for m in messages)
    # An option without a tool must carry the guide's rule text.
    assert any("options[1] : option sans outil" in m for m in messages)


def test_lexicon_defined_twice(kdir: Path) -> None:
    shutil.copy(kdir / "lexicon.yaml", kdir / "lexicon2.yaml")
    (p,) = errors_of(kdir)
    assert p.file == "lexicon2.yaml"
    assert "section « lexicon » déjà définie dans lexicon.yaml" in p.message


def test_wrong_types_are_located(kdir: Path) -> None:
    path = kdir / "tools.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    sensitive_ok: false\n", "    sensitive_ok: non\n", 1)
    path.write_text(text, encoding="utf-8")
    (p,) = errors_of(kdir)
    assert p.entry == "tool:zoom"
    assert p.line == line_of(path, "sensitive_ok: non")
    assert p.message == "sensitive_ok : true ou false attendu(e), trouvé « non »"


# --------------------------------------------------------------------------- schema interpreter

BROKEN_DOCUMENTS: list[object] = [
    [],
    {},
    {"unknown": 1},
    {"tools": {}},
    {"tools": [{"id": "x"}]},
    {"tools": [{"id": "9x", "name": "", "offer": "x", "summary": 1, "phrasings": []}]},
    {"tools": [{"id": "x", "name": "X", "offer": "SNUM", "summary": "s", "phrasings": ["a", "a"]}]},
    {
        "tools": [
            {
                "id": "x",
                "name": "X",
                "offer": "SNUM",
                "summary": "s",
                "phrasings": ["a"],
                "participants": {"min": -1, "mx": 3},
                "links": [{"label": "l", "url": "www.example.org"}],
                "contacts": [{"label": "c", "email": "nobody"}],
                "caveats": [{"text": "t", "valid_until": "1er juillet", "topics": "vpn"}],
                "sensitive_ok": "no",
            }
        ]
    },
    {"needs": [{"id": "n", "title": "t", "summary": "s", "phrasings": ["p"], "options": []}]},
    {"needs": [{"id": "n", "title": "t", "summary": "s", "phrasings": ["p"], "options": [{}]}]},
    {"lexicon": {"abbreviations": {"a": 1}, "devices": {"Bad": ["x"]}, "sensitive": []}},
    {"lexicon": {"approximate_numbers": {"dizaine": 0}, "stopwords": [None]}},
    {"conversation": {"category_labels": {"recommande": "R", "autre": "A"}}},
    {"tips": [{"id": "t", "steps": "not a list"}]},
    {"outside_apps": [{"id": "a", "name": "A", "needs": [], "phrasings": ["a"]}]},
]


def _keyed(path: tuple[str | int, ...], message: str) -> set[tuple[str | int, ...]]:
    """A violation located down to the key: a missing or an unknown key is named by the
    message on the mapping (jsonschema and ours alike), so it joins the path."""
    if m := re.fullmatch(r"'(.+)' is a required property", message):
        return {(*path, m[1])}
    if m := re.fullmatch(r"clé obligatoire manquante « (.+) »", message):
        return {(*path, m[1])}
    if m := re.fullmatch(
        r"Additional properties are not allowed \((.+) (?:was|were) unexpected\)", message
    ):
        return {(*path, key) for key in re.findall(r"'([^']+)'", m[1])}
    return {path}


def _corrected(path: tuple[str | int, ...], message: str) -> set[tuple[str | int, ...]]:
    """The key a misspelt one stands for: we report the misspelling once, jsonschema also
    reports the right key as missing when it is required."""
    if m := re.fullmatch(r"clé inconnue « .+ » \(attendu : (.+)\)", message):
        return {(*path[:-1], m[1])}
    return set()


@pytest.mark.parametrize("document", BROKEN_DOCUMENTS)
def test_schema_interpreter_agrees_with_jsonschema(document: object) -> None:
    """Every violation jsonschema finds, the loader finds at the same key, and vice versa."""
    issues = list(schema_checker().errors(document))
    ours = set().union(*(_keyed(i.path, i.message) for i in issues))
    covered = ours.union(*(_corrected(i.path, i.message) for i in issues))
    theirs = set().union(*(_keyed(p, m) for p, m in jsonschema_paths(document)))
    assert theirs, "the case should be invalid"
    # Deeper is fine (we point at the item inside the list jsonschema names), never elsewhere.
    assert all(any(p[: len(t)] == t for p in covered) for t in theirs), (ours, theirs)
    assert all(any(p[: len(t)] == t for t in theirs) for p in ours), (ours, theirs)
    # The root is never a catch-all: a violation jsonschema names at the root is one we
    # name at the root too.
    assert (() in theirs) == (() in ours), (ours, theirs)
