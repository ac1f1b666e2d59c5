"""The rules that read a message against the conversation so far (context.py).

In order: a pick after a clarification ("2", "le premier", "la visio"), a request for the
rest of the last answer ("détails"), a question on an attribute of the subject under
discussion ("c'est quoi le lien ?", or of a tool named with it: "tixeo c'est gratuit ?"),
and a message that only adds entities ("nous serons 25", "j'ai un iphone", "je suis dans une
DDI"), which refines the last answer. Each returns None when it does not apply.
"""

from __future__ import annotations

import re
from datetime import date

from bot.core.conditions import PAIR, has_tips, main_need, resolve, tip_for
from bot.core.context import Context
from bot.core.cues import only_filler
from bot.core.decision import NO_TOPIC, SOCIAL, Decision, Question, rest_of, score_rest
from bot.core.entities import Entities
from bot.core.facts import alternatives, answered, facts_of, relevant, ruled_out
from bot.core.index import index_for, is_real
from bot.core.matcher import Scored
from bot.core.normalize import normalize, stem
from bot.knowledge.model import Category, Knowledge
from bot.knowledge.subject import CLARIFY, NONE, Subject, SubjectKind, need_subject, tool_subject

NEED, TOOL, TIP, APP = SubjectKind.NEED, SubjectKind.TOOL, SubjectKind.TIP, SubjectKind.APP

ANSWER_THRESHOLD = 0.55  # a subject named this surely is what the message is about
CLARIFY_THRESHOLD = 0.4  # below: the message names nothing of its own
# A need named this surely ("visio") is what is asked, even under a tool of another need
# that scores higher but is named by no word of its own ("visio sur mon portable": the
# phone is where, not what).
NEED_NAMED = 0.75
OFF_TOPIC_MARGIN = 0.3  # below an off-topic phrasing by this much, a need is no topic
OVERRIDE_THRESHOLD = 0.8  # to leave the tool under discussion for another of its need
MARGIN = 0.08  # two subjects closer than this are named as well as each other
MIN_COUNT = 2  # a bare number after an answer is a head count from two people
# People outside the administration, stemmed: who they are qualifies a meeting or a space,
# it names no need ("et si il y a des externes ?"); and "peut-on utiliser Tchap avec des
# personnes extérieures ?" asks what the guide does not say of Tchap.
OUTSIDERS = frozenset(
    stem(w)
    for w in "exterieur exterieurs exterieure exterieures externe externes partenaire"
    " partenaires prestataire prestataires public usager usagers particulier particuliers"
    " invite invites".split()
)
# What outsiders are, beside the words that say they are outside: "un bureau d'études".
_OUTSIDERS_KINDS = frozenset(
    stem(w)
    for w in (
        "bureau etudes cabinet entreprise societe collectivite conseil gens autre autres"
    ).split()
)
# Who takes part, as a qualifier says it: "avec des gens d'un autre ministère".
_WHO = OUTSIDERS | {stem("ministere"), stem("ministeres")}
# The first words of a message that qualifies the last one rather than asking anew.
QUALIFIERS = frozenset("avec pour et mais sans en sur dans par a chez depuis via".split())


def qualifies(q: Question) -> bool:
    return bool(q.norm.words) and q.norm.words[0] in QUALIFIERS


def follow(
    q: Question, context: Context, knowledge: Knowledge, today: date, corrected: bool = False
) -> Decision | None:
    """The follow-ups of the thread, in order. A correction ("non, plutôt par téléphone")
    replaces what it corrects: it asks no caveat of it."""
    if context.subject is None:
        return attribute(q, context, knowledge, today)
    # "il y a une alternative dans le webmél ?" after a chat: the chat in webMél, not
    # what else than webMél.
    inside = "alternatives" in q.moves.attributes
    return (
        pick(q, context, knowledge, today)
        or details(q, context)
        or (in_the_tool_named(q, context, knowledge) if inside else None)
        or attribute(q, context, knowledge, today)
        or refine(q, context, knowledge, today)
        or in_the_tool_named(q, context, knowledge)
        or refers(q, context, knowledge)
        or stay(q, context, knowledge)
        or in_its_words(q, context, knowledge)
        or (None if corrected else caveat_asked(q, context, knowledge))
    )


def pick(q: Question, context: Context, knowledge: Knowledge, today: date) -> Decision | None:
    """After a clarification, a number, an ordinal or a name picks an option; never a
    count ("2" is the second option, not two participants)."""
    choices = context.choices
    if not choices or context.subject != CLARIFY:
        return None
    chosen: Subject | None = None
    n = q.moves.pick
    if n is not None and q.entities.participants is None:
        if 1 <= n <= len(choices):
            chosen = choices[n - 1]
        elif n == -1:
            chosen = choices[-1]
    elif q.entities.device:
        tips = [c for c in choices if c.kind is TIP]
        chosen = next((c for c in tips if knowledge.tips[c.id].device == q.entities.device), None)
    if chosen is None:
        chosen = _named_choice(q, choices, knowledge)
    if chosen is None:
        return None
    entities = q.entities.merged_over(context.entities)
    if n is not None:  # the number was the pick, not a count
        entities = entities._replace(
            participants=context.participants, said=context.participants_said
        )
    subject, need = resolve(chosen, entities, knowledge, today, context.need)
    return q.decision(
        subject,
        entities=entities,
        need=need,
        candidates=(Scored(chosen, 1.0, frozenset()),),
        picked=chosen if n is not None else None,  # "la première", not "par téléphone"
    )


def _named_choice(
    q: Question, choices: tuple[Subject, ...], knowledge: Knowledge
) -> Subject | None:
    """ "la visio", "par téléphone": the option whose need the message names; not a
    choice between them ("visio ou audio ?"), which asks again."""
    named = [s for s in q.real if s.subject.kind is NEED and s.score >= ANSWER_THRESHOLD]
    if len(named) > 1 and q.says_or and not named[0].matched & named[1].matched:
        return None
    for s in q.real:
        if s.score < CLARIFY_THRESHOLD:
            return None
        if s.subject in choices:
            return s.subject
        need = main_need(s.subject, knowledge)
        if need is not None and need_subject(need) in choices:
            return need_subject(need)
    return None


def details(q: Question, context: Context) -> Decision | None:
    if not q.moves.details or context.subject in NO_TOPIC:
        return None
    if q.moves.more_people and q.entities.participants is not None:
        return None  # "et si on est plus ?": more people, not more of the reply
    assert context.subject is not None
    return q.decision(context.subject, entities=context.entities, need=context.need, details=True)


def attribute(q: Question, context: Context, knowledge: Knowledge, today: date) -> Decision | None:
    """ "c'est quoi le lien ?", "combien de participants au maximum ?", "il faut une
    validation ?": the one fact asked, of the subject under discussion or of the tool the
    message names with it."""
    kinds = q.moves.attributes
    near_only = not kinds
    kinds = kinds or q.moves.near_attributes
    # "il faut un compte ?" of the tool under discussion: a condition, whatever it names.
    implied = False
    here = context.subject
    if not kinds and q.moves.needed and here is not None and here.kind is TOOL:
        kinds, implied = ("condition",), True
    if not kinds:
        return None
    rest = rest_of(q, knowledge)
    named = None
    scored: list[Scored] = []
    if not only_filler(rest):
        every = score_rest(q, rest, knowledge)
        scored = [s for s in every if s.subject not in SOCIAL]
        if _off_topic(every):
            return None  # "mon casque bluetooth ne se connecte plus": no fact of the tool
        named = scored[0] if scored else None
    here = _under_discussion(context)
    follow_up = False
    if named is None or named.score < CLARIFY_THRESHOLD:
        if here is None:
            return None
        target, follow_up = here, True
    elif named.subject.kind is APP:
        return None
    elif here is None and _cue_in_a_situation(q, named, knowledge):
        return None  # "demander vite fait à ma voisine": a message, no request to make
    elif named.score >= ANSWER_THRESHOLD and not _same_thread(named, here, context, knowledge):
        target = _precise(named, scored, knowledge)
    elif here is not None and named.score < OVERRIDE_THRESHOLD:
        target, follow_up = here, True
    elif named.score >= ANSWER_THRESHOLD:
        target = _precise(named, scored, knowledge)
    else:
        return None
    if near_only and not follow_up and (implied or not _misspelt_of(target, q, knowledge)):
        return None
    if not follow_up and "alternatives" in kinds and named is not None and target != named.subject:
        # "on devait se réunir en salle, on fait comment ?": a need, and a tool only
        # described ("salle"); what else than that tool is not the question.
        return None
    entities = q.entities.merged_over(context.entities) if follow_up else q.entities
    need = main_need(target, knowledge, context.need if follow_up else None)
    if not follow_up and target.kind is NEED:
        # A need named with the question: the tool its conditions settle, if any (a
        # webinar for 100: Lifesize); a need no tool of it answers for gets its own reply.
        target, need = resolve(target, entities, knowledge, today, None)
    if follow_up and context.app and kinds == ("alternatives",) and not q.moves.breakdown:
        # "qu'est-ce que vous recommandez alors ?" after Teams: instead of the application,
        # its need's own answer; "et si ça marche pas ?" is what else than its first tool.
        return q.decision(target, entities=entities, need=need)
    instead = follow_up and context.replaced and target == context.subject and context.tools
    if instead and "alternatives" not in kinds:  # "Scaleway ne convient pas… WebConf"
        target = tool_subject(context.tools[0])  # "le lien ?": the WebConf's
    target = _answering(
        target, kinds, entities, context if follow_up else None, knowledge, today, q.topics
    )
    if target.kind is TIP and entities.device:  # "sur iphone je fais comment…": its tip
        target = tip_for(entities.device, knowledge.tips[target.id].need, knowledge) or target
    kinds = _asked(kinds, target, q, knowledge)
    if not kinds:  # "sans installer d'appli": a wish the tool meets, no question on it
        return q.decision(target, entities=entities, need=need) if follow_up else None
    if not follow_up and target.kind is NEED and not q.moves.breakdown:
        # A need named with the question: its own answer says what to use; unless it
        # "ne marche plus": what else, then.
        return None
    if not follow_up and target.kind is TOOL and "alternatives" not in kinds:
        tool = knowledge.tools[target.id]
        if not answered(tool, kinds, entities, today) and not q.moves.yes_no:
            return None  # nothing of it asked: the ordinary answer about the tool
    return q.decision(target, entities=entities, need=need, attributes=kinds, follow_up=follow_up)


def _off_topic(scored: tuple[Scored, ...] | list[Scored]) -> bool:
    """An off-topic phrasing is what the words read best, and nothing of the domain comes
    near: the follow-up cues around them ask nothing of the tool under discussion."""
    if not scored or scored[0].subject != NONE or scored[0].score < ANSWER_THRESHOLD:
        return False
    near = max(CLARIFY_THRESHOLD, scored[0].score - OFF_TOPIC_MARGIN)
    return not any(s.subject not in SOCIAL and s.score >= near for s in scored)


def _cue_in_a_situation(q: Question, named: Scored, knowledge: Knowledge) -> bool:
    """The whole message reads far better as another need than its rest without the cue:
    the cue word is part of a situation it describes."""
    whole = next(iter(q.real), None)
    return (
        whole is not None
        and whole.score >= named.score + MARGIN
        and main_need(whole.subject, knowledge) != main_need(named.subject, knowledge)
    )


def _asked(
    kinds: tuple[str, ...], target: Subject, q: Question, knowledge: Knowledge
) -> tuple[str, ...]:
    """The attributes asked, without those the message denies ("sans installer") where
    the tool says nothing of them: its address is no answer to a wish."""
    if target.kind is not TOOL:
        return kinds
    tool = knowledge.tools[target.id]
    cues = knowledge.lexicon.attributes
    denied = q.negated
    return tuple(
        kind
        for kind in kinds
        if any(kind in c.about for c in tool.caveats)
        or not any(stem(w) in denied for cue in cues.get(kind, ()) for w in cue.split())
    )


def _misspelt_of(target: Subject, q: Question, knowledge: Knowledge) -> bool:
    """ "webconf kel navigater": a cue misspelt into no word of the knowledge, asked of the
    tool the message names. A word it writes is no typo: "webconf pour s'adresser à tous"
    asks no address."""
    index = index_for(knowledge)
    return target.kind is TOOL and not any(is_real(w, index) for w in q.moves.near_words)


def _precise(named: Scored, scored: list[Scored], knowledge: Knowledge) -> Subject:
    """A tool of the need named nearly as well as the need ("webconf de l'État")."""
    if named.subject.kind is not NEED:
        return named.subject
    need = named.subject.id
    for s in scored[1:]:
        if s.score < named.score - MARGIN:
            break
        if s.subject.kind is TOOL and main_need(s.subject, knowledge, need) == need:
            return s.subject
    return named.subject


def tool_under_discussion(context: Context, knowledge: Knowledge) -> Subject | None:
    """The tool the last reply was about, or the one a need's answer led with."""
    here = context.subject
    if here is not None and here.kind is NEED and context.tool in knowledge.tools:
        return tool_subject(context.tool)
    return here if here is not None and here.kind is TOOL else None


def _under_discussion(context: Context) -> Subject | None:
    subject = context.subject
    if subject in NO_TOPIC:
        return None
    return subject


def _same_thread(
    named: Scored, here: Subject | None, context: Context, knowledge: Knowledge
) -> bool:
    """The message names the need under discussion, or a tool of it: still this thread."""
    if here is None:
        return False
    if named.subject == here:
        return True
    return main_need(named.subject, knowledge) == context.need and named.score < OVERRIDE_THRESHOLD


def _answering(
    target: Subject,
    kinds: tuple[str, ...],
    entities: Entities,
    context: Context | None,
    knowledge: Knowledge,
    today: date,
    topics: frozenset[str] = frozenset(),
) -> Subject:
    """The subject whose facts answer: a tool as is; a tip's tool; for a need, the first of
    the tools the last reply offered (or the need's own) that the guide answers for, the
    words of the question first ("une sécurité pour y accéder ?": the double authentication
    of the Stockage tab rather than SharePoint's licence)."""
    kind, ident = target
    if kind is TIP:
        owner = next((t for t in knowledge.tools.values() if ident in t.tips), None)
        return owner.subject if owner and "usage" not in kinds else target
    if kind is TOOL and context is not None and "alternatives" not in kinds:
        # A fact of the last reply led to another tool ("pour toute nouvelle création,
        # l'usage est SharePoint"): what this one does not give, that one may.
        if not answered(knowledge.tools[ident], kinds, entities, today):
            for other in context.led_to:
                tool = knowledge.tools.get(other)
                if other != ident and tool and answered(tool, kinds, entities, today):
                    return tool_subject(other)
        return target
    if kind is not NEED or "alternatives" in kinds:
        return target
    need = knowledge.needs[ident]
    if context is not None and context.need == ident:
        offered = list(context.tools)
    else:  # the tools the need's answer leads with, for this count or whatever the count
        allowed = alternatives(need, entities, knowledge, today)
        offered = [
            o.tool
            for o in allowed
            if o.tool
            and o.category == Category.RECOMMANDE
            and (o.participants is None or entities.participants is not None)
        ]
    tools = [knowledge.tools[t] for t in dict.fromkeys(offered) if t in knowledge.tools]
    for tool in tools:
        if any(
            f.caveat is not None and relevant(f.caveat, topics, knowledge)
            for f in facts_of(tool, kinds, entities, today)
        ):
            return tool.subject
    for tool in tools:
        if answered(tool, kinds, entities, today):
            return tool.subject
    # None of them: said of the tool the last reply led with ("le guide ne donne pas…").
    lead = context.tool if context is not None else None
    return tool_subject(lead) if lead is not None and lead in knowledge.tools else target


def refine(q: Question, context: Context, knowledge: Knowledge, today: date) -> Decision | None:
    """A message that only adds entities ("nous serons 25", "et sur iPhone ?", "je suis
    dans une DDI"), with or without "et": refine the last answer."""
    if context.subject in NO_TOPIC:
        return None
    entities = q.entities
    n = q.moves.pick
    if entities.empty and n is not None and n >= MIN_COUNT:
        entities = Entities(n, said=f"{n} participants")  # "et 150 ?", "plutôt 80"
    if entities.empty:
        return None
    rest = rest_of(q, knowledge)
    if not only_filler(rest):
        real = [s for s in score_rest(q, rest, knowledge) if s.subject not in SOCIAL]
        if (
            real
            and real[0].score >= CLARIFY_THRESHOLD
            and not _what_is_sensitive(real[0], entities, context, knowledge)
            and not _said_of_two_needs(real)
        ):
            return None  # the message says something of its own
    merged = entities.merged_over(context.entities)
    # A new count, sensitivity or service can change the tool: start again from the need.
    changed = entities.participants is not None or entities.sensitive or bool(entities.services)
    # Unless asked of the tool itself: "on peut être 20 dessus ?" gets its yes or no.
    of_the_tool = q.moves.yes_no and context.subject is not None and context.subject.kind is TOOL
    # Or a sensitive topic said of a tool to avoid ("zoom ?", then "c'est un sujet
    # sensible"): its own reply says it is to proscribe then, and what instead.
    only_sensitive = entities.sensitive and entities.participants is None and not entities.services
    of_the_tool = of_the_tool or (only_sensitive and _avoided(context, merged, knowledge, today))
    base = (
        need_subject(context.need)
        if changed and context.need and not of_the_tool
        else context.subject
    )
    assert base is not None
    if base != context.subject and _named_and_ruled_out(context, merged, knowledge, today):
        # "tixeo", then "et pr 15 ?": its reply says why not, then what instead; the
        # answer is the need's, for the new count.
        subject, need = resolve(context.subject, merged, knowledge, today, context.need)
        return q.decision(subject, entities=merged, need=need, recounted=True)
    if entities.device and not changed and merged.participants == PAIR and context.need:
        # "audio à 2", then "j'ai un android": the guide sends the mobile's users to its
        # tip "pour savoir comment procéder"; a single message for two keeps the mobile.
        tip = tip_for(entities.device, context.need, knowledge)
        if tip is not None and has_tips(base, knowledge):
            return q.decision(tip, entities=merged, need=context.need)
    subject, need = resolve(base, merged, knowledge, today, context.need)
    # "c'est bon pour 80 ?" after the need's answer: the answer for 80, no "Oui" to it.
    return q.decision(subject, entities=merged, need=need, yes_no=q.moves.yes_no and of_the_tool)


def _said_of_two_needs(real: list[Scored]) -> bool:
    """The words read as two needs alike, neither named surely ("le petit groupe de
    pilotage": a call's group, a chat's): they say nothing of their own."""
    top = real[0]
    return (
        top.score < NEED_NAMED
        and len(real) > 1
        and top.subject.kind is NEED
        and real[1].subject.kind is NEED
        and real[1].score >= top.score - 1e-6
    )


def _what_is_sensitive(
    top: Scored, entities: Entities, context: Context, knowledge: Knowledge
) -> bool:
    """Of the tool under discussion, a sensitive topic said in one word of another need:
    "c'est bon si on parle d'un dossier sensible ?" after Zoom asks of Zoom; "et pour
    stocker des documents sensibles ?" names a need in words of its own."""
    only_sensitive = entities.sensitive and entities.participants is None and not entities.device
    here = context.subject
    return (
        only_sensitive
        and here is not None
        and here.kind is TOOL
        and len(top.matched) == 1
        and not _by_its_name(top, knowledge)
    )


def _avoided(context: Context, entities: Entities, knowledge: Knowledge, today: date) -> bool:
    """The tool under discussion is one the guide says to avoid (Zoom)."""
    here = context.subject
    if here is None or here.kind is not TOOL:
        return False
    need = knowledge.needs.get(context.need or "")
    out = ruled_out(knowledge.tools[here.id], need, entities, knowledge, today)
    return out is not None and out.reason == "avoid"


def _named_and_ruled_out(
    context: Context, entities: Entities, knowledge: Knowledge, today: date
) -> bool:
    """The tool under discussion was asked about (not the need's answer for the count said
    before) and the new count rules it out."""
    here, need_id = context.subject, context.need
    if here is None or here.kind is not TOOL or need_id is None:
        return False
    before = Entities(context.participants, said=context.participants_said)
    if resolve(need_subject(need_id), before, knowledge, today, need_id)[0] == here:
        return False  # the need's own answer: a new count starts again from the need
    need = knowledge.needs.get(need_id)
    out = ruled_out(knowledge.tools[here.id], need, entities, knowledge, today)
    return out is not None and out.reason == "count"


def in_the_tool_named(q: Question, context: Context, knowledge: Knowledge) -> Decision | None:
    """ "y a pas un truc dans le webmel plutôt ?" after instant messaging: a tool of another
    need named by its name alone asks for the need of the thread there, the tool of that
    need which lives in it (Ariane, in webMél; the Stockage tab, for sharing files)."""
    need_id = context.need
    real = q.real
    if need_id is None or context.subject in NO_TOPIC or not real:
        return None
    top = real[0]
    names = index_for(knowledge).name_tokens
    own = names.get(top.subject, frozenset())
    if (
        top.subject.kind is not TOOL
        or top.score < ANSWER_THRESHOLD
        or not top.matched
        or not top.matched <= own
        or main_need(top.subject, knowledge) == need_id
    ):
        return None
    inside = [
        tool_subject(o.tool)
        for o in knowledge.needs[need_id].options
        if o.tool
        and tool_subject(o.tool) != top.subject
        and names.get(tool_subject(o.tool), frozenset()) & top.matched
    ]
    if len(inside) != 1:
        return None
    return q.decision(inside[0], entities=q.entities.merged_over(context.entities), need=need_id)


def refers(q: Question, context: Context, knowledge: Knowledge) -> Decision | None:
    """ "je peux l'utiliser sur mon ordinateur ?", "il y a une discussion instantanée
    dedans ?": a message that points at the tool under discussion is about it, or about
    the tool of the need it names that lives in it (Ariane, in webMél); never about a tool
    its words only describe ("smartphone")."""
    if not q.moves.refers or _off_topic(q.scored):
        return None  # "et mon bulletin de paie, je le trouve où ?": no pointing at the tool
    if context.app is not None and context.subject is not None and _on_the_rule(q, knowledge):
        # "vous fournissez de l'aide dessus ?" after Teams: still the application.
        return q.decision(context.subject, need=context.need, app=context.app)
    here = tool_under_discussion(context, knowledge)
    tip = context.subject if context.subject is not None and context.subject.kind is TIP else None
    if tip is not None:
        # "et une fois que le deuxième a décroché ?": the next step of the same tip, unless
        # the message names something else surely.
        top = next((s for s in q.real if s.score >= ANSWER_THRESHOLD), None)
        if top is None or top.subject == tip:
            return q.decision(tip, entities=context.entities, need=context.need)
        return None
    if here is None:
        return None
    entities = q.entities.merged_over(context.entities)
    if q.moves.works_on:  # "ça marche sur mobile ?": a platform, whatever tool it sounds like
        # What the guide says of getting it there (Tchap's stores), if it says anything.
        kinds = ("installation", "link")
        tool = knowledge.tools[here.id]
        if not any(set(c.about) & set(kinds) for c in tool.caveats):
            return q.decision(here, entities=entities, need=context.need)
        return q.decision(
            here, entities=entities, need=context.need, attributes=kinds, follow_up=True
        )
    names = index_for(knowledge).name_tokens
    top = next((s for s in q.real if s.score >= ANSWER_THRESHOLD), None)
    if (
        top is not None
        and top.subject.kind is TOOL
        and top.matched & names.get(top.subject, frozenset())
    ):
        return None  # another tool named by its name
    subject, need = here, context.need
    # A need named weakly ("où se trouve cet onglet ?": "trouver" is also a mail's word) is
    # no need asked: the message points at the tool under discussion.
    if (
        top is not None
        and top.subject.kind is NEED
        and top.subject.id != context.need
        and top.score >= OVERRIDE_THRESHOLD
    ):
        inside = [
            o.tool
            for o in knowledge.needs[top.subject.id].options
            if o.tool
            and names.get(tool_subject(o.tool), frozenset()) & names.get(here, frozenset())
        ]
        if inside:
            subject, need = tool_subject(inside[0]), top.subject.id
        else:
            return None  # another need, well named: its own answer
    return q.decision(subject, entities=entities, need=need)


# Words of a yes or no that name no fact of their own: "je peux y mettre toute mon équipe ?"
# asks what Ariane's « ajoutez-y les membres de votre équipe » says.
_NAMES_NO_FACT = frozenset(stem(w) for w in "mettre mets met tout toute tous toutes".split())


def stay(q: Question, context: Context, knowledge: Knowledge) -> Decision | None:
    """A message that names only the need of the tool under discussion, by one word ("c'est
    quoi le numéro ?" after the audio conference service), or only who takes part ("et si
    il y a des externes ?"): still that tool, not the need's overview or another need; after
    a need's answer, who takes part asks of the tool it led with ("avec un bureau d'études
    extérieur, c'est possible ?", "et avec des gens hors ministère ?" after SharePoint)."""
    here = context.subject
    real = q.real
    who = bool(real) and bool(real[0].matched) and real[0].matched <= _WHO
    if here is not None and here.kind is NEED and who and qualifies(q):
        here = tool_under_discussion(context, knowledge)
    if here is None or here.kind is not TOOL or not q.entities.empty:
        return None
    if not real:
        return None
    top = real[0]
    # The need among the best ("groupe" is a call's group as well as a chat's).
    own = next(
        (
            s
            for s in real
            if s.score >= top.score - MARGIN and s.subject == need_subject(context.need or "")
        ),
        None,
    )
    own_need = own is not None and len(own.matched) == 1
    if top.score >= OVERRIDE_THRESHOLD and not (own_need and qualifies(q)):
        return None  # "et mon agenda ?" after Mél is still Mél
    only_who = qualifies(q) and bool(top.matched) and top.matched <= _WHO
    if not (own_need or only_who):
        return None
    # "est-ce qu'on peut enregistrer la réunion ?": a yes or no on more than the need's
    # word, which the guide does not give; no "Oui" for the tool's own answer.
    unknown = False
    if q.moves.yes_no:
        index = index_for(knowledge)
        asked = normalize(rest_of(q, knowledge), index.abbreviations, index.stopwords).tokens
        explained = own.matched if own is not None and own_need else top.matched
        if only_who:  # who they are says no more: "un bureau d'études extérieur"
            explained = explained | _WHO | _OUTSIDERS_KINDS
        unknown = bool(
            set(asked) - explained - index.tool_words.get(here.id, frozenset()) - _NAMES_NO_FACT
        )
    return q.decision(here, entities=context.entities, need=context.need, unknown=unknown)


def in_its_words(q: Question, context: Context, knowledge: Knowledge) -> Decision | None:
    """ "comment j'ajoute mes collègues ?" after Ariane: what the message names, it names
    only by words the tool's own texts say ("Ajoutez-y les membres de votre équipe"), none
    by its name: still that tool, not the merging of calls. A yes or no is left to stay,
    which says when the guide does not give it."""
    here = context.subject  # a tool asked about, not the one a need's answer led with
    if here is None or here.kind is not TOOL or q.moves.yes_no:
        return None
    tool = knowledge.tools[here.id]
    words = index_for(knowledge).tool_words.get(here.id, frozenset())
    named = [s for s in q.real if s.score >= CLARIFY_THRESHOLD and s.subject != here]
    if not named or any(
        # "réunion": which meeting? A need guessed from a word the tool says ("mon équipe"
        # of Ariane's « membres de votre équipe ») asks nothing else.
        (s.subject.kind is NEED and (s.score >= ANSWER_THRESHOLD or not s.matched <= words))
        or _by_its_name(s, knowledge)
        or (s.subject.kind is TIP and s.subject.id in tool.tips)
        or not s.matched <= words
        for s in named
    ):
        return None
    return q.decision(here, entities=q.entities.merged_over(context.entities), need=context.need)


def caveat_asked(q: Question, context: Context, knowledge: Knowledge) -> Decision | None:
    """ "et l'aide ?" after webMél, "et le compte ?" after Tixéo: a qualifier and only the
    words of one of the tool's caveats ask that caveat, not the help menu or another
    subject."""
    here = tool_under_discussion(context, knowledge)
    # A qualifier ("et l'aide ?"), or a question in its words only ("c'est accessible de
    # chez moi ?" after P2R: « maintenant accessible depuis internet »); never a means said
    # ("et par téléphone ?" after a visio asks for the audio conference, not the device).
    if here is None or not (qualifies(q) or "?" in q.text) or _BY_MEANS.search(q.norm.plain):
        return None
    words = frozenset(t for t in q.norm.tokens if t not in _QUALIFIER_STEMS)
    if not words:
        return None
    topics = index_for(knowledge).caveat_topics
    kinds: dict[str, None] = {}
    for caveat in knowledge.tools[here.id].caveats:
        said = [t for t in topics.get(caveat, ()) if t <= words]
        if said and words <= frozenset().union(*said):
            kinds.update(dict.fromkeys(caveat.about))
    if not kinds:
        return None
    # Another need or tool named by its name is asked instead ("non, plutôt en audio":
    # another need, not the video's caveat); one the caveat's words only describe is not
    # ("et sur un téléphone android ?" after Tchap: its stores, not the merging of calls).
    if any(s.subject != here and _by_its_name(s, knowledge) for s in q.real):
        return None
    return q.decision(
        here,
        entities=q.entities.merged_over(context.entities),
        need=context.need,
        attributes=tuple(kinds),
        follow_up=True,
    )


_QUALIFIER_STEMS = frozenset(stem(w) for w in QUALIFIERS)
_BY_MEANS = re.compile(r"\b(?:par|au) (?:telephone|tel|portable|mobile)\b")


def _by_its_name(s: Scored, knowledge: Knowledge) -> bool:
    """Named surely by a word of its name: "audio" of the audio conference, "tchap"."""
    if s.score < NEED_NAMED:
        return False
    index = index_for(knowledge)
    names = index.title_tokens if s.subject.kind is NEED else index.name_tokens
    return not s.matched.isdisjoint(names.get(s.subject, frozenset()))


def _on_the_rule(q: Question, knowledge: Knowledge) -> bool:
    """The message asks what the rule for applications outside the offers answers: help,
    security ("vous fournissez de l'aide dessus ?")."""
    topics = index_for(knowledge).outside_offer_topics
    return not topics.isdisjoint(q.topics)
