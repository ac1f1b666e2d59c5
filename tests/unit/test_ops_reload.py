"""Hot reload: validate first, swap whole, keep the old knowledge on any error, say why."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from ops_support import SMALL_YAML, fake_loader, small_knowledge, write_small

from bot.knowledge.expiries import upcoming_expiries
from bot.knowledge.holder import KnowledgeHolder
from bot.knowledge.model import Caveat, Knowledge
from bot.knowledge.problems import KnowledgeError, Problem, format_problem
from bot.ops.knowledge_diff import diff_knowledge
from bot.ops.metrics import Metrics
from bot.ops.reload import Reloader, default_loader, install_sighup
from bot.ops.watcher import KnowledgeWatcher

TODAY = date(2025, 6, 10)
SHIPPED = Path(__file__).resolve().parents[2] / "knowledge"


def make(tmp_path: Path, **kwargs: object) -> tuple[KnowledgeHolder, Reloader, Path]:
    directory = tmp_path / "knowledge"
    path = write_small(directory)
    holder = KnowledgeHolder(fake_loader(directory))
    reloader = Reloader(
        holder,
        directory,
        loader=fake_loader,
        today=lambda: TODAY,
        **kwargs,  # type: ignore[arg-type]
    )
    return holder, reloader, path


async def test_broken_file_keeps_old_knowledge_and_reports_file_and_line(tmp_path: Path) -> None:
    metrics = Metrics()
    holder, reloader, path = make(tmp_path, metrics=metrics)
    before = holder.current
    path.write_text(SMALL_YAML.replace("name: Zoom", "name: Zoom: oops"), encoding="utf-8")

    outcome = await reloader.reload("admin")

    assert not outcome.ok
    assert holder.current is before and holder.generation == 1
    (problem,) = outcome.problems
    assert problem.file == "knowledge.yaml" and problem.line == 18
    assert "- knowledge.yaml:18: YAML invalide" in outcome.text()
    assert outcome.text().startswith("Rechargement refusé (1 erreur)")
    assert metrics.snapshot().reloads == {"ok": 0, "error": 1}


async def test_every_problem_is_reported_with_its_entry(tmp_path: Path) -> None:
    _, reloader, path = make(tmp_path)
    path.write_text(
        SMALL_YAML.replace("    name: Zoom\n", "").replace(
            "    name: WebConférence de l'État\n", ""
        ),
        encoding="utf-8",
    )
    outcome = await reloader.reload()
    assert not outcome.ok
    assert {p.entry for p in outcome.problems} == {"tool:zoom", "tool:webconf_etat"}
    assert "- knowledge.yaml:16: outil « zoom » : champ « name » manquant" in outcome.text()
    assert "<li>knowledge.yaml:" in outcome.html()


async def test_good_change_swaps_and_the_diff_names_it(tmp_path: Path) -> None:
    metrics = Metrics()
    holder, reloader, path = make(tmp_path, metrics=metrics)
    before = holder.current
    text = (
        SMALL_YAML.replace("[visio, visioconférence]", "[visio, visioconférence, réunion vidéo]")
        .replace("    name: Zoom\n", "    name: Zoom (à éviter)\n")
        .replace(
            "  audioconf_ministere:\n    name",
            "  tixeo:\n    name: Tixéo\n    phrasings: [tixeo]\n  audioconf_ministere:\n    name",
        )
        .replace(
            SMALL_YAML[SMALL_YAML.index("tips:") :],
            "",
        )
    )
    path.write_text(text, encoding="utf-8")

    outcome = await reloader.reload()

    assert outcome.ok, outcome.text()
    assert holder.current is not before and holder.generation == 2
    assert outcome.diff is not None
    assert outcome.diff.tools.added == ("tool:tixeo",)
    assert outcome.diff.tools.changed == ("tool:zoom",)
    assert outcome.diff.tips.removed == ("tip:merge_calls_android",)
    assert outcome.diff.needs.changed == ()  # only its phrasings changed
    (phrasing,) = outcome.diff.phrasings
    assert (phrasing.subject, phrasing.added, phrasing.removed) == (
        "need:web_conference",
        ("réunion vidéo",),
        (),
    )
    text_out = outcome.text()
    assert text_out.startswith("Connaissances rechargées (version 2")
    assert "- ajouté : tool:tixeo" in text_out
    assert "- modifié : tool:zoom" in text_out
    assert "- retiré : tip:merge_calls_android" in text_out
    assert "need:web_conference : + « réunion vidéo »" in text_out
    assert metrics.snapshot().reloads == {"ok": 1, "error": 0}


async def test_unchanged_reload_says_so(tmp_path: Path) -> None:
    _, reloader, _ = make(tmp_path)
    outcome = await reloader.reload()
    assert outcome.ok and outcome.diff is not None and outcome.diff.empty
    assert "Aucun changement." in outcome.text()


async def test_html_rendering_escapes_maintainer_text(tmp_path: Path) -> None:
    _, reloader, path = make(tmp_path)
    path.write_text(SMALL_YAML.replace("[zoom]", "[zoom, '<b>x</b> & co']"), encoding="utf-8")
    outcome = await reloader.reload()
    assert "&lt;b&gt;x&lt;/b&gt; &amp; co" in outcome.html()
    assert "<b>" not in outcome.html()


async def test_unexpected_loader_failure_and_missing_directory_keep_old(tmp_path: Path) -> None:
    holder, _, _ = make(tmp_path)
    before = holder.current

    def boom(directory: Path) -> Knowledge:
        raise RuntimeError("bug")

    outcome = await Reloader(holder, tmp_path, loader=boom).reload()
    assert not outcome.ok and "RuntimeError: bug" in outcome.text()
    outcome = await Reloader(holder, tmp_path / "absent", loader=fake_loader).reload()
    assert not outcome.ok and "lecture impossible" in outcome.text()
    assert holder.current is before


async def test_knowledge_without_needs_is_refused(tmp_path: Path) -> None:
    holder, reloader, path = make(tmp_path)
    path.write_text("needs: {}\ntools: {}\n", encoding="utf-8")
    outcome = await reloader.reload()
    assert not outcome.ok and "aucun besoin" in outcome.text()
    assert holder.generation == 1


async def test_questions_during_a_reload_see_one_version_and_keep_flowing(
    tmp_path: Path,
) -> None:
    holder, _, path = make(tmp_path)
    old = holder.current
    path.write_text(SMALL_YAML.replace("[zoom]", "[zoom, zoom meeting]"), encoding="utf-8")
    reads_during_load = threading.Event()

    def slow_loader(directory: Path) -> Knowledge:
        # The load stays in progress until the loop has served 1,000 reads: proof that
        # it runs off the event loop.
        assert reads_during_load.wait(timeout=10)
        return fake_loader(directory)

    reloader = Reloader(holder, path.parent, loader=slow_loader)
    seen: list[Knowledge] = []

    async def questions() -> None:
        while len(seen) < 1000 or not reload_task.done():
            seen.append(holder.current)  # one read per question, as the bot does
            if len(seen) == 1000:
                reads_during_load.set()
            await asyncio.sleep(0)
        seen.extend(holder.current for _ in range(1000))

    reload_task = asyncio.create_task(reloader.reload())
    await asyncio.wait_for(questions(), timeout=20)
    outcome = await reload_task

    new = holder.current
    assert outcome.ok and new is not old
    assert all(k is old or k is new for k in seen)
    assert all(k is old for k in seen[:1000])
    assert all(k is new for k in seen[-1000:])
    first_new = next(i for i, k in enumerate(seen) if k is new)
    assert all(k is new for k in seen[first_new:])  # never back to the old one


async def test_reloads_run_one_at_a_time(tmp_path: Path) -> None:
    holder, _, path = make(tmp_path)
    running = 0
    most = 0
    lock = threading.Lock()

    def counting_loader(directory: Path) -> Knowledge:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return fake_loader(directory)

    reloader = Reloader(holder, path.parent, loader=counting_loader)
    outcomes = await asyncio.gather(*(reloader.reload() for _ in range(5)))
    assert all(o.ok for o in outcomes)
    assert most == 1 and holder.generation == 6


def test_upcoming_expiries_warn_ahead_and_flag_expired() -> None:
    k = small_knowledge()
    tools = dict(k.tools)
    tools["zoom"] = replace(tools["zoom"], valid_until=TODAY + timedelta(days=10))
    tools["webconf_etat"] = replace(tools["webconf_etat"], valid_until=TODAY + timedelta(days=90))
    tools["audioconf_ministere"] = replace(
        tools["audioconf_ministere"],
        caveats=(
            Caveat("L'offre OVH prend fin le 1er juillet.", valid_until=TODAY - timedelta(days=1)),
        ),
    )
    k = replace(k, tools=tools, date_origins={("tool:zoom", None): ("outils.yaml", 42)})

    found = upcoming_expiries(k, TODAY, warn_days=30)

    assert [(e.subject, e.days_left, e.expired) for e in found] == [
        ("tool:audioconf_ministere", -1, True),
        ("tool:zoom", 10, False),
    ]
    assert found[0].message() == (
        "caveats[1].valid_until : la mise en garde « L'offre OVH prend fin le 1er juillet. » "
        "a expiré le 09/06/2025 : à mettre à jour ou retirer"
    )
    assert format_problem(found[1].problem()) == (
        "outils.yaml:42: avertissement : outil « zoom » : "
        "valid_until : l'outil expire le 20/06/2025, dans 10 jours"
    )
    assert upcoming_expiries(k, TODAY, warn_days=100)[-1].subject == "tool:webconf_etat"


async def test_reload_summary_includes_expiry_warnings(tmp_path: Path) -> None:
    _, reloader, path = make(tmp_path, warn_days=30)
    path.write_text(
        SMALL_YAML.replace("    name: Zoom\n", "    name: Zoom\n    valid_until: 2025-07-01\n"),
        encoding="utf-8",
    )
    outcome = await reloader.reload()
    assert outcome.ok
    assert [e.subject for e in outcome.expiries] == ["tool:zoom"]
    assert (
        "Validité :\n- avertissement : outil « zoom » : "
        "valid_until : l'outil expire le 01/07/2025, dans 21 jours"
    ) in outcome.text()


def test_diff_of_identical_knowledge_is_empty() -> None:
    assert diff_knowledge(small_knowledge(), small_knowledge()).empty


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - polling state a thread or timer changes
            await asyncio.sleep(0.01)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_watcher_reloads_once_after_the_files_settle(tmp_path: Path) -> None:
    holder, reloader, path = make(tmp_path)
    clock = FakeClock()
    watcher = KnowledgeWatcher(reloader, debounce=2.0, clock=clock)
    await watcher.take_baseline()
    assert not await watcher.poll()  # nothing changed
    for i in range(3):  # an editor saving in steps, each poll seeing another state
        path.write_text(SMALL_YAML.replace("[zoom]", f"[zoom, z{i}]"), encoding="utf-8")
        os.utime(path, ns=(i * 10**9, i * 10**9))  # distinct even on a coarse filesystem
        clock.now += 1.5
        assert not await watcher.poll()
    (path.parent / ".knowledge.yaml.swp").write_text("x")  # ignored
    clock.now += 1.0
    assert not await watcher.poll()  # settled for 1 s only: under the 2 s debounce
    assert holder.generation == 1
    clock.now += 1.5
    assert await watcher.poll()  # settled for 2.5 s: one reload
    clock.now += 10
    assert not await watcher.poll()  # and no second one for the same change
    assert watcher.reloads == 1 and holder.generation == 2
    assert "z2" in holder.current.tools["zoom"].phrasings


async def test_the_running_watcher_reloads_a_change(tmp_path: Path) -> None:
    holder, reloader, path = make(tmp_path)
    watcher = KnowledgeWatcher(reloader, interval=0.02, debounce=0.0)
    await watcher.start()
    try:
        path.write_text(SMALL_YAML.replace("[zoom]", "[zoom, live]"), encoding="utf-8")
        await until(lambda: holder.generation == 2)
    finally:
        await watcher.stop()
    assert "live" in holder.current.tools["zoom"].phrasings


async def test_watcher_does_not_retry_a_broken_file_until_it_changes(tmp_path: Path) -> None:
    holder, reloader, path = make(tmp_path)
    watcher = KnowledgeWatcher(reloader, debounce=0.0, clock=FakeClock())
    await watcher.take_baseline()
    path.write_text(SMALL_YAML + "  x: [\n", encoding="utf-8")
    assert not await watcher.poll()  # seen once
    assert await watcher.poll()  # settled: reloaded, and refused
    assert reloader.last_outcome is not None and not reloader.last_outcome.ok
    for _ in range(3):
        assert not await watcher.poll()  # the same broken file is not retried
    assert watcher.reloads == 1 and holder.generation == 1
    path.write_text(SMALL_YAML.replace("[zoom]", "[zoom, fixed]"), encoding="utf-8")
    assert not await watcher.poll()
    assert await watcher.poll()
    assert holder.generation == 2 and "fixed" in holder.current.tools["zoom"].phrasings


async def test_sighup_reloads(tmp_path: Path) -> None:
    holder, reloader, path = make(tmp_path)
    path.write_text(SMALL_YAML.replace("[zoom]", "[zoom, hup]"), encoding="utf-8")
    uninstall = install_sighup(asyncio.get_running_loop(), reloader)
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        await until(lambda: holder.generation == 2)
    finally:
        uninstall()
    assert holder.generation == 2 and reloader.last_outcome is not None
    assert reloader.last_outcome.trigger == "sighup"


# -- against the real loader and the shipped knowledge ------------------------------------


def shipped_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(SHIPPED, target)
    default_loader(target)  # the shipped knowledge loads: a failure here is a real one
    return target


async def test_real_loader_broken_file_keeps_old_and_is_located(tmp_path: Path) -> None:
    directory = shipped_copy(tmp_path)
    holder = KnowledgeHolder(default_loader(directory))
    before = holder.current
    broken = sorted(directory.glob("*.y*ml"))[0]
    lines = broken.read_text(encoding="utf-8").splitlines()
    lines.append("  - : [unclosed")
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")

    outcome = await Reloader(holder, directory).reload()

    assert not outcome.ok and holder.current is before
    located = [p for p in outcome.problems if p.file and Path(p.file).name == broken.name]
    assert located and located[0].line is not None
    assert broken.name in outcome.text()


async def test_real_loader_new_phrasing_swaps_and_is_named(tmp_path: Path) -> None:
    directory = shipped_copy(tmp_path)
    holder = KnowledgeHolder(default_loader(directory))
    added = "phrase de test ajoutée"
    for file in sorted(directory.glob("*.y*ml")):
        lines = file.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines[:-1]):
            item = re.match(r"^(\s*)- ", lines[i + 1])
            if re.match(r"^\s*phrasings:\s*$", line) and item:
                lines.insert(i + 1, f"{item.group(1)}- {added}")
                file.write_text("\n".join(lines) + "\n", encoding="utf-8")
                break
        else:
            continue
        break
    else:
        raise AssertionError("no block-style phrasings list in the shipped knowledge")

    outcome = await Reloader(holder, directory).reload()

    assert outcome.ok, outcome.text()
    assert outcome.diff is not None
    assert any(added in c.added for c in outcome.diff.phrasings)
    assert f"« {added} »" in outcome.text()


async def test_file_level_problems_come_first_and_chat_replies_are_capped(
    tmp_path: Path,
) -> None:
    holder, _, _ = make(tmp_path)
    cascade = [Problem("needs.yaml", i, f"need:n{i}", "outil inconnu « zoom »") for i in range(30)]
    root = Problem("tools.yaml", 186, None, "erreur de syntaxe YAML")
    warning = Problem("tools.yaml", 3, "tool:x", "date passée", "warning")

    def failing(directory: Path) -> Knowledge:
        raise KnowledgeError([warning, *cascade, root])

    outcome = await Reloader(holder, tmp_path, loader=failing).reload()

    assert outcome.problems[0].message == "erreur de syntaxe YAML"
    assert outcome.problems[-1].severity == "warning"
    assert outcome.text().startswith("Rechargement refusé (31 erreurs)")
    assert len(outcome.text().splitlines()) == 1 + 32
    capped = outcome.text(max_problems=5).splitlines()
    assert len(capped) == 1 + 5 + 1
    assert capped[1] == "- tools.yaml:186: erreur de syntaxe YAML"
    assert capped[2] == "- needs.yaml:0: besoin « n0 » : outil inconnu « zoom »"
    assert capped[-1] == "- … et 27 autres (liste complète dans le journal)"
    assert outcome.html(max_problems=5).count("<li>") == 6


def test_a_summary_of_1500_new_phrasings_stays_short() -> None:
    from bot.ops.knowledge_diff import ChangeSet, KnowledgeDiff, PhrasingChange
    from bot.ops.reload_outcome import ReloadOutcome

    many = tuple(f"formulation numéro {i}" for i in range(1500))
    changes = tuple(PhrasingChange(f"tool:t{i}", many, ()) for i in range(40))
    none = ChangeSet()
    diff = KnowledgeDiff(none, none, none, none, phrasings=changes)
    outcome = ReloadOutcome(trigger="admin", ok=True, diff=diff)
    text = outcome.text()
    assert len(text) < 4000, len(text)
    assert "+1500 : « formulation numéro 0 »" in text and "et 1495 autres" in text
    assert "… et 25 autres" in text  # subjects beyond the first 15
