"""Reply building: a decision and the knowledge, as short scannable blocks.

Order inside a reply: the recommendation first, then the alternatives, then warnings and
what to avoid, then "faire autrement"; each tool with its link or contact. Nothing here
invents content: every sentence comes from the knowledge files, the connecting words aside.
"""

from __future__ import annotations

from datetime import date

from bot.core.conditions import applicable, expired, tips_apply
from bot.core.entities import MAX_PARTICIPANTS, Entities
from bot.core.index import index_for
from bot.core.render import Block, Bold, Inline, Line, Link, bullets, para
from bot.core.understand import CLARIFY, Decision
from bot.knowledge.model import Category, Caveat, Knowledge, Need, Option, Range, Tool


class Composer:
    """Builds the blocks of one reply. Holds the knowledge, the date and the question's facts."""

    def __init__(self, knowledge: Knowledge, decision: Decision, today: date) -> None:
        self.k = knowledge
        self.d = decision
        self.today = today
        self.labels = knowledge.conversation.category_labels

    # -- entry point ------------------------------------------------------------------
    def blocks(self) -> list[Block]:
        subject = self.d.subject
        kind, _, ident = subject.partition(":")
        if subject == "help" and self.d.brief and self.k.conversation.thanks:
            return [para(self.k.conversation.thanks)]
        if subject == "help":
            return self.menu(self.k.conversation.greeting)
        if subject == "none":
            return self.menu(self.k.conversation.out_of_scope)
        if subject == CLARIFY:
            return self.clarify()
        if kind == "tip":
            return self.tip(ident)
        if kind == "tool":
            return self.tool(self.k.tools[ident])
        if self.d.app is not None:
            return self.outside_app(self.k.needs[ident])
        return self.need(self.k.needs[ident])

    # -- pieces -------------------------------------------------------------------------
    def menu(self, intro: str) -> list[Block]:
        conversation = self.k.conversation
        items: list[list[Inline]] = [
            [Bold(n.title), " : ", n.summary] for n in self.k.needs.values()
        ]
        return [para(intro), para(conversation.menu_intro), bullets(items)]

    def clarify(self) -> list[Block]:
        items: list[list[Inline]] = []
        for subject in self.d.choices:
            kind, _, ident = subject.partition(":")
            if kind == "tip":
                items.append([Bold(self.k.tips[ident].title)])
            else:
                need = self.k.needs[ident]
                items.append([Bold(need.title), " : ", need.summary])
        return [para(self.k.conversation.clarify_intro), bullets(items, ordered=True)]

    def tip(self, ident: str) -> list[Block]:
        tip = self.k.tips[ident]
        blocks: list[Block] = [para(Bold(tip.title)), bullets(([s] for s in tip.steps), True)]
        need = self.k.needs.get(tip.need)
        if need is not None:
            # The other ranged recommendation of the need: what to use beyond a phone call.
            for option in need.options:
                tool = self.k.tools.get(option.tool or "")
                if (
                    tool is not None
                    and not tool.tips
                    and option.category == Category.RECOMMANDE
                    and option.participants is not None
                    and applicable(option, Entities(), self.k, self.today)
                ):
                    line = self.compact_line(tool, option)
                    blocks.append(para("Pour une réunion plus large : ", *line))
        return blocks

    def tool(self, tool: Tool) -> list[Block]:
        need = self.k.needs.get(self.d.need or "")
        placement = self.placements(tool)
        blocks: list[Block] = [
            para(Bold(tool.name), " — ", placement) if placement else para(Bold(tool.name))
        ]
        if expired(tool.valid_until, self.today):
            blocks.append(para(f"Cette offre a pris fin le {_day(tool.valid_until)}."))
        warnings = self.sensitive_warning(tool)
        blocks += warnings
        n = self.d.entities.participants
        if n is not None and tool.participants is not None and not tool.participants.contains(n):
            blocks.append(
                para(Bold("Attention : "), _range_text(tool.participants, self.d.entities))
            )
        blocks.append(para(tool.summary))
        caveats = self.ordered_caveats(tool.caveats)
        if caveats:
            blocks.append(bullets([[self.caveat_text(c)] for c in caveats]))
        if tool.steps:
            blocks.append(bullets(([s] for s in tool.steps), ordered=True))
        contact = self.contacts(tool)
        if contact:
            blocks.append(bullets(contact))
        for tip_id in tool.tips:
            tip = self.k.tips[tip_id]
            if self.d.entities.device in (None, tip.device):
                blocks.append(para("Astuce : ", Bold(tip.title)))
                blocks.append(bullets(([s] for s in tip.steps), ordered=True))
        if need is not None:
            blocks += self.better_choice(tool, need, bool(warnings))
        return blocks

    def need(self, need: Need) -> list[Block]:
        blocks: list[Block] = [para(Bold(need.title), " — ", need.summary)]
        entities = self.d.entities
        if entities.participants is not None:
            blocks.append(para(f"Pour {_count(entities)} :"))
        excluded: list[str] = []
        for category in Category:
            lines: list[Line] = []
            for option in need.options:
                if option.category != category:
                    continue
                if applicable(option, entities, self.k, self.today):
                    lines.append(self.option_line(option))
                elif (
                    option.tool
                    and entities.sensitive
                    and not self.k.tools[option.tool].sensitive_ok
                ):
                    excluded.append(self.k.tools[option.tool].name)
            if lines:
                blocks += [para(Bold(self.labels[category])), bullets(lines)]
        if excluded:
            blocks.append(
                para(
                    "Sujet sensible : ",
                    ", ".join(excluded),
                    " ne sont pas proposés (le guide les exclut pour les sujets sensibles).",
                )
            )
        if need.notes:
            blocks.append(bullets([n] for n in need.notes))
        tips = [self.k.tips[t] for t in need.tips]
        if tips and tips_apply(entities, self.k):
            names = " ou ".join(f"« fusionner appels {t.device} »" for t in tips)
            blocks.append(
                para("Astuce pour réunir plusieurs appels sur un mobile : demandez ", names, ".")
            )
        return blocks

    def outside_app(self, need: Need) -> list[Block]:
        app = self.k.outside_apps[self.d.app or ""]
        rule = self.k.conversation.outside_offer_rule
        recommended = [
            self.option_line(o)
            for o in need.options
            if o.category == Category.RECOMMANDE
            and applicable(o, self.d.entities, self.k, self.today)
        ]
        blocks: list[Block] = [
            para(Bold(app.name), " ne fait partie ni de l'offre du SNUM ni de celle de la DINUM."),
            para(rule),
        ]
        if recommended:
            blocks += [
                para(Bold(f"{need.title} : {self.labels[Category.RECOMMANDE]}")),
                bullets(recommended),
            ]
        shown = {o.tool for o in need.options if o.category == Category.RECOMMANDE}
        others = [self.k.tools[t] for t in app.alternatives if t not in shown]
        if others:
            lines = [self.tool_line(t, self.placed_option(t, need)) for t in others]
            blocks += [para(Bold("Autre solution du guide :")), bullets(lines)]
        return blocks

    def placed_option(self, tool: Tool, need: Need) -> Option | None:
        return next((o for o in need.options if o.tool == tool.id), None)

    # -- lines ----------------------------------------------------------------------------
    def option_line(self, option: Option) -> Line:
        if option.tool is None:
            if self.d.app is not None:
                return (Bold(self.k.outside_apps[self.d.app].name), " : ", option.text)
            return (option.text,)
        return self.tool_line(self.k.tools[option.tool], option)

    def tool_line(self, tool: Tool, option: Option | None = None) -> Line:
        parts: list[Inline] = [
            Bold(tool.name),
            " : ",
            (option.text if option and option.text else tool.summary),
        ]
        for caveat in tool.caveats:
            if self.stressed(caveat) or (self.relevant(caveat) and not caveat.participants):
                parts += [" ", self.caveat_text(caveat)]
        said = " ".join(p for p in parts if isinstance(p, str))
        parts += self.reach(tool, said)
        return tuple(parts)

    def compact_line(self, tool: Tool, option: Option | None = None) -> Line:
        """The tool's name and its way in, for a tool named in passing."""
        parts: list[Inline] = [Bold(tool.name)]
        if option is not None and option.participants is not None:
            parts.append(f" ({_span(option.participants)})")
        parts += [" ", self.caveat_text(c)] if (c := self.first_stressed(tool)) else []
        return (*parts, *self.reach(tool, ""))

    def first_stressed(self, tool: Tool) -> Caveat | None:
        return next((c for c in tool.caveats if self.stressed(c)), None)

    def reach(self, tool: Tool, said: str) -> list[Inline]:
        """The first way in, a link or else a contact address, unless the text gave it."""
        targets = [link.url for link in tool.links] + [c.email for c in tool.contacts]
        target = targets[0] if targets else ""
        shown = target.removeprefix("https://").removeprefix("http://").rstrip("/")
        if not target or shown in said:
            return []
        return [" — ", Link("", target)]

    def contacts(self, tool: Tool) -> list[list[Inline]]:
        items: list[list[Inline]] = [[Link(link.label, link.url)] for link in tool.links]
        items += [[Link(c.label, c.email)] for c in tool.contacts]
        return items

    def placements(self, tool: Tool) -> str:
        """Where the guide places the tool, best placement first."""
        places = sorted(
            (list(Category).index(option.category), self.labels[option.category], need.title)
            for need in self.k.needs.values()
            for option in need.options
            if option.tool == tool.id
        )
        return " ; ".join(dict.fromkeys(f"{label} : {title.lower()}" for _, label, title in places))

    def better_choice(self, tool: Tool, need: Need, sensitive_issue: bool) -> list[Block]:
        """For a tool the guide does not recommend (here), name the ones it does."""
        own = [o for o in need.options if o.tool == tool.id]
        recommended_here = any(
            o.category == Category.RECOMMANDE and applicable(o, self.d.entities, self.k, self.today)
            for o in own
        )
        if recommended_here and not sensitive_issue and not expired(tool.valid_until, self.today):
            return []
        lines = [
            self.compact_line(self.k.tools[o.tool], o)
            for o in need.options
            if o.category == Category.RECOMMANDE
            and o.tool not in (None, tool.id)
            and applicable(o, self.d.entities, self.k, self.today)
        ]
        return (
            [para(Bold(f"Préférez, pour {need.title.lower()} :")), bullets(lines)] if lines else []
        )

    def sensitive_warning(self, tool: Tool) -> list[Block]:
        if tool.sensitive_ok or not self.d.entities.sensitive:
            return []
        said = [c for c in tool.caveats if "sensible" in c.topics]
        text = said[0].text if said else f"{tool.name} est à proscrire pour les sujets sensibles."
        return [para(Bold("Sujet sensible : "), text)]

    # -- caveats ---------------------------------------------------------------------------
    def caveat_text(self, caveat: Caveat) -> str:
        if expired(caveat.valid_until, self.today) and caveat.expired_text:
            return caveat.expired_text
        if self.stressed(caveat):
            return "Attention : " + caveat.text[:1].lower() + caveat.text[1:]
        return caveat.text

    def stressed(self, caveat: Caveat) -> bool:
        n = self.d.entities.participants
        return caveat.participants is not None and n is not None and caveat.participants.contains(n)

    def relevant(self, caveat: Caveat) -> bool:
        topics = index_for(self.k).caveat_topics.get(caveat, ())
        return any(topic <= self.d.topics for topic in topics)

    def ordered_caveats(self, caveats: tuple[Caveat, ...]) -> list[Caveat]:
        """Stressed and relevant caveats first; the sensitive one is already said."""
        rest = [c for c in caveats if not (self.d.entities.sensitive and "sensible" in c.topics)]
        return sorted(rest, key=lambda c: (not self.stressed(c), not self.relevant(c)))


def _count(entities: Entities) -> str:
    """The count as the agent said it: a reply never states a number the agent did not give
    ("plus de 50 participants", not "51 participants")."""
    n = entities.participants
    if entities.said:
        return entities.said
    return (
        "un très grand nombre de participants"
        if (n or 0) >= MAX_PARTICIPANTS
        else f"{n} participants"
    )


def _day(day: date | None) -> str:
    months = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
    if day is None:
        return ""
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {months.split()[day.month - 1]} {day.year}"


def _span(bounds: Range) -> str:
    if bounds.min is not None and bounds.max is not None:
        return f"de {bounds.min} à {bounds.max} participants"
    if bounds.min is not None:
        return f"à partir de {bounds.min} participants"
    return f"jusqu'à {bounds.max} participants"


def _range_text(bounds: Range, entities: Entities) -> str:
    return f"le guide indique cette solution {_span(bounds)} ; vous prévoyez {_count(entities)}."
