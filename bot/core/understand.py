"""From a question (and the conversation so far) to a decision: what the reply is about.

The matcher scores subjects from words; ``decide`` runs the rules words alone cannot. First
the conversation moves: a topic switch ("autre question : …") starts afresh, a correction
("non, plutôt par téléphone") replaces what it corrects, and the rules of thread.py read the
message against the context (picks, "détails", attribute questions, bare entities). Then
small talk, the thresholds between an answer, a clarification and "out of scope", and
near-ties between a need, its tools and its tips. The guide's conditions themselves (counts,
devices, sensitivity, dates) are in ``conditions.py``.
"""

from __future__ import annotations

from datetime import date

from bot.core.also import Asked, also_asked, both_asked, in_order
from bot.core.concepts import CONCEPT
from bot.core.conditions import (
    PAIR,
    applicable,
    caveat_subject,
    condition_choice,
    has_tips,
    main_need,
    placed,
    resolve,
    tip_for,
    tips_apply,
    unconditional,
)
from bot.core.context import Context
from bot.core.cues import cues_for, only_filler, read_moves
from bot.core.decision import (
    NO_TOPIC,
    SOCIAL,
    Decision,
    Question,
    read_question,
    rest_of,
    score_text,
)
from bot.core.entities import Entities, without_entities
from bot.core.facts import lacking, ruled_out
from bot.core.index import index_for, is_real
from bot.core.matcher import Scored
from bot.core.normalize import NEGATED, plain_words, stem
from bot.core.thread import (
    ANSWER_THRESHOLD,
    CLARIFY_THRESHOLD,
    NEED_NAMED,
    OUTSIDERS,
    follow,
    qualifies,
    tool_under_discussion,
)
from bot.core.unnamed import unnamed_app
from bot.knowledge.model import Category, Knowledge
from bot.knowledge.subject import (
    CLARIFY,
    HELP,
    NONE,
    THANKS,
    Subject,
    SubjectKind,
    need_subject,
    tool_subject,
)

NEED, TOOL, TIP, APP = SubjectKind.NEED, SubjectKind.TOOL, SubjectKind.TIP, SubjectKind.APP
EVITER = Category.EVITER

MARGIN = 0.08  # two needs closer than this are ambiguous
CHOICE_SHARE = 0.7  # of the best need's score, for a need only described to be an option
DENIED_MARGIN = 0.15  # a need partly denied yields to one this close that is not
APP_NEED_THRESHOLD = 0.8  # a need said this surely frames an application named with it
MAX_CHOICES = 4
MERGE_THRESHOLD = 0.5
MAX_CORRECTIONS = 3  # "non, pardon, plutôt …": cues taken off one after the other
_SOCIAL = SOCIAL

__all__ = ["ANSWER_THRESHOLD", "CLARIFY_THRESHOLD", "Decision", "decide"]


def decide(question: str, knowledge: Knowledge, context: Context, today: date) -> Decision:
    """The rules, in order: a topic switch, a correction, the thread's follow-ups (picks,
    details, attributes, bare entities), small talk and out-of-scope, then what the
    best-scored subjects and the guide's conditions say."""
    q = read_question(question, knowledge)
    contrast = q.moves.contrast
    if contrast:
        # "J'utilise Tchap et le webmél sans problème. Par contre je dois réunir 40
        # collègues avec partage d'écran": what follows the contrast is asked, if it names
        # something; the counts said before still count.
        after = read_question(contrast, knowledge)
        if after.real and after.real[0].score >= ANSWER_THRESHOLD:
            q = after._replace(entities=after.entities.merged_over(q.entities))
    switch = q.moves.switch
    if switch is not None and not only_filler(read_moves(switch, cues_for(knowledge)).rest):
        return decide(switch, knowledge, context.fresh(), today)._replace(fresh=True)
    carried = q.norm.words[:1] == ("et",) and context.subject not in NO_TOPIC
    q = _more_people(q, context, knowledge)
    corrected = False
    if context.subject not in (None, HELP, NONE):
        for _ in range(MAX_CORRECTIONS):
            rest = q.moves.correction
            if rest is None or only_filler(rest):
                break
            q, carried, corrected = read_question(rest, knowledge), True, True
    decision = _unnamed(q, knowledge) or follow(q, context, knowledge, today, corrected)
    if decision is None and context.subject in NO_TOPIC:
        decision = _avoided(q, knowledge)
    if decision is not None and decision.attributes and not decision.follow_up:
        # An attribute asked with a subject of its own: the off-topic rules still hold
        # ("réserver une salle de réunion" is no Lifesize booking); but a tool or need
        # named by a word of its own that "ne marche plus" asks what else to use.
        social = _social(q, knowledge)
        breakdown = "alternatives" in decision.attributes and _named_top(q)
        if social is not None and social.subject == NONE and not breakdown:
            return social
    if decision is not None:
        return decision
    if carried:  # what the correction or the "et" does not replace is kept
        q = q._replace(entities=q.entities.merged_over(context.entities))
    if context.subject in NO_TOPIC and _only_a_count(q, knowledge):
        # "on sera 30", first: a meeting of 30, by phone or on screen? The count is kept
        # for the pick.
        choices = context.choices or tuple(
            n.subject for n in knowledge.needs.values() if any(o.participants for o in n.options)
        )
        return q.decision(CLARIFY, choices=choices[:MAX_CHOICES])
    decision = _social(q, knowledge) or _matched(q, knowledge, today, context)
    if decision.subject == NONE:
        decision = _unknown_of_the_tool(q, context, knowledge) or decision
    if decision.subject == CLARIFY and context.subject == CLARIFY:
        # Asked again which one ("visio ou audio ?"): what was said before still holds.
        decision = decision._replace(entities=decision.entities.merged_over(context.entities))
    if decision.yes_no and _outsiders_unsaid(q, decision, knowledge, today):
        decision = decision._replace(yes_no=False)
    return decision


def _more_people(q: Question, context: Context, knowledge: Knowledge) -> Question:
    """ "et si on est plus nombreux ?": more people than the count said before ("visio à
    8"), or than the tool under discussion takes (Scaleway, 5 at most); said back as "plus
    de 8 participants", never as a number the agent did not give."""
    if not q.moves.more_people or q.entities.participants is not None:
        return q
    if context.subject in NO_TOPIC:
        return q
    base = context.entities.participants
    if base is None and context.subject is not None and context.subject.kind is TOOL:
        need = knowledge.needs.get(context.need or "")
        base = next(
            (
                o.participants.max
                for o in (need.options if need else ())
                if o.tool == context.subject.id and o.participants and o.participants.max
            ),
            None,
        )
    if base is None:
        return q
    entities = q.entities._replace(participants=base + 1, said=f"plus de {base} participants")
    return q._replace(entities=entities)


MAX_UNKNOWN_WORDS = 4  # a question on "it", not a new subject in a sentence of its own


def _unknown_of_the_tool(q: Question, context: Context, knowledge: Knowledge) -> Decision | None:
    """ "on peut enregistrer ?" after WebConf: a short question on the tool under discussion
    that the guide does not answer is said so of that tool, not met with the out-of-scope
    menu; a known off-topic request ("et la cantine ?") still is."""
    here = tool_under_discussion(context, knowledge)
    if here is None or not knowledge.conversation.not_in_guide:
        return None
    # "on peut …", "est-ce que …" in the knowledge's own words: a question on what the
    # tool does ("enregistrer"), not small talk ("quelle heure est-il ?", "on mange où ?").
    words = q.norm.surface
    if not q.moves.yes_no or not words or len(words) > MAX_UNKNOWN_WORDS:
        return None
    index = index_for(knowledge)
    if not all(is_real(w, index) for w in words):
        return None
    if any(s.subject == NONE and s.score >= CLARIFY_THRESHOLD for s in q.scored):
        return None  # an off-topic request the knowledge knows
    return q.decision(
        here, entities=q.entities.merged_over(context.entities), need=context.need, unknown=True
    )


def _named_top(q: Question) -> bool:
    """The best subject is named, not guessed from a word ("l'entrée du bâtiment")."""
    real = q.real
    return bool(real) and real[0].anchored and real[0].score >= NEED_NAMED


def _outsiders_unsaid(q: Question, decision: Decision, knowledge: Knowledge, today: date) -> bool:
    """A closed question on a tool for people outside the administration, when nothing the
    guide says of the tool speaks of them: no "Oui" the guide does not give (a "Non" it
    gives, Zoom's, stays)."""
    subject = decision.subject
    if subject.kind is not TOOL or q.topics.isdisjoint(OUTSIDERS):
        return False
    tool = knowledge.tools[subject.id]
    need = knowledge.needs.get(decision.need or "")
    if ruled_out(tool, need, decision.entities, knowledge, today) is not None:
        return False
    texts = (tool.summary, *(c.text for c in tool.caveats))
    said = {stem(w) for text in texts for w in plain_words(text, {})}
    return said.isdisjoint(OUTSIDERS)


def _unnamed(q: Question, knowledge: Knowledge) -> Decision | None:
    """ "est-ce que je peux utiliser bidulechat ?": an application nothing names, with the
    need the message says, if any; else which need it is for."""
    if not knowledge.conversation.unnamed_app:
        return None
    top = q.scored[0] if q.scored else None
    if top is not None and top.subject == NONE and top.score >= CLARIFY_THRESHOLD:
        return None  # a known off-topic request ("acheter le logiciel ...")
    real = q.real
    if any(s.subject.kind in (TOOL, APP) and s.score >= NEED_NAMED for s in real):
        return None  # a tool or an application named: its own answer
    if unnamed_app(q.norm, index_for(knowledge), (s.matched for s in q.scored)) is None:
        return None
    need = next(
        (main_need(s.subject, knowledge) for s in real if s.score >= ANSWER_THRESHOLD), None
    )
    if need is None:
        # Every need, as the menu lists them: the application may be for any.
        choices = tuple(n.subject for n in knowledge.needs.values())
        return q.decision(CLARIFY, choices=choices, unnamed_app=True)
    return q.decision(need_subject(need), need=need, unnamed_app=True)


# "éviter", "proscrire", "interdit", "déconseillé", stemmed: what a question on the tools to
# avoid says.
_AVOID = frozenset(
    stem(w)
    for w in "eviter evite proscrire proscrit interdit interdits interdite interdites"
    " deconseille deconseilles".split()
)


def _avoided(q: Question, knowledge: Knowledge) -> Decision | None:
    """ "quels outils éviter ?", with no tool named: what the guide asks to avoid, for the
    need named, or for every need (its first such tool as the subject: Zoom)."""
    if q.topics.isdisjoint(_AVOID):
        return None
    named = [s for s in q.real if s.score >= ANSWER_THRESHOLD]
    if any(s.subject.kind in (TOOL, APP) for s in named):
        return None  # "pourquoi éviter zoom": its own reply
    need = named[0].subject.id if named and named[0].subject.kind is NEED else None
    needs = [knowledge.needs[need]] if need else list(knowledge.needs.values())
    avoided = [o for n in needs for o in n.options if o.category == EVITER]
    if not avoided:
        return None  # nothing to avoid for this need: its own reply
    first = next((o.tool for o in avoided if o.tool), None)
    subject = tool_subject(first) if first else need_subject(need) if need else HELP
    # ``need`` set: only that need's ("que faut-il éviter en visio ?").
    return q.decision(subject, need=need, avoided=True)


def _only_a_count(q: Question, knowledge: Knowledge) -> bool:
    if q.entities.participants is None or q.entities.device is not None:
        return False  # a phone named says the meeting is a call
    return only_filler(rest_of(q, knowledge))


def _social(q: Question, knowledge: Knowledge) -> Decision | None:
    """Greetings, thanks and known off-topic requests; nothing matched well enough."""
    real = [s for s in q.scored if s.subject not in _SOCIAL]
    top = real[0] if real else None
    special = q.scored[0] if q.scored and q.scored[0].subject in _SOCIAL else None
    if special is None and top is not None:
        # Level with an off-topic phrasing that says words of its own: "transférer un
        # appel sur iPhone" is no merging of calls.
        off = next((s for s in q.scored if s.subject == NONE), None)
        # A need read only from situation words ("depuis chez moi", "session") is level
        # with it within the margin: "mot de passe de ma session windows" is off topic.
        described = all(t.startswith(CONCEPT) for t in top.matched)
        level = top.score - (MARGIN if described else 1e-6)
        # A need named surely is not levelled by one word of a place or an errand beside
        # it: "read my ministry email from the hotel" asks for the mail.
        aside = (
            off is not None
            and len(off.matched) == 1
            and top.anchored
            and top.score >= NEED_NAMED
            and top.score >= off.score - 1e-6
            and top.matched.isdisjoint(off.matched)
        )
        if off is not None and off.score >= level and off.matched - top.matched and not aside:
            special = off
    # A meeting counted on a need named surely is in scope, whatever place it is said in:
    # "au 4e étage du bâtiment B, une visio à 6" asks for a visio. So is one counted beside
    # an off-topic phrasing said only in the domain's words: "un point avec les neuf chefs
    # d'unité… ils ont tous leur portable pro" tells the equipment, it asks no hardware.
    counted = (
        special is not None
        and special.subject == NONE
        and top is not None
        and q.entities.participants is not None
        and (
            (top.anchored and top.score >= NEED_NAMED and top.matched.isdisjoint(special.matched))
            # a meeting read by a word of its own ("un point"), beside the equipment named
            or any(
                s.anchored
                and s.score >= ANSWER_THRESHOLD
                and _sized(s.subject, knowledge)
                and not s.matched <= special.matched
                for s in real
            )
        )
    )
    if counted:
        special = None
    # A problem the guide speaks of is no off-topic breakdown: "la webconf ne marche pas
    # sous Firefox" is the webconf's browser caveat.
    if (
        special is not None
        and special.subject == NONE
        and top is not None
        and top.anchored
        # a need guessed from one word ("où trouver") has no caveat asked of its tools
        and (top.score >= NEED_NAMED or top.subject.kind is not NEED)
    ):
        index = index_for(knowledge)
        topics = index.topics
        # Not by a word off-topic phrasings share: "la salle du conseil" is no virtual room.
        # The off-topic words themselves count when the tool is named well: "la webconf me
        # dit vpn" is its VPN caveat.
        asked = q.topics - index.weak
        if top.score < NEED_NAMED:
            asked -= special.matched
        tool = top.subject
        if tool.kind is NEED:  # "la webconf": the need's tool whose caveat it is
            tool = caveat_subject(tool, asked, knowledge) or tool
        if any(topic <= asked for topic in topics.get(tool, ())):
            special = None
    # Help asked with an off-topic request said in full ("tu peux m'aider à le formuler ?",
    # "vous pouvez m'aider, mon écran est cassé"): the request is off topic.
    if special is not None and special.subject == HELP:
        off = next((s for s in q.scored if s.subject == NONE), None)
        if off is not None and off.score >= 1.0 - 1e-6 and off.matched.isdisjoint(special.matched):
            special = off
    # A greeting in front of a real question ("bonjour, je cherche...") is no help
    # request, when the real subject explains as much of the rest as the greeting does.
    if (
        special is not None
        and special.subject in (HELP, THANKS)
        and top is not None
        and top.score >= ANSWER_THRESHOLD
        and len(top.matched - special.matched) >= len(special.matched - top.matched)
    ):
        special = None
    if special is not None and special.score >= CLARIFY_THRESHOLD:
        if special.subject == THANKS:  # reported as help: small talk is not out of scope
            return q.decision(HELP, brief=True)
        return q.decision(special.subject)
    if top is None or top.score < CLARIFY_THRESHOLD:
        return q.decision(NONE)
    # An off-topic phrasing said in full ("casque audio", "écran cassé"), and nothing of the
    # domain but the words it shares with it: no anchor for an answer.
    off_topic = next((s for s in q.scored if s.subject == NONE), None)
    if (
        off_topic is not None
        and off_topic.score >= CLARIFY_THRESHOLD
        and not top.anchored
        and not counted
        and not _outweighs(top, off_topic, q)
    ):
        return q.decision(NONE)
    return None


def _outweighs(top: Scored, off_topic: Scored, q: Question) -> bool:
    """A reading said only in words the domain shares still outweighs an off-topic one:
    - a meeting counted, read at least as well ("une conf à trois avec mon portable pro";
      "réserver une salle de réunion pour 12 personnes", said better, does not);
    - a need said in many more words ("lire mes courriels et consulter mon agenda depuis
      mon PC", before "pas encore de poste");
    - or in more words and clearly better ("quelle date leur convient le mieux pour le pot
      de départ" is a date poll, not the farewell party)."""
    if (
        q.entities.participants is not None
        and not off_topic.anchored
        and top.score >= off_topic.score - 1e-6
    ):
        return True
    mine, theirs = len(top.matched), len(off_topic.matched)
    if mine < 3:
        return False
    return mine >= 2 * theirs or (mine > theirs and top.score >= off_topic.score + MARGIN)


def _matched(q: Question, knowledge: Knowledge, today: date, context: Context) -> Decision:
    """The best real subject, once the guide's conditions and the near-ties are weighed."""
    entities = q.entities
    # A count the tips do not serve (150 people) leaves them out: "en même temps" in a
    # question about a webinar is no call to merge.
    few = tips_apply(entities, knowledge)
    real = [s for s in q.scored if s.subject not in _SOCIAL and (few or s.subject.kind is not TIP)]
    if not real:
        return q.decision(NONE)
    real = _undenied_first(_apps_said_off_topic(real, q.scored), knowledge)
    if not real:
        return q.decision(NONE)
    top = real[0]
    app = _named_app(real, knowledge)
    if app is not None and _guide_named_beside_app(q, real):
        real = [s for s in real if s.subject.kind is not APP]
        top, app = real[0], None
    if app is not None:
        need = _app_need(app, real, knowledge)
        return q.decision(need_subject(need) if need else NONE, need=need, app=app)
    denied = _denied_beside_its_need(top, real, knowledge)
    if denied is not None:  # "une visio à 12 mais pas Zoom": the need's answer, for 12
        subject, need = resolve(denied, entities, knowledge, today, None)
        return q.decision(subject, need=need)
    compared = _compared(q, real, knowledge)
    if compared:  # "différence entre tixeo et scaleway ?": each one, side by side
        need = main_need(compared[0], knowledge)
        return q.decision(compared[0], need=need, compared=compared)
    between = _between_needs(q, real)
    if len(between) > 1:  # "visio ou audio ?": the guide does not rank them; which one?
        return q.decision(CLARIFY, choices=tuple(between))
    # A choice asked in the thread of its need keeps the count said before ("visio à 12",
    # then "tixeo ou scaleway ?": neither is for 12).
    asked = q
    if entities.participants is None and context.subject not in NO_TOPIC and context.need:
        asked = q._replace(entities=entities.merged_over(context.entities))
    chosen = _between_tools(asked, real, knowledge, today)
    if chosen is not None:
        need = main_need(chosen, knowledge)
        if need != context.need:
            asked = q
        return q.decision(chosen, entities=asked.entities, need=need)
    close = [s for s in real if s.score >= top.score - MARGIN]
    # A candidate explaining all the top one does and more is the more precise reading:
    # "stockage webmel" is the Stockage tab, not webMél; "webconf de l'état", not "webconf".
    top = next(
        (s for s in close if top.matched < s.matched and s.subject.kind is not NEED),
        top,
    )

    # A tip level with a need on the same words says no more than the need: "se réunir
    # à 3" is a meeting, not the merging of calls.
    if top.subject.kind is TIP and not entities.device:
        top = next(
            (
                s
                for s in close
                if s.subject.kind is NEED
                and s.score >= top.score - 1e-6
                and s.matched >= top.matched
            ),
            top,
        )
    # A device settles it: phones and calls mean the device's tip ("galaxy appel à 3").
    pair = entities.participants == PAIR and not _merging(q, knowledge)
    if entities.device and tips_apply(entities, knowledge) and not pair:
        for s in close:
            tip = tip_for(entities.device, main_need(s.subject, knowledge), knowledge)
            if tip and has_tips(s.subject, knowledge):
                return q.decision(tip, need=knowledge.tips[tip.id].need)
    # A tip asked without a device: which phone is it? ("comment fusionner des appels")
    tips = [
        s.subject
        for s in close
        if s.subject.kind is TIP and not _explains_less(s, top, q, knowledge)
    ]
    if top.subject.kind is TIP and not entities.device and len(tips) > 1:
        return q.decision(CLARIFY, choices=tuple(tips))
    # A need asked in words beats a tool the guide places elsewhere ("visio depuis mon tel").
    # So does a need named as well as a tool it offers only for some counts, when no count
    # is given ("par téléphone": the mobile is for 2 or 3 only).
    if top.subject.kind is TOOL:
        # Beyond the margin, only under a tool named by no word of its own ("portable"),
        # by a need named with other words ("visio").
        near = {id(s) for s in close}  # by identity: comparing Scored values is slow
        named = [
            s
            for s in real[1:]
            if s.subject.kind is NEED
            and not _explains_less(s, top, q, knowledge)  # "webmail stokage": the tab
            and (
                id(s) in near
                or (
                    not top.anchored
                    and not s.matched & top.matched
                    # named surely, or described in words of its own: "écrire en direct
                    # depuis mon téléphone, de façon sécurisée" is a chat, from the phone
                    and (s.score >= NEED_NAMED or (s.anchored and len(s.matched) >= 3))
                )
            )
        ]
        # The tool's own need, said in more words than another need, keeps the tool:
        # "téléphoner à deux collègues en même temps pour qu'on discute" is a call; so
        # does its need said by the same words as the other ("zoom pour le point
        # d'équipe": a meeting by phone or on screen, Zoom's own need among them).
        home = next(
            (
                s
                for s in real[1:]
                if s.subject.kind is NEED and placed(top.subject, s.subject.id, knowledge)
            ),
            None,
        )
        for s in named:
            need_id = s.subject.id
            if (
                home is not None
                and need_id != home.subject.id
                and (
                    (home.score > s.score and len(home.matched) > len(s.matched))
                    or (home.score >= s.score - 1e-6 and home.matched >= s.matched)
                )
            ):
                break
            if not placed(top.subject, need_id, knowledge) or (
                id(s) in near
                and s.score >= top.score - MARGIN / 2
                and not unconditional(top.subject, need_id, entities, knowledge)
            ):
                subject, need = resolve(s.subject, entities, knowledge, today, None)
                return q.decision(subject, need=need)
    # A tool of the need, named nearly as well as the need itself, is the precise answer
    # ("le service d'audio conférence du ministère" rather than every audio option).
    if top.subject.kind is NEED:
        need_id = top.subject.id
        top = _inside_the_named(top, real, knowledge) or top
        top = next(
            (
                s
                for s in close[1:]
                if s.score >= top.score - MARGIN / 2
                and s.subject.kind is TOOL
                and unconditional(s.subject, need_id, entities, knowledge)
            ),
            top,
        )

    # Several needs within the margin of a need (or of a weak match): ask which one.
    strong = top.score >= ANSWER_THRESHOLD
    needs = _close_needs(real, top, q, knowledge)
    if entities.participants is not None and len(needs) > 1:
        # A count says a meeting: of a chat and a meeting read as well, the meeting
        # ("montrer un tableau en direct à mes 6 collègues pendant qu'on discute").
        sized = [n for n in needs if _sized(n, knowledge)]
        met = next((s for s in real if sized and s.subject == sized[0]), None)
        if len(sized) == 1 and met is not None:
            needs, top = sized, met
    # Only a message that reads as a qualifier of the last one ("avec ...", "pour ...").
    in_thread = context.need and context.subject not in NO_TOPIC and qualifies(q)
    thread = need_subject(context.need) if in_thread and context.need else None
    if len(needs) > 1 and thread in needs:
        # The conversation says which: "avec des partenaires extérieurs", after a reply on
        # sharing files, still asks about sharing files.
        merged = entities.merged_over(context.entities)
        subject, need = resolve(thread, merged, knowledge, today, None)
        return q.decision(subject, entities=merged, need=need)
    both = both_asked(q, needs) if strong else None
    if both is not None:  # one after the other: the first answered, the second in a line
        return _answered_in_order(q, in_order(q, both[0], both[1], knowledge), knowledge, today)
    if len(needs) > 1 and (not strong or top.subject.kind is NEED):
        return q.decision(CLARIFY, choices=tuple(needs))
    if not strong:  # a weak match on one subject: say what the bot covers instead
        return q.decision(NONE)
    subject = top.subject
    if pair and subject.kind is TIP:  # a device named, two people: the mobile itself
        owner = next((t for t in knowledge.tools.values() if subject.id in t.tips), None)
        subject = owner.subject if owner is not None else subject
    if subject.kind is NEED and entities.participants is None:
        # A count settles the tool itself (resolve); without one, a question on a tool's
        # condition ("navigateur", "vpn") is about that tool.
        # A condition denied ("sans installer de logiciel") is a wish: the tool requiring
        # it is no answer, the need's own is.
        # Described in words of its own: "stocker mes fichiers" is the Stockage tab's, a
        # "fichier" that several people correct is not.
        described = frozenset(s.subject for s in q.scored if s.score >= CLARIFY_THRESHOLD)
        tool = caveat_subject(subject, q.topics, knowledge, entities.services, described)
        negated = q.negated
        if (
            tool is not None
            and not any(lacking(c, negated) for c in knowledge.tools[tool.id].caveats)
            and not _another_tool_said(tool, subject, q, knowledge)
        ):
            subject = tool
    subject = _described_for_another_count(subject, top, entities, knowledge, today)
    subject, need = resolve(subject, entities, knowledge, today, None)
    also = also_asked(q, subject, knowledge)
    top_need = main_need(top.subject, knowledge)
    if also and top_need is not None:
        # "une visio à 20 et ensuite partager les documents": the visio first, for 20.
        order = in_order(q, need_subject(top_need), also[0], knowledge)
        if order.first == also[0] or order.second_entities is not None:
            return _answered_in_order(q, order, knowledge, today)
    return q.decision(subject, need=need, also=also)


def _answered_in_order(q: Question, order: Asked, knowledge: Knowledge, today: date) -> Decision:
    """Two needs in one message: the first asked is answered, for the count said on its
    side; the second gets its line, with its own count."""
    subject, need = resolve(order.first, order.entities, knowledge, today, None)
    return q.decision(
        subject,
        entities=order.entities,
        need=need,
        also=(order.second,),
        also_entities=order.second_entities,
    )


def _another_tool_said(tool: Subject, need: Subject, q: Question, knowledge: Knowledge) -> bool:
    """The message leans to another tool of the need than the one whose caveat it touches:
    "organiser un webinaire" is Lifesize's word more than the WebConférence's organiser;
    the need's answer gives both."""
    tools = [
        s for s in q.scored if s.subject.kind is TOOL and placed(s.subject, need.id, knowledge)
    ]
    if not tools or tools[0].subject == tool or tools[0].score < CLARIFY_THRESHOLD:
        return False
    own = next((s.score for s in tools if s.subject == tool), 0.0)
    return own < tools[0].score


def _inside_the_named(top: Scored, real: list[Scored], knowledge: Knowledge) -> Scored | None:
    """The need's tool that lives in a tool named for another need: "discuter en direct
    depuis le webmél" is Ariane, webMél's own chat, not every instant messaging option."""
    need_id = top.subject.id
    hosts = [
        s
        for s in real
        if s.subject.kind is TOOL
        and s.score >= NEED_NAMED
        and s.anchored
        and not placed(s.subject, need_id, knowledge)
    ]
    for host in hosts:
        words = host.matched - top.matched  # the host's name, which the need does not say
        for s in real:
            if (
                s.subject.kind is TOOL
                and placed(s.subject, need_id, knowledge)
                and words & s.matched
            ):
                # As sure as the need: the need was asked, the host only says which tool.
                return s._replace(score=max(s.score, top.score))
    return None


def _undenied_first(real: list[Scored], knowledge: Knowledge) -> list[Scored]:
    """A need the message denies part of ("sans remplir la boîte mail") gives way to a need
    nearly as well matched by words it wants ("s'envoyer des petits messages"). A need that
    only a word no phrasing denies anchors ("plus rapide que le courriel": the yardstick)
    gives way to any need anchored by words the message wants."""
    top = real[0]
    if top.subject.kind is not NEED or not _partly_denied(top):
        return real
    postings = index_for(knowledge).postings
    yardstick = not top.anchored and any(
        t.startswith(NEGATED) and t not in postings for t in top.matched
    )
    margin = top.score - ANSWER_THRESHOLD if yardstick else DENIED_MARGIN
    for s in real[1:]:
        if s.score < top.score - margin:
            break
        # Against a yardstick, any need anchored by what the message wants: the yardstick's
        # own verb may touch it too ("plutôt que de lui écrire des mails").
        if s.subject.kind is NEED and (s.anchored if yardstick else not _partly_denied(s)):
            if yardstick:  # no option of its own: last
                return [s, *(r for r in real if r is not s and r is not top), top]
            return [s, *(r for r in real if r is not s)]
    return real


def _denied_beside_its_need(
    top: Scored, real: list[Scored], knowledge: Knowledge
) -> Subject | None:
    """A tool the message denies by its name ("pas Zoom") beside its need named in words of
    its own ("une visio à 12"): the need is what is asked."""
    if top.subject.kind is not TOOL:
        return None
    names = index_for(knowledge).name_tokens.get(top.subject, frozenset())
    if not any(t.startswith(NEGATED) and t[1:] in names for t in top.matched):
        return None
    need = main_need(top.subject, knowledge)
    return next(
        (
            s.subject
            for s in real
            if s.subject == need_subject(need or "")
            and s.score >= ANSWER_THRESHOLD
            and not _partly_denied(s)
        ),
        None,
    )


def _partly_denied(s: Scored) -> bool:
    return any(t.startswith(NEGATED) for t in s.matched)


def _described_for_another_count(
    subject: Subject, top: Scored, entities: Entities, knowledge: Knowledge, today: date
) -> Subject:
    """A tool described, not named ("visio sécurisée": Tixéo), that the count rules out is
    no answer: its need's tool for the count is ("visio sécurisée à 30")."""
    if subject.kind is not TOOL or entities.participants is None:
        return subject
    if top.matched & index_for(knowledge).name_tokens.get(subject, frozenset()):
        return subject  # named: its reply says why not, and what instead
    need_id = main_need(subject, knowledge)
    need = knowledge.needs.get(need_id or "")
    out = ruled_out(knowledge.tools[subject.id], need, entities, knowledge, today)
    return need_subject(need.id) if need is not None and out and out.reason == "count" else subject


def _guide_named_beside_app(q: Question, real: list[Scored]) -> bool:
    """ "tchap ou whatsapp ?": a tool of the guide offered as the alternative to an
    application outside the offers, by words of its own, is what answers. A need is no
    alternative ("mattermost, ou autre chose pour chatter ?"): the application's rule and
    its need's tools answer."""
    if not q.says_or:
        return False
    words = set().union(*(s.matched for s in real if s.subject.kind is APP))
    return any(
        s.subject.kind is TOOL and s.score >= ANSWER_THRESHOLD and not s.matched & words
        for s in real
    )


def _compared(q: Question, real: list[Scored], knowledge: Knowledge) -> tuple[Subject, ...]:
    """The tools a comparison names, each by words of its own, in the guide's order
    (recommended first); none if fewer than two."""
    if not q.moves.compares:
        return ()
    named: list[tuple[Subject, frozenset[str]]] = []
    for s in real:
        if s.score < ANSWER_THRESHOLD or not s.anchored:
            continue
        tool: Subject | None = s.subject
        if s.subject.kind is NEED:  # "webconf" names the need: the tool its word names
            tool = next(
                (
                    t.subject
                    for t in real
                    if t.subject.kind is TOOL
                    and t.matched & s.matched
                    and main_need(t.subject, knowledge) == s.subject.id
                ),
                None,
            )
        if (
            tool is not None
            and tool.kind is TOOL
            and all(tool != other and s.matched.isdisjoint(words) for other, words in named)
        ):
            named.append((tool, s.matched))
    if len(named) < 2:
        return ()
    tools = (tool for tool, _ in named[:MAX_CHOICES])
    return tuple(sorted(tools, key=lambda t: _rank(t, knowledge)))


def _rank(tool: Subject, knowledge: Knowledge) -> tuple[int, int]:
    """Where the guide places a tool: its need's rank, then its own in the need."""
    need = main_need(tool, knowledge)
    needs = list(knowledge.needs)
    if need is None:
        return (len(needs), 0)
    options = [o.tool for o in knowledge.needs[need].options]
    return (needs.index(need), options.index(tool.id) if tool.id in options else len(options))


def _between_needs(q: Question, real: list[Scored]) -> list[Subject]:
    """ "visio ou audio ?": the needs a choice names, each by words of its own."""
    if not q.says_or:
        return []
    named: list[Scored] = []
    for s in real:
        if (
            s.subject.kind is NEED
            and s.score >= ANSWER_THRESHOLD
            # "en ligne ou déposer mes fichiers": "ou" is "où", and "en ligne" no visio;
            # an option is named about as surely as the other ("dire ok ou je m'en occupe"
            # in a story of a chat is no choice of the mail)
            and (s.score >= NEED_NAMED or (s.anchored and s.score >= real[0].score * CHOICE_SHARE))
            and not _partly_denied(s)  # "oui ou non… sans lui envoyer un mail"
            and all(s.matched.isdisjoint(other.matched) for other in named)
        ):
            named.append(s)
    return [s.subject for s in named][:MAX_CHOICES]


def _between_tools(
    q: Question, real: list[Scored], knowledge: Knowledge, today: date
) -> Subject | None:
    """ "tixeo ou scaleway pour 8 ?", "zoom ou webconf ?": a choice between tools (or a
    need and its tools) the question names, each by its own words. The guide's order for
    the case decides: the need's own answer when the need is one of them; else the first
    of them the count's range settles; else the first of the tools its need offers
    (recommended before advised...) that no condition rules out; if all are ruled out, the
    first, whose reply says why."""
    if not q.says_or:
        return None
    named: list[Scored] = []
    for s in real:
        if (
            s.subject.kind in (TOOL, NEED)
            and s.score >= ANSWER_THRESHOLD
            and s.anchored
            # a need guessed from a verb is no option: "tchap ou je le trouve"
            and (s.subject.kind is TOOL or s.score >= NEED_NAMED)
            and all(not (s.matched & other.matched) for other in named)
        ):
            named.append(s)
    needs = [s.subject for s in named if s.subject.kind is NEED]
    tools = [s.subject for s in named if s.subject.kind is TOOL]
    if len(named) < 2 or len(needs) > 1 or not tools:
        return None
    need_id = needs[0].id if needs else main_need(tools[0], knowledge)
    if need_id is None or not all(placed(t, need_id, knowledge) for t in tools):
        return None
    if needs:
        return resolve(needs[0], q.entities, knowledge, today, None)[0]
    need = knowledge.needs[need_id]
    # A count the guide's ranges settle names the tool for it, if it is one of them
    # ("webconf ou lifesize pour 80 ?": Lifesize, for more than 50).
    ranged = condition_choice(need, q.entities, knowledge, today)
    if ranged in tools:
        return ranged
    offered = [o for o in need.options if o.tool in {t.id for t in tools}]
    words = frozenset(q.norm.words)
    for option in offered:
        tool = knowledge.tools[option.tool or ""]
        if applicable(option, q.entities, knowledge, today) and (
            ruled_out(tool, need, q.entities, knowledge, today, words=words) is None
        ):
            return tool.subject
    return knowledge.tools[offered[0].tool or ""].subject if offered else None


def _merging(q: Question, knowledge: Knowledge) -> bool:
    """Merging calls is what was asked, the device aside: "mettre deux collègues dans le
    même appel" counts the two added, not the call's size; "on est 2, j'ai un iPhone" asks
    nothing to merge."""
    lexicon = knowledge.lexicon
    rest = without_entities(
        q.norm.plain, lexicon.devices, lexicon.sensitive, lexicon.approximate_numbers
    )
    return any(
        s.subject.kind is TIP and s.score >= MERGE_THRESHOLD for s in score_text(rest, knowledge)
    )


def _apps_said_off_topic(real: list[Scored], scored: tuple[Scored, ...]) -> list[Scored]:
    """Without the applications an off-topic phrasing names in more words ("la page
    Facebook de la préfecture" is no Messenger)."""
    off = [s.matched for s in scored if s.subject == NONE and s.score >= ANSWER_THRESHOLD]
    if not off:
        return real
    return [s for s in real if s.subject.kind is not APP or not any(s.matched < o for o in off)]


def _named_app(real: list[Scored], knowledge: Knowledge) -> str | None:
    """An application outside the offers named in the question, unless a tool of the guide
    is named more surely, by its name: the agent asks about that application, whatever need
    or tool's use comes with it ("dropbox pour mes dossiers d'équipe", "Doodle pour trouver
    une date" describes Mél's date polls, it does not name Mél)."""
    app = next((s for s in real if s.subject.kind is APP), None)
    if app is None:
        return None
    top = real[0]
    names = index_for(knowledge).name_tokens.get(top.subject, frozenset())
    if top.subject.kind is TOOL and top.score > app.score and top.matched & names:
        return None
    return app.subject.id


def _app_need(app: str, real: list[Scored], knowledge: Knowledge) -> str | None:
    """The need the question clearly puts the application in, if it is one the application
    serves ("teams pour partager des fichiers"); else the application's main need."""
    serves = knowledge.outside_apps[app].needs
    for s in real:
        if s.subject.kind is not APP and s.score >= APP_NEED_THRESHOLD:
            need = main_need(s.subject, knowledge)
            if need in serves:
                return need
    return serves[0] if serves else None


def _explains_less(s: Scored, top: Scored, q: Question, knowledge: Knowledge) -> bool:
    """``s`` explains only part of what ``top`` explains: ``top`` is the more precise
    reading. The unit of a count given ("25 personnes") explains nothing of the need."""
    if q.entities.participants is None:
        return s.matched < top.matched
    units = index_for(knowledge).count_units
    return s.matched - units < top.matched - units


def _one_word_beside_a_situation(s: Scored, top: Scored) -> bool:
    """One word ("discuter") is no rival to a situation said in full by several of its
    words ("que trois collègues voient mes diapositives"): the situation is the reading."""
    return (
        s is not top
        and len(s.matched) == 1
        and sum(t.startswith(CONCEPT) for t in top.matched) >= 2
        and s.score < top.score
    )


def _sized(subject: Subject, knowledge: Knowledge) -> bool:
    """The subject's need has options for some counts (a meeting), not a chat or a space."""
    need = main_need(subject, knowledge)
    return need is not None and any(o.participants for o in knowledge.needs[need].options)


def _close_needs(
    real: list[Scored], top: Scored, q: Question, knowledge: Knowledge
) -> list[Subject]:
    """Distinct needs among the candidates that score within the margin of the best; not
    one explaining only part of what the best explains ("rendez-vous" beside "rendez-vous
    téléphonique"): the best is the more precise reading."""
    needs: list[Subject] = []
    # A weak best reading is no more precise for explaining a word more: "échanger avec
    # mon équipe" may be a chat as well as a shared space.
    precise = top.score >= ANSWER_THRESHOLD
    for s in real:
        if s.score < top.score - MARGIN or len(needs) == MAX_CHOICES:
            break
        if precise and _explains_less(s, top, q, knowledge):
            continue
        if _one_word_beside_a_situation(s, top):
            continue
        if top.anchored and not s.anchored and s.score < top.score:
            continue  # "la boîte mail me renvoie mon zip de 80 Mo": where to put the file
        if (
            q.entities.participants is not None
            and len(s.matched) == 1
            and s.score < top.score
            and _sized(top.subject, knowledge)
            and not _sized(s.subject, knowledge)
        ):
            continue  # "on sera 7, voir la tête de chacun pendant qu'on discute": a meeting
        if _partly_denied(s) and not _partly_denied(top):
            continue  # put behind by _undenied_first
        need = main_need(s.subject, knowledge)
        if need and need_subject(need) not in needs:
            needs.append(need_subject(need))
    return needs
