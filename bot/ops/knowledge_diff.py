"""What a reload changed: the entries added, removed or changed, by id.

Pure: two ``Knowledge`` in, a :class:`KnowledgeDiff` out. Phrasing-only edits are kept
apart so the admin sees "new wording" rather than "entry changed".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.knowledge.model import Knowledge


@dataclass(frozen=True)
class ChangeSet:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass(frozen=True)
class PhrasingChange:
    subject: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnowledgeDiff:
    """What a reload changed, by id. An entry whose only change is its phrasings is listed
    under ``phrasings``, not under ``changed``."""

    needs: ChangeSet
    tools: ChangeSet
    tips: ChangeSet
    outside_apps: ChangeSet
    phrasings: tuple[PhrasingChange, ...]
    lexicon_changed: bool = False
    conversation_changed: bool = False

    @property
    def empty(self) -> bool:
        return not (
            self.needs
            or self.tools
            or self.tips
            or self.outside_apps
            or self.phrasings
            or self.lexicon_changed
            or self.conversation_changed
        )

    def sections(self) -> list[tuple[str, ChangeSet]]:
        return [
            ("Besoins", self.needs),
            ("Outils", self.tools),
            ("Astuces", self.tips),
            ("Applications hors offre", self.outside_apps),
        ]


def _subject(kind: str, entry_id: str) -> str:
    return f"{kind}:{entry_id}"


def _without_phrasings(entry: Any) -> Any:
    return dataclasses.replace(entry, phrasings=())


def _diff_section(
    kind: str, old: Mapping[str, Any], new: Mapping[str, Any], phrasings: list[PhrasingChange]
) -> ChangeSet:
    added = tuple(_subject(kind, i) for i in sorted(new.keys() - old.keys()))
    removed = tuple(_subject(kind, i) for i in sorted(old.keys() - new.keys()))
    changed = []
    for i in sorted(old.keys() & new.keys()):
        a, b = old[i], new[i]
        if a == b:
            continue
        if _without_phrasings(a) != _without_phrasings(b):
            changed.append(_subject(kind, i))
        before, after = set(a.phrasings), set(b.phrasings)
        if before != after:
            phrasings.append(
                PhrasingChange(
                    _subject(kind, i),
                    added=tuple(p for p in b.phrasings if p not in before),
                    removed=tuple(p for p in a.phrasings if p not in after),
                )
            )
    return ChangeSet(added, removed, tuple(changed))


def diff_knowledge(old: Knowledge, new: Knowledge) -> KnowledgeDiff:
    phrasings: list[PhrasingChange] = []
    return KnowledgeDiff(
        needs=_diff_section("need", old.needs, new.needs, phrasings),
        tools=_diff_section("tool", old.tools, new.tools, phrasings),
        tips=_diff_section("tip", old.tips, new.tips, phrasings),
        outside_apps=_diff_section("app", old.outside_apps, new.outside_apps, phrasings),
        phrasings=tuple(phrasings),
        lexicon_changed=old.lexicon != new.lexicon,
        conversation_changed=old.conversation != new.conversation,
    )
