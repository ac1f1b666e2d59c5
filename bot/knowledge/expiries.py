"""Dated knowledge: the entries (tools, tool caveats) that have ended or end soon.

The one place expiries are computed and worded: the loader's warnings (``tchap-bot
check``, the start-up log), the reload summary and the log all take them from
:func:`expiries_of`, each as a warning :class:`~bot.knowledge.problems.Problem`.
Pure: the tools and today's date in, the expiries out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from bot.knowledge.model import Knowledge, Tool
from bot.knowledge.problems import Problem

DATE_FORMAT = "%d/%m/%Y"  # as the guide and the agents write dates
_SNIPPET = 60  # characters of a caveat's text quoted in its warning


@dataclass(frozen=True)
class Expiry:
    """A dated entry that has ended or ends within the warning window."""

    subject: str  # tool:...
    valid_until: date  # its last valid day
    days_left: int  # negative once past; 0: ends tonight
    caveat: int | None = None  # index of the dated caveat; None: the tool itself
    snippet: str = ""  # the caveat's text, shortened
    origin: tuple[str, int] | None = None  # file and line of its valid_until

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    def message(self) -> str:
        """French, for the knowledge's maintainers: the field, what ends, when, what to do."""
        day = self.valid_until.strftime(DATE_FORMAT)
        if self.caveat is None:
            field, what, consequence = "valid_until", "l'outil", " et n'est plus recommandé"
        else:
            field = f"caveats[{self.caveat + 1}].valid_until"
            what, consequence = f"la mise en garde « {self.snippet} »", ""
        if self.expired:
            return f"{field} : {what} a expiré le {day}{consequence} : à mettre à jour ou retirer"
        when = (
            "aujourd'hui (dernier jour)"
            if self.days_left == 0
            else "demain"
            if self.days_left == 1
            else f"dans {self.days_left} jours"
        )
        return f"{field} : {what} expire le {day}, {when}"

    def problem(self) -> Problem:
        file, line = self.origin if self.origin else ("", None)
        return Problem(file, line, self.subject, self.message(), "warning")


DateOrigins = Mapping[tuple[str, int | None], tuple[str, int]]


def expiries_of(
    tools: Iterable[Tool], origins: DateOrigins, today: date, warn_days: int
) -> list[Expiry]:
    """Dated entries already expired or ending within ``warn_days`` days, soonest first.

    ``origins``: where each ``valid_until`` was read (``Knowledge.date_origins``)."""
    found: list[Expiry] = []
    for tool in tools:
        s = str(tool.subject)  # the problem-location name, as in Knowledge.origins
        if tool.valid_until is not None:
            left = (tool.valid_until - today).days
            found.append(Expiry(s, tool.valid_until, left, origin=origins.get((s, None))))
        for i, caveat in enumerate(tool.caveats):
            if caveat.valid_until is not None:
                text = caveat.text
                snippet = text if len(text) <= _SNIPPET else text[: _SNIPPET - 3] + "…"
                left = (caveat.valid_until - today).days
                origin = origins.get((s, i))
                found.append(Expiry(s, caveat.valid_until, left, i, snippet, origin))
    return sorted(
        (e for e in found if e.days_left <= warn_days),
        key=lambda e: (e.days_left, e.subject, e.caveat or 0),
    )


def upcoming_expiries(knowledge: Knowledge, today: date, warn_days: int) -> list[Expiry]:
    """:func:`expiries_of` the knowledge in service."""
    return expiries_of(knowledge.tools.values(), knowledge.date_origins, today, warn_days)
