"""The rest of an answer, on demand ("détails", "plus", "que faut-il éviter ?").

For a need: every category in the guide's order (recommended, advised, to limit, to avoid,
"faire autrement"), each option with its way in, once the question's conditions have
filtered them. For a tool: all the guide says of it, each sentence once. Options the
conditions rule out are left out, not listed with a warning.
"""

from __future__ import annotations

from datetime import date

from bot.core.conditions import applicable, counts_matter
from bot.core.decision import Decision
from bot.core.facts import alternatives, caveat_text, option_in, visible
from bot.core.lines import already_said, compact_line, count, option_line, text_of
from bot.core.render import Block, Bold, Inline, Line, Link, bullets, para
from bot.knowledge.model import Category, Knowledge, Need, Option, Tool
from bot.knowledge.subject import SubjectKind


class Details:
    def __init__(
        self, knowledge: Knowledge, decision: Decision, today: date, *, outsider: bool = False
    ) -> None:
        self.k = knowledge
        self.d = decision
        self.today = today
        self.outsider = outsider
        self.labels = knowledge.conversation.category_labels
        self.tools: list[str] = []

    def blocks(self) -> list[Block]:
        kind, ident = self.d.subject
        if kind is SubjectKind.TOOL:
            return self.tool(self.k.tools[ident])
        if kind is SubjectKind.TIP:
            return self.need(self.k.needs[self.k.tips[ident].need])
        return self.need(self.k.needs[ident])

    def need(self, need: Need) -> list[Block]:
        e = self.d.entities
        blocks: list[Block] = [para(Bold(need.title), " — ", need.summary)]
        if e.participants is not None and counts_matter(need):
            blocks.append(para(f"Pour {count(e)} :"))
        kept: list[Option] = []
        for category in Category:
            lines: list[Line] = []
            for option in need.options:
                if (
                    option.category == category
                    and not option.existing_only
                    and applicable(option, e, self.k, self.today)
                ):
                    kept.append(option)
                    lines.append(self.line(option))
            if lines:
                blocks += [para(Bold(self.labels[category])), bullets(lines)]
        for option in need.options:
            if option.existing_only and option.tool:
                blocks.append(para(Bold(self.k.tools[option.tool].name), " : ", option.text))
        if self.outsider:
            kept.sort(key=lambda o: not o.tool or self.k.tools[o.tool].audience != "all")
        self.tools = [o.tool for o in kept if o.tool]
        if need.notes:
            blocks.append(bullets([n] for n in need.notes))
        return blocks

    def line(self, option: Option) -> Line:
        if option.tool is None:
            if self.d.app is not None:
                return (Bold(self.k.outside_apps[self.d.app].name), " : ", option.text)
            return (option.text,)
        return option_line(self.k.tools[option.tool], option)

    def tool(self, tool: Tool) -> list[Block]:
        need = self.k.needs.get(self.d.need or "")
        option = option_in(tool, need)
        self.tools = [tool.id]
        header: list[Inline] = [Bold(tool.name)]
        if option is not None and need is not None:
            header += [" — ", self.labels[option.category], f", {need.title.lower()}"]
        blocks: list[Block] = [para(*header), para(tool.summary)]
        said = tool.summary
        sentences: list[Line] = []
        for caveat in tool.caveats:
            text = caveat_text(caveat, self.today)
            if visible(caveat, self.d.entities) and not already_said(text, said):
                said += " " + text
                sentences.append((text,))
        if sentences:
            blocks.append(bullets(sentences))
        if tool.steps:
            blocks.append(bullets(([s] for s in tool.steps), ordered=True))
        ways: list[Line] = [(Link(link.label, link.url),) for link in tool.links]
        ways += [(Link(c.label, c.email),) for c in tool.contacts]
        ways = [w for w in ways if text_of(w).split()[-1] not in said]
        if ways:
            blocks.append(bullets(ways))
        if need is not None and (option is None or option.category != Category.RECOMMANDE):
            others = alternatives(
                need, self.d.entities, self.k, self.today, besides=tool.id, outsider=self.outsider
            )
            if others:
                self.tools += [o.tool for o in others if o.tool]
                blocks += [
                    para(Bold(f"Pour {need.title.lower()}, le guide propose aussi :")),
                    bullets(compact_line(self.k.tools[o.tool or ""], o) for o in others),
                ]
        return blocks
