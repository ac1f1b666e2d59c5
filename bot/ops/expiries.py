"""Dated knowledge: the entries (tools, tool caveats) that have ended or end soon.

Pure: :func:`upcoming_expiries` takes the knowledge and today's date; each
:class:`Expiry` renders its own French warning for the admin and the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.knowledge.model import Knowledge


@dataclass(frozen=True)
class Expiry:
    """A dated entry that has ended or ends within the warning window."""

    subject: str  # tool:...
    what: str  # French label: "L'outil « Zoom »", "La mention « … » de l'outil « Zoom »"
    valid_until: date
    days_left: int  # negative once past
    origin: tuple[str, int] | None = None
    caveat: bool = False  # a dated mention of the tool rather than the tool itself

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    def _consequence(self) -> str:
        return "" if self.caveat else ", l'outil n'est plus recommandé"

    def text(self) -> str:
        day = self.valid_until.strftime("%d/%m/%Y")
        where = f" ({self.origin[0]}, ligne {self.origin[1]})" if self.origin else ""
        if self.expired:
            return (
                f"{self.what} ({self.subject}) a expiré le {day}{self._consequence()} : "
                f"à mettre à jour ou retirer{where}."
            )
        when = (
            "aujourd'hui (dernier jour)"
            if self.days_left == 0
            else "demain"
            if self.days_left == 1
            else f"dans {self.days_left} jours"
        )
        return f"{self.what} ({self.subject}) expire le {day}, {when}{where}."


def upcoming_expiries(knowledge: Knowledge, today: date, warn_days: int) -> list[Expiry]:
    """Dated entries already expired or ending within ``warn_days`` days, soonest first.

    The last valid day is ``valid_until`` itself: 0 days left means it ends tonight.
    """
    found: list[Expiry] = []
    for tool in knowledge.tools.values():
        origin = knowledge.origins.get(str(tool.subject))
        if tool.valid_until is not None:
            found.append(
                Expiry(
                    str(tool.subject),
                    f"L'outil « {tool.name} »",
                    tool.valid_until,
                    (tool.valid_until - today).days,
                    origin,
                )
            )
        for caveat in tool.caveats:
            if caveat.valid_until is not None:
                snippet = caveat.text if len(caveat.text) <= 60 else caveat.text[:57] + "…"
                found.append(
                    Expiry(
                        str(tool.subject),
                        f"La mention « {snippet} » de l'outil « {tool.name} »",
                        caveat.valid_until,
                        (caveat.valid_until - today).days,
                        origin,
                        caveat=True,
                    )
                )
    return sorted(
        (e for e in found if e.days_left <= warn_days), key=lambda e: (e.days_left, e.subject)
    )
