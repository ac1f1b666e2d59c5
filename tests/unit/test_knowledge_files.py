"""Knowledge files are only knowledge: no link out of the directory, no huge file, no
alias bomb; nothing of another file is ever quoted."""

from __future__ import annotations

import resource
import shutil
from pathlib import Path

from bot.knowledge.loader import load_with_problems

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
SECRET = "syt_a-secret-access-token-never-to-be-shown"


def copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def messages(directory: Path) -> str:
    problems = load_with_problems(directory).problems
    return "\n".join(f"{p.file}: {p.message}" for p in problems)


def test_a_link_out_of_the_directory_is_not_read_nor_quoted(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(f"{SECRET}: [unclosed\n")
    directory = copy(tmp_path)
    (directory / "extra.yaml").symlink_to(token)
    text = messages(directory)
    assert "extra.yaml: lien vers un fichier hors du dossier : ignoré" in text
    assert "syt_" not in text


def test_a_huge_file_is_refused(tmp_path: Path) -> None:
    directory = copy(tmp_path)
    (directory / "big.yaml").write_text("# " + "x" * (2 * 1024 * 1024) + "\n")
    assert "big.yaml: fichier trop gros" in messages(directory)


def test_an_alias_bomb_is_stopped_without_eating_memory(tmp_path: Path) -> None:
    directory = copy(tmp_path)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):  # 10**9 values once expanded, in a few hundred bytes
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    (directory / "bomb.yaml").write_text("\n".join(lines) + "\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    text = messages(directory)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert "bomb.yaml: trop d'éléments" in text
    assert grown_mb < 200  # without the budget: gigabytes


def test_a_text_too_long_for_a_message_is_an_error_located_at_its_line(tmp_path: Path) -> None:
    directory = copy(tmp_path)
    tools = directory / "tools.yaml"
    text = tools.read_text(encoding="utf-8")
    anchor = "  - id: zoom\n"
    assert anchor in text
    tools.write_text(text.replace(anchor, anchor + f"    summary: {'trop long ' * 3000}\n", 1))
    result = load_with_problems(directory)
    [problem] = [p for p in result.problems if "caractères" in p.message]
    assert result.knowledge is None  # a reload would keep the previous knowledge
    assert problem.file == "tools.yaml" and problem.entry == "tool:zoom"
    assert problem.line is not None and "au plus 4000" in problem.message
