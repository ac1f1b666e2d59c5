"""Reply building: a decision and the knowledge, as short blocks that answer first.

The first line answers: the tool for this case with its way in, the fact asked, or "Oui" /
"Non" and why, in the guide's words. Then at most two lines that matter for this question
(the condition or caveat it touches, the alternative). The rest (other categories, what to
avoid, "faire autrement") is on demand (details.py), offered by one closing line. The
guide's conditions filter: a tool they rule out is not offered, and when it is the one
asked about, the reply says why. Nothing here invents content: every sentence comes from the
knowledge files, the connecting words aside.
"""

from __future__ import annotations

from datetime import date

from bot.core.conditions import applicable, counts_matter, expired, main_need
from bot.core.cues import cues_for
from bot.core.decision import Decision
from bot.core.details import Details
from bot.core.entities import Entities
from bot.core.facts import (
    Fact,
    alternatives,
    caveat_text,
    facts_of,
    lacking,
    option_in,
    relevant,
    ruled_out,
    touched,
    visible,
)
from bot.core.index import index_for
from bot.core.lines import (
    already_said,
    compact_line,
    count,
    day,
    lower_first,
    option_line,
    reach,
    target_shown,
    text_of,
)
from bot.core.render import Block, Bold, Inline, Line, Link, Paragraph, bullets, para
from bot.knowledge.model import Category, Caveat, Knowledge, Need, Option, Tool
from bot.knowledge.subject import CLARIFY, HELP, NONE, SubjectKind

MAX_EXTRA = 2  # lines after the answer: the condition touched, the alternative
FITTING_MARGIN = 0.08  # a tool scored this close to its need fits the question too
MAX_ALTERNATIVES = 4


class Composer:
    """Builds the blocks of one reply; ``tools`` is what it offered, the lead first."""

    def __init__(
        self, knowledge: Knowledge, decision: Decision, today: date, *, outsider: bool = False
    ) -> None:
        self.k = knowledge
        self.d = decision
        self.today = today
        self.outsider = outsider
        self.labels = knowledge.conversation.category_labels
        self.tools: list[str] = []
        self.led_to: list[str] = []  # tools the facts said lead to (context.led_to)
        # The one tool the fact the question pointed at leads to ("et pour en créer un
        # nouveau ?" of Alfresco: SharePoint): the reply, and what follows, is about it.
        self.redirected: str | None = None
        self.replaced = False  # the tool asked about is ruled out, others are offered
        self.names = index_for(knowledge).proper_names

    # -- entry point ------------------------------------------------------------------
    def blocks(self) -> list[Block]:
        subject = self.d.subject
        kind, ident = subject
        conversation = self.k.conversation
        if subject == HELP and self.d.brief and conversation.thanks:
            return [para(conversation.thanks)]
        if subject == HELP:
            return self.menu(conversation.greeting)
        if subject == NONE:
            return self.menu(conversation.out_of_scope)
        if self.d.unnamed_app:
            return self.unnamed_app()
        if self.d.unknown and kind is SubjectKind.TOOL:
            tool = self.k.tools[ident]
            self.tools.append(tool.id)
            said = conversation.not_in_guide.format(name=tool.name)
            return [para(said), *self.access(tool, said)]
        if self.d.avoided:
            return self.avoided()
        if subject == CLARIFY:
            return self.clarify()
        if self.d.details and kind is SubjectKind.TIP:
            return self.tip(ident)  # its steps are all there is to it: "comment je fais ?"
        if self.d.details:
            details = Details(self.k, self.d, self.today, outsider=self.outsider)
            out = details.blocks()
            self.tools = details.tools
            return out
        if self.d.compared:
            return self.comparison()
        if self.d.attributes and kind in (SubjectKind.TOOL, SubjectKind.NEED):
            return self.attribute()
        if kind is SubjectKind.TIP:
            return self.tip(ident)
        if kind is SubjectKind.TOOL:
            return self.tool(self.k.tools[ident])
        if self.d.app is not None:
            return self.outside_app(self.k.needs[ident])
        return self.need(self.k.needs[ident])

    # -- help, clarification -----------------------------------------------------------
    def menu(self, intro: str) -> list[Block]:
        items: list[list[Inline]] = [[Bold(n.title)] for n in self.k.needs.values()]
        return [para(intro), para(self.k.conversation.menu_intro), bullets(items)]

    def clarify(self) -> list[Block]:
        items: list[list[Inline]] = []
        for kind, ident in self.d.choices:
            if kind is SubjectKind.TIP:
                items.append([Bold(self.k.tips[ident].title)])
            else:
                need = self.k.needs[ident]
                items.append([Bold(need.title), " : ", need.summary])
        return [para(self.k.conversation.clarify_intro), bullets(items, ordered=True)]

    # -- a need ------------------------------------------------------------------------
    def leads(self, need: Need, entities: Entities | None = None) -> list[Option]:
        """The options to answer with: the recommended ones the conditions allow (advised
        ones when none is), for an agent outside the audience the offers open to all."""
        e = entities or self.d.entities
        allowed = alternatives(need, e, self.k, self.today, outsider=False)
        recommended = [o for o in allowed if o.category == Category.RECOMMANDE]
        if self.outsider:
            open_to_all = [o for o in allowed if self.tool_of(o).audience == "all"]
            return (open_to_all[:1] + [o for o in recommended if o not in open_to_all[:1]])[:2]
        return (recommended or allowed)[:2]

    def need(self, need: Need) -> list[Block]:
        e = self.d.entities
        leads = self.leads(need)
        if not leads:
            return Details(self.k, self.d, self.today, outsider=self.outsider).need(need)
        blocks: list[Block] = []
        for i, option in enumerate(leads):
            tool = self.tool_of(option)
            self.tools.append(tool.id)
            line = option_line(tool, option)
            if i == 0 and e.participants is not None and counts_matter(need):
                line = (f"Pour {count(e)} : ", *line)
            blocks.append(para(*line))
        said = self.said(blocks)
        extra = self.touched_lines(need, [self.tool_of(o) for o in leads], said)
        extra += self.fitting_line(need, leads)
        if len(extra) < MAX_EXTRA:
            extra += self.alternative_line(need, leads)
        blocks += extra[:MAX_EXTRA]
        blocks += self.tip_offer([self.tool_of(o) for o in leads])
        return blocks + self.offer_details(need, shown=len(leads) + len(extra))

    def touched_lines(self, need: Need, leads: list[Tool], said: str) -> list[Block]:
        """The caveats of the answer's tools this question touches; facts for the agent's
        service from any tool of the need (the DDI's storage)."""
        e = self.d.entities
        out: list[Block] = []
        tools = list(leads)
        if e.services:
            tools += [
                self.k.tools[o.tool]
                for o in need.options
                if o.tool and self.k.tools[o.tool] not in tools
            ]
        for tool in tools:
            for caveat in touched(tool, self.d.topics, e, self.k, self.today):
                if tool not in leads and not set(caveat.services) & e.services:
                    continue
                text = caveat_text(caveat, self.today)
                if already_said(text, said):
                    continue
                said += " " + text
                out.append(para(text))
        return out[:MAX_EXTRA]

    def fitting_line(self, need: Need, leads: list[Option]) -> list[Block]:
        """Another tool of the need that the question describes nearly as well as the need
        ("envoyer un gros fichier": the webMél Stockage tab), where the guide places it."""
        scores = {c.subject: c.score for c in self.d.candidates}
        top = scores.get(self.d.subject)
        if top is None:
            return []
        shown = {o.tool for o in leads}
        for option in need.options:
            if option.tool is None or option.tool in shown:
                continue
            score = scores.get(self.tool_of(option).subject)
            if score is not None and score >= top - FITTING_MARGIN:
                self.tools.append(option.tool)
                label = self.labels[option.category]
                return [para(f"{label} : ", *compact_line(self.tool_of(option), option))]
        return []

    def alternative_line(self, need: Need, leads: list[Option]) -> list[Block]:
        others = [
            o
            for o in alternatives(need, self.d.entities, self.k, self.today, outsider=self.outsider)
            if o not in leads and o.tool not in self.tools  # not twice (fitting_line)
        ]
        if not others:
            return []
        category = others[0].category
        same = [o for o in others if o.category == category][:2]
        parts: list[Inline] = [f"{self.labels[category]} : "]
        for i, option in enumerate(same):
            parts += [" ; "] if i else []
            parts += compact_line(self.tool_of(option), option)
        return [para(*parts)]

    def tip_offer(self, leads: list[Tool]) -> list[Block]:
        """A mobile call for three without the device: which phone, for the right steps.
        Nothing to merge for two."""
        e = self.d.entities
        if len(leads) != 1 or not leads[0].tips or e.device or e.participants == 2:
            return []
        devices = " ou ".join(self.k.tips[t].title.split()[-1] for t in leads[0].tips)
        return [para(f"Pour fusionner les appels, précisez votre mobile ({devices}).")]

    def offer_details(self, need: Need | None, shown: int) -> list[Block]:
        """The closing lines: another need the message asks, then the offer of details."""
        blocks = self.also()
        offer = self.k.conversation.details_offer
        if not offer or need is None:
            return blocks
        more = [
            o
            for o in need.options
            if o.category != Category.RECOMMANDE
            and applicable(o, self.d.entities, self.k, self.today)
        ]
        return [*blocks, para(offer)] if more else blocks

    def also(self) -> list[Block]:
        """ "et ensuite partager les documents": the other need's tool, in a line."""
        out: list[Block] = []
        own = self.d.also_entities  # the count said on its side, if one was
        for _, ident in self.d.also:
            need = self.k.needs[ident]
            leads = self.leads(need, own)[:1]
            if leads:
                title = f"{need.title[:1].lower()}{need.title[1:]}"
                counted = f", pour {count(own)}" if own and own.participants is not None else ""
                label = f"Et pour {title}{counted} : "
                out.append(para(Bold(label), *compact_line(self.tool_of(leads[0]), leads[0])))
        return out

    # -- a tool --------------------------------------------------------------------------
    def tool(self, tool: Tool) -> list[Block]:
        need = self.k.needs.get(self.d.need or "")
        option = option_in(tool, need)
        self.tools.append(tool.id)
        out = ruled_out(
            tool,
            need,
            self.d.entities,
            self.k,
            self.today,
            negated=self.d.negated,
            words=self.d.words,
        )
        if out is not None:
            said_instead = self.not_this(tool, need, option, out.reason, out.why)
            if out.reason == "count" and len(self.tools) > 1:
                # What it said instead leads the thread ("le lien ?" is the WebConf's).
                self.tools.remove(tool.id)
                self.replaced = True
            return said_instead
        e = self.d.entities
        # On a sensitive topic, a tool whose confidentiality the guide says is not fully
        # assured (Lifesize) gets a yes with its reserve, which the caveat below states.
        reserved = e.sensitive and any(
            "sensible" in c.topics and "confidentiality" in c.about for c in tool.caveats
        )
        yes = "Oui, avec réserve : " if reserved else "Oui : "
        header: list[Inline] = [yes] if self.d.yes_no else []
        counted = e.participants is not None and (counts_matter(need) or tool.participants)
        header += [f"Pour {count(e)} : "] if counted else []
        header += [Bold(tool.name)]
        if option is not None and need is not None:
            header += [" — ", self.labels[option.category], f", {need.title.lower()}"]
        blocks: list[Block] = [para(*header), para(tool.summary)]
        if tool.steps:
            blocks.append(bullets(([s] for s in tool.steps), ordered=True))
        said = self.said(blocks)
        extra: list[Block] = [self.caveat_line(c) for c in self.touched_caveats(tool, said)]
        if not extra:
            # Nothing touched: what the agent must have (VPN, licence...), the limit, and
            # the confidentiality, which the guide signals wherever it names the tool.
            extra += [
                para(caveat_text(c, self.today))
                for c in tool.caveats
                if (c.needed or {"confidentiality", "limit"} & set(c.about))
                and visible(c, e)
                and not already_said(c.text, said)
                and not (c.participants and c.participants.min is None)
            ][:MAX_EXTRA]
        blocks += extra[:MAX_EXTRA]
        way = reach(tool, self.said(blocks))
        if way:
            blocks.append(para("Accès", *way) if tool.links else para("Contact", *way))
        if self.outsider and tool.audience != "all" and need is not None:
            # The pôle's own offer, for an agent of another ministry: what is open to all.
            blocks += self.instead(
                need, tool, "Ouvert à tous les agents de l'État : ", open_to_all=True
            )
        recommended = (Category.RECOMMANDE,)
        if need is not None and option is not None and option.existing_only:
            blocks += self.instead(need, tool, "Pour un nouvel espace : ", recommended)
        elif need is not None and option is not None and option.category != Category.RECOMMANDE:
            label = self.labels[Category.RECOMMANDE]
            blocks += self.instead(need, tool, f"{label} : ", recommended)
        blocks += self.tip_offer([tool])
        return blocks + self.offer_details(need, shown=1)

    # -- tools side by side --------------------------------------------------------------
    def comparison(self) -> list[Block]:
        """Each tool compared: where the guide places it, what it is, what it requires or
        limits, the way in."""
        blocks: list[Block] = []
        e = self.d.entities
        for subject in self.d.compared:
            tool = self.k.tools[subject.id]
            self.tools.append(tool.id)
            need_id = main_need(subject, self.k)
            need = self.k.needs.get(need_id or "")
            option = option_in(tool, need)
            header: list[Inline] = [Bold(tool.name)]
            if option is not None and need is not None:
                header += [" — ", self.labels[option.category], f", {need.title.lower()}"]
            lines: list[Block] = [para(*header), para(tool.summary)]
            avoided = option is not None and option.category == Category.EVITER
            said = self.said(lines)
            lines += [
                para(caveat_text(c, self.today))
                for c in tool.caveats
                if (c.needed or {"confidentiality", "limit", "installation"} & set(c.about))
                and visible(c, e)
                and not expired(c.valid_until, self.today)
                and not already_said(c.text, said)
            ][: 0 if avoided else MAX_EXTRA]  # why to avoid it: its summary says
            way = reach(tool, self.said(lines))
            if way:
                lines.append(para("Accès", *way) if tool.links else para("Contact", *way))
            blocks += lines
        return blocks

    def touched_caveats(self, tool: Tool, said: str) -> list[Caveat]:
        out = []
        for caveat in touched(tool, self.d.topics, self.d.entities, self.k, self.today):
            text = caveat_text(caveat, self.today)
            if not already_said(text, said):
                said += " " + text
                out.append(caveat)
        return out[:MAX_EXTRA]

    def stressed(self, caveat: Caveat) -> bool:
        """The count falls in the range the caveat warns about (80 for a 3–50 booking)."""
        n = self.d.entities.participants
        return caveat.participants is not None and n is not None and caveat.participants.contains(n)

    def caveat_line(self, caveat: Caveat) -> Block:
        text = caveat_text(caveat, self.today)
        if self.stressed(caveat):
            return para(Bold("Attention : "), lower_first(text, self.names))
        return para(text)

    def not_this(
        self, tool: Tool, need: Need | None, option: Option | None, reason: str, why: str
    ) -> list[Block]:
        """A tool the conditions rule out: why, in the guide's words, then what fits."""
        e = self.d.entities
        no = "Non : " if self.d.yes_no else ""
        if reason == "expired":
            lead = para(
                no, Bold(tool.name), f" : cette offre a pris fin le {day(tool.valid_until)}."
            )
        elif reason == "avoid":
            label = self.labels[option.category] if option else ""
            lead = para(no, Bold(tool.name), f" — {label} : ", tool.summary)
            if e.sensitive and why != option_text(option):
                lead = para(no, Bold(tool.name), f" — {label} : ", why)
        elif reason == "count":
            bounds = (option.participants if option else None) or tool.participants
            said = why or (
                f"le guide l'indique pour {bounds.said}" if bounds and bounds.said else ""
            )
            start = f"Non, pas pour {count(e)} : " if no else f"Pour {count(e)}, "
            lead = (
                para(start, Bold(tool.name), " ne convient pas : ", lower_first(said, self.names))
                if not no
                else para(start, said)
            )
        elif reason == "lacking":
            lead = para(no or "Attention : ", lower_first(why, self.names) if no else why)
        else:  # sensitive
            lead = para(no or "Sujet sensible : ", why)
        blocks: list[Block] = [lead]
        if need is not None:
            intro = f"Pour {count(e)} : " if reason == "count" else "À la place : "
            blocks += self.instead(need, tool, intro)
        return blocks + self.offer_details(need, shown=1)

    def instead(
        self,
        need: Need,
        tool: Tool,
        intro: str,
        categories: tuple[Category, ...] = (Category.RECOMMANDE, Category.CONSEILLE),
        *,
        open_to_all: bool = False,
    ) -> list[Block]:
        """What the guide offers instead, for this question's conditions: one line for one
        or two tools, a list beyond."""
        others = alternatives(
            need, self.d.entities, self.k, self.today, besides=tool.id, outsider=self.outsider
        )
        others = [
            o
            for o in others
            if o.category in categories
            and not self.lacks(self.tool_of(o))
            and (not open_to_all or self.tool_of(o).audience == "all")
        ][: 1 if open_to_all else MAX_ALTERNATIVES]
        if not others:
            return []
        self.tools += [self.tool_of(o).id for o in others]
        if len(others) <= 2:
            parts: list[Inline] = [intro]
            for i, option in enumerate(others):
                parts += [" ; "] if i else []
                parts += self.passing(option)
            return [para(*parts)]
        return [para(intro.rstrip()), bullets(self.passing(o) for o in others)]

    def passing(self, option: Option) -> Line:
        """A tool named in passing; on a sensitive topic, with the guide's confidentiality
        warning if it has one (Lifesize)."""
        tool = self.tool_of(option)
        line = compact_line(tool, option)
        if self.d.entities.sensitive and any(
            "sensible" in c.topics and "confidentiality" in c.about for c in tool.caveats
        ):
            return (*line, " (confidentialité non totalement assurée)")
        return line

    def lacks(self, tool: Tool) -> bool:
        """The question denies what this tool requires too: not offered instead."""
        return any(c.requires and lacking(c, self.d.negated) for c in tool.caveats)

    # -- an attribute of the subject -----------------------------------------------------
    def attribute(self) -> list[Block]:
        kind, ident = self.d.subject
        kinds = self.d.attributes
        need = self.k.needs.get(self.d.need or "")
        if kind is SubjectKind.NEED:
            tool_ids = [o.tool for o in self.leads(self.k.needs[ident]) if o.tool]
            tool = self.k.tools[tool_ids[0]] if tool_ids else None
        else:
            tool = self.k.tools[ident]
        if "alternatives" in kinds:
            return self.alternatives(tool, need)
        if tool is None:
            return self.need(self.k.needs[ident])
        out = ruled_out(
            tool,
            need,
            self.d.entities,
            self.k,
            self.today,
            negated=self.d.negated,
            words=self.d.words,
        )
        # A yes or no on a tool the count rules out is that "Non", unless another fact than
        # its size is asked ("et ça marche sur smartphone ?" of Tixéo, after 15).
        count_aside = out is not None and out.reason == "count" and "limit" not in kinds
        if out is not None and (
            (self.d.yes_no and not count_aside) or out.reason in ("avoid", "expired")
        ):
            return self.tool(tool)
        self.tools.append(tool.id)
        facts = self.chosen_facts(tool, kinds)
        if facts and self.names_another_requirement(facts) and self.k.conversation.unrequired:
            # "faut le vpn ?" of Tixéo: no "Oui" for its installation; what it does need.
            lead = para(self.k.conversation.unrequired.format(name=tool.name))
            return [lead, *self.fact_blocks(tool, facts, with_verdict=False)]
        if not facts:
            missing = self.k.conversation.missing.get(kinds[0], "")
            if not self.d.follow_up or not missing:
                return self.tool(tool)
            return [para(missing.format(name=tool.name)), *self.access(tool, "")]
        blocks = self.fact_blocks(tool, facts)
        if self.redirected is not None:
            # Then what the tool it leads to says of the same thing (its creation contact).
            other = self.k.tools[self.redirected]
            more = facts_of(other, kinds, self.d.entities, self.today)
            self.tools.append(other.id)
            blocks += self.fact_blocks(other, more[:1], with_verdict=False) if more else []
        return blocks

    def chosen_facts(self, tool: Tool, kinds: tuple[str, ...]) -> list[Fact]:
        """The facts asked; those the question's words point at, if any do; else the caveat
        its words touch ("la visio rame": the video can be turned off)."""
        facts = facts_of(tool, kinds, self.d.entities, self.today)
        pointed = [f for f in facts if f.caveat and relevant(f.caveat, self.d.topics, self.k)]
        if pointed:
            return pointed + [f for f in facts if f.caveat is None]
        aside = [
            Fact("", caveat_text(c, self.today), caveat=c)
            for c in touched(tool, self.d.topics, self.d.entities, self.k, self.today)
            # A caveat touched only by the words that ask the attribute is no aside:
            # "combien ça coûte ?" asks the price, its "combien" does not ask the limit.
            if relevant(c, self.d.topics - cues_for(self.k).cue_stems, self.k)
            or (relevant(c, self.d.topics, self.k) and set(c.about) & set(kinds))
        ]
        return aside + facts[:1] if aside else facts

    def names_another_requirement(self, facts: list[Fact]) -> bool:
        """A "faut-il… ?" names a condition the guide sets for some tool ("vpn",
        "licence") and none of the facts chosen for this tool is about it."""
        topics = self.d.topics
        if not self.d.needed or "condition" not in self.d.attributes:
            return False  # "faut installer quelque chose ?" asks the installation
        if any(f.caveat and relevant(f.caveat, topics, self.k) for f in facts):
            return False
        return any(t <= topics for t in index_for(self.k).requirements)

    def fact_blocks(
        self, tool: Tool, facts: list[Fact], *, with_verdict: bool = True
    ) -> list[Block]:
        # A tool a fact leads to ("l'usage est SharePoint"): "qui contacter ?" next may ask it.
        leads = index_for(self.k).caveat_leads
        self.led_to += [t for f in facts if f.caveat is not None for t in leads.get(f.caveat, ())]
        first = facts[0]
        caveat = first.caveat
        led = leads.get(caveat, ()) if caveat is not None else ()
        if caveat is not None and len(led) == 1 and relevant(caveat, self.d.topics, self.k):
            self.redirected = led[0]
        verdict = ""
        if with_verdict and self.d.needed and caveat is not None and caveat.needed is not None:
            verdict = "Oui : " if caveat.needed else "Non : "
        blocks: list[Block] = []
        steps = [f.text for f in facts if f.kind == "usage" and f.caveat is None]
        sentences = [f for f in facts if f.caveat is not None]
        links = [f.link for f in facts if f.link is not None]
        if sentences:
            text = sentences[0].text
            blocks.append(
                para(verdict, lower_first(text, self.names))
                if verdict
                else para(Bold(tool.name), " : ", text)
            )
            blocks += [para(f.text) for f in sentences[1:3]]
        elif not steps:
            # Only links or contacts: the answer is the address itself, on the first line.
            ways: list[Inline] = [Bold(tool.name), " : "]
            for i, link in enumerate(links[:2]):
                ways += [" ; "] if i else []
                ways.append(Link("" if len(links) == 1 else link.label, link.url))
            return [para(*ways)]
        else:
            blocks.append(para(Bold(tool.name), " :"))
        if steps:
            blocks.append(bullets(([s] for s in steps), ordered=True))
        said = self.said(blocks)
        shown = [link for link in links if target_shown(link.url) not in said]
        if shown:
            blocks.append(bullets([Link(link.label, link.url)] for link in shown[:2]))
        elif not steps:
            # After "Oui :" / "Non :", the way in names the tool the answer is about.
            way = reach(tool, said)
            if way and verdict:
                blocks.append(para(Bold(tool.name), *way))
            else:
                blocks += self.access(tool, said)
        if verdict and not already_said(tool.name, self.said(blocks)):
            blocks.append(para(Bold(tool.name)))
        return blocks

    def access(self, tool: Tool, said: str) -> list[Block]:
        way = reach(tool, said)
        if not way:
            return []
        return [para("Accès", *way) if tool.links else para("Contact", *way)]

    def alternatives(self, tool: Tool | None, need: Need | None) -> list[Block]:
        if need is None:
            return (
                [para(self.k.conversation.missing["alternatives"].format(name=tool.name))]
                if tool
                else []
            )
        besides = tool.id if tool else None
        others = alternatives(
            need, self.d.entities, self.k, self.today, besides=besides, outsider=self.outsider
        )[:MAX_ALTERNATIVES]
        if not others:
            name = tool.name if tool else need.title
            return [para(self.k.conversation.missing["alternatives"].format(name=name))]
        self.tools += [self.tool_of(o).id for o in others]
        intro: list[Inline] = (
            ["À la place de ", Bold(tool.name), " :"] if tool else [f"Pour {need.title.lower()} :"]
        )
        return [para(*intro), bullets(self.passing(o) for o in others)]

    # -- a tip, an application outside the offers -------------------------------------------
    def tip(self, ident: str) -> list[Block]:
        tip = self.k.tips[ident]
        blocks: list[Block] = [para(Bold(tip.title)), bullets(([s] for s in tip.steps), True)]
        owner = next((t for t in self.k.tools.values() if ident in t.tips), None)
        if owner is not None:
            self.tools.append(owner.id)
        need = self.k.needs.get(tip.need)
        if need is not None and self.d.entities.participants is None:
            # The other ranged recommendation of the need: what to use beyond a phone call
            # (unless the count said is the phone's: "à 3", then "c'est un iPhone").
            for option in need.options:
                tool = self.k.tools.get(option.tool or "")
                if (
                    tool is not None
                    and not tool.tips
                    and option.category == Category.RECOMMANDE
                    and option.participants is not None
                    and applicable(option, type(self.d.entities)(), self.k, self.today)
                ):
                    blocks.append(
                        para("Pour une réunion plus large : ", *compact_line(tool, option))
                    )
        return blocks

    def outside_app(self, need: Need) -> list[Block]:
        app = self.k.outside_apps[self.d.app or ""]
        # No "Non": the guide asks to limit these applications, it does not forbid them.
        rule = self.k.conversation.outside_offer_rule
        blocks: list[Block] = [para(Bold(app.name), " : ", lower_first(rule, self.names))]
        leads = self.leads(need)
        shown = {o.tool for o in leads}
        others = [self.k.tools[t] for t in app.alternatives if t not in shown]
        lines: list[Line] = [compact_line(self.tool_of(o), o) for o in leads]
        lines += [compact_line(t, option_in(t, need)) for t in others]
        self.tools += [o.tool for o in leads if o.tool] + [t.id for t in others]
        if lines:
            purpose = app.used_for or need.title.lower()
            blocks += [para(Bold(f"À la place, pour {purpose} :")), bullets(lines)]
        return blocks

    def unnamed_app(self) -> list[Block]:
        """An application nothing names: the guide's rule, then what it recommends for the
        need, or which need it is for."""
        blocks: list[Block] = [para(self.k.conversation.unnamed_app)]
        if self.d.subject == CLARIFY:  # every need: their titles only, the reply stays short
            items: list[list[Inline]] = [[Bold(self.k.needs[i].title)] for _, i in self.d.choices]
            return [*blocks, para(self.k.conversation.clarify_intro), bullets(items, ordered=True)]
        need = self.k.needs[self.d.subject.id]
        leads = self.leads(need)
        self.tools += [o.tool for o in leads if o.tool]
        lines: list[Line] = [compact_line(self.tool_of(o), o) for o in leads]
        if lines:
            blocks += [
                para(Bold(f"Pour {need.title.lower()}, le guide recommande :")),
                bullets(lines),
            ]
        return blocks

    def avoided(self) -> list[Block]:
        """What the guide asks to avoid, need by need, and the rule for what it limits."""
        lines: list[Line] = []
        limited: Option | None = None
        asked = self.k.needs.get(self.d.need or "")
        for need in [asked] if asked else self.k.needs.values():
            for option in need.options:
                if option.category == Category.EVITER:
                    tool = self.k.tools[option.tool] if option.tool else None
                    named: list[Inline] = [Bold(tool.name), " : "] if tool else []
                    lines.append((f"{need.title} — ", *named, option.text))
                    if tool:
                        self.tools.append(tool.id)
                elif option.category == Category.LIMITER and limited is None:
                    limited = option
        blocks: list[Block] = [para(Bold(self.labels[Category.EVITER]), " :"), bullets(lines)]
        if limited is not None:
            blocks.append(para(Bold(self.labels[Category.LIMITER]), " : ", limited.text))
        return blocks

    # -- helpers ---------------------------------------------------------------------------
    def tool_of(self, option: Option) -> Tool:
        return self.k.tools[option.tool or ""]

    def said(self, blocks: list[Block]) -> str:
        out = []
        for block in blocks:
            if isinstance(block, Paragraph):
                out.append(text_of(block.parts))
            else:
                out += [text_of(item) for item in block.items]
        return " ".join(out)


def option_text(option: Option | None) -> str:
    return option.text if option is not None else ""
