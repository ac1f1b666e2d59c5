"""The knowledge as frozen, typed objects: what the loader builds and the core reads.

Everything here is plain data. Texts are French, as a Tchap user reads them. Entry ids,
as subjects (``need:audio_conference``, ``tool:zoom``, ``tip:merge_calls_iphone``...), are
the stable contract of ``shared/eval/README.md`` (subject.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from bot.knowledge.subject import Subject, need_subject, tip_subject, tool_subject


class Category(StrEnum):
    """The guide's five ways of placing a tool for a need, in the order a reply shows them."""

    RECOMMANDE = "recommande"  # SNUM offer
    CONSEILLE = "conseille"  # DINUM offer, with SNUM advice and assistance
    LIMITER = "limiter"  # used, outside both offers: no support
    EVITER = "eviter"  # security flaws or very high costs
    AUTREMENT = "autrement"  # substitutes for the initial use


@dataclass(frozen=True)
class Range:
    """An inclusive participant range; ``None`` leaves a side open."""

    min: int | None = None
    max: int | None = None
    # How the guide says it ("plus de 50 participants"), for replies; not part of the range.
    said: str | None = field(default=None, compare=False)

    def contains(self, n: int) -> bool:
        return (self.min is None or n >= self.min) and (self.max is None or n <= self.max)


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Contact:
    label: str
    email: str


@dataclass(frozen=True)
class Caveat:
    """One condition or warning attached to a tool.

    ``topics`` are normalised keywords (``vpn``, ``navigateur``, ``bande passante``,
    ``sensible``, ``participants``, ``validite``...) that let the core put the caveat first
    when the question is about it. ``participants``: the caveat applies (and is stressed)
    when the stated count falls in this range. ``valid_until``: the caveat describes an offer
    that ends that day; once past, replies say it has ended.
    """

    text: str
    topics: tuple[str, ...] = ()
    participants: Range | None = None
    valid_until: date | None = None
    expired_text: str | None = None  # said instead of ``text`` once ``valid_until`` is past
    # The attributes this fact answers ("link", "limit", "condition"...; ATTRIBUTES below):
    # "c'est quoi le lien ?" or "il faut une validation ?" get this sentence, and only it.
    about: tuple[str, ...] = ()
    # Services of the lexicon this fact is for ("administration_centrale", "ddi"): said when
    # the agent is in one of them, or has not said where they work; never to another.
    services: tuple[str, ...] = ()
    # A requirement: words whose denial ("pas de VPN", "sans licence") means the agent lacks
    # it, so "puis-je... ?" is answered "Non" with this sentence...
    requires: tuple[str, ...] = ()
    # ...when the question says one of these (the role the guide requires it for:
    # "organiser"); a question that only says "participer" gets the fact, not a verdict.
    requires_for: tuple[str, ...] = ()
    # For "faut-il... ?" on this fact's topic: whether the guide says it is needed (the VPN:
    # yes; a validation for webMél: no). None: the sentence answers without a yes or no.
    needed: bool | None = None


# What an attribute question may ask about a subject; the lexicon lists how agents ask it.
ATTRIBUTES = (
    "link",  # address, site
    "contact",  # who to write to, how to book or request
    "creation",  # who creates a space, how to get one
    "limit",  # how many participants
    "condition",  # VPN, licence, browsers, validation, double authentication
    "confidentiality",  # security, data, sensitive topics
    "price",  # free, paid, trial
    "installation",  # install, download
    "usage",  # how to use it
    "validity",  # until when
    "alternatives",  # what to use instead
)


@dataclass(frozen=True)
class Tool:
    id: str
    name: str
    offer: str  # "SNUM", "DINUM" or "aucune"
    summary: str
    phrasings: tuple[str, ...]
    links: tuple[Link, ...] = ()
    contacts: tuple[Contact, ...] = ()
    caveats: tuple[Caveat, ...] = ()
    steps: tuple[str, ...] = ()  # how to get started, when the guide gives steps (Ariane)
    participants: Range | None = None  # the range the guide gives for this tool, if any
    sensitive_ok: bool = True  # False: the guide excludes it for sensitive topics
    valid_until: date | None = None  # the whole tool stops being recommended after this day
    tips: tuple[str, ...] = ()  # ids of tips that go with this tool
    situations: tuple[str, ...] = ()  # situations the guide implies (see Need.situations)
    # Whose offer it is: "pole" (the pôle ministériel's own services, contacts, addresses)
    # or "all" (interministerial or anyone's: DINUM, WebConférence de l'État, Tchap).
    audience: str = "pole"

    @property
    def subject(self) -> Subject:
        return tool_subject(self.id)


@dataclass(frozen=True)
class Option:
    """A tool placed in a category for one need, possibly under a condition."""

    category: Category
    tool: str | None  # tool id; None for the guide's unnamed "ces applications"
    text: str = ""  # what the guide says of it for this need (rule text when tool is None)
    participants: Range | None = None  # the option applies only for counts in this range
    sensitive_ok: bool = True  # False: not offered for sensitive topics (unnamed apps)
    # Kept by the guide only for what already exists (Alfresco spaces): never offered as a
    # choice for a new need, said when the tool itself is asked about.
    existing_only: bool = False


@dataclass(frozen=True)
class Need:
    id: str
    title: str  # short: "Audio conférence"
    summary: str
    phrasings: tuple[str, ...]
    options: tuple[Option, ...]
    tips: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # need-level facts (P2R in central administration...)
    # Situations that call for this need without naming it ("présenter à distance",
    # "rédiger ensemble un document"): matched only in full, through the lexicon's concepts.
    situations: tuple[str, ...] = ()

    @property
    def subject(self) -> Subject:
        return need_subject(self.id)


@dataclass(frozen=True)
class Tip:
    id: str
    title: str
    device: str  # "android" or "iphone": a device id of the lexicon
    need: str
    steps: tuple[str, ...]
    phrasings: tuple[str, ...]

    @property
    def subject(self) -> Subject:
        return tip_subject(self.id)


@dataclass(frozen=True)
class OutsideApp:
    """An application the guide does not name: it gets the rule for apps outside both offers."""

    id: str
    name: str
    needs: tuple[str, ...]  # the needs it is used for, first is the main one
    phrasings: tuple[str, ...]
    # Tools of the guide that do what this application is used for, beyond the need's
    # recommended ones (WeTransfer: the webMél "Stockage" tab), shown in its reply.
    alternatives: tuple[str, ...] = ()
    common_word: bool = False  # its name is also a word: "ma box" is no Box
    # What agents use it for, when the need's title does not say it ("les sondages de
    # dates" for Doodle): its reply offers the guide's tools "pour" that.
    used_for: str = ""


@dataclass(frozen=True)
class Dialogue:
    """The words of conversation moves, folded: picks, corrections, topic switches."""

    ordinals: dict[str, int] = field(default_factory=dict)  # "deuxieme" -> 2, "dernier" -> -1
    corrections: tuple[str, ...] = ()  # "non", "plutot", "en fait", "je voulais dire"
    topic_switches: tuple[str, ...] = ()  # "autre question", "autre sujet"
    contrasts: tuple[str, ...] = ()  # "par contre", "en revanche": what follows is asked
    details: tuple[str, ...] = ()  # "details", "plus", "que faut il eviter"
    yes_no: tuple[str, ...] = ()  # "puis je", "peut on", "est ce autorise"
    needed: tuple[str, ...] = ()  # "faut il", "il faut", "besoin", "necessaire"
    participation: tuple[str, ...] = ()  # "participer", "rejoindre": not the organiser
    comparisons: tuple[str, ...] = ()  # "difference entre", "comparer": each tool named
    references: tuple[str, ...] = ()  # "l utiliser", "dedans": the tool under discussion
    breakdowns: tuple[str, ...] = ()  # "ne marche plus": what else than what is named
    # "et si on est plus nombreux ?": more people than said before, or than the tool takes
    more_people: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lexicon:
    """Words the understanding needs, kept as data so maintainers can extend them."""

    abbreviations: dict[str, str]  # "svp" -> "s il vous plait", "visio" stays a phrasing
    devices: dict[str, tuple[str, ...]]  # "android" -> ("android", "samsung", "galaxy"...)
    sensitive: tuple[str, ...]  # "sensible", "confidentiel"...
    approximate_numbers: dict[str, int]  # "quinzaine" -> 15
    stopwords: tuple[str, ...]
    # Common French words that are no typo of a word of the knowledge, and are never read
    # as one: "semaine" is no "séminaire", "était" no "État", "entre" no "entretien".
    common_words: tuple[str, ...] = ()
    # Words that say the same thing in a situation: "a_distance" -> ("à distance", "en
    # ligne", "depuis chez moi"...). A situation written with one of them matches them all.
    concepts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Where the agent works: "ddi" -> ("ddi", "ddt", "ddtm"...). A word may be in several.
    services: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # How agents ask for an attribute of the subject under discussion: "link" -> ("lien",
    # "adresse", "url"...). Keys are ATTRIBUTES.
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dialogue: Dialogue = field(default_factory=Dialogue)


@dataclass(frozen=True)
class Conversation:
    """What the bot says outside the guide's content: greeting, menu, fallbacks."""

    help_phrasings: tuple[str, ...]
    out_of_scope_phrasings: tuple[str, ...]  # known off-topic requests (congés, météo...)
    greeting: str
    menu_intro: str
    out_of_scope: str
    clarify_intro: str
    outside_offer_rule: str  # the guide's rule for apps outside the SNUM/DINUM offers
    category_labels: dict[Category, str]
    source: str  # where the answers come from, shown in help
    thanks_phrasings: tuple[str, ...] = ()  # "merci", "au revoir": small talk
    thanks: str = ""  # the short reply to them
    details_offer: str = ""  # the closing line of a short reply that has more on demand
    # Said once per conversation to an agent outside the guide's audience (audience.py).
    audience_notice: str = ""
    # Said of an application nothing names ("utiliser bidulechat ?"); empty: none is read.
    unnamed_app: str = ""
    # A follow-up on the application outside the offers with one of these words ("de l'aide
    # dessus ?") gets the rule again; otherwise it is about the tool offered instead.
    outside_offer_topics: tuple[str, ...] = ()
    # A short question on the tool under discussion the guide says nothing of ("on peut
    # enregistrer ?"): said of it, rather than the out-of-scope menu; "{name}": the tool.
    not_in_guide: str = ""
    # "faut le VPN ?" of a tool the guide sets no such condition for; "{name}": the tool.
    unrequired: str = ""
    # For an attribute the guide does not give: "{name}" is the subject's name.
    missing: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Knowledge:
    needs: dict[str, Need]
    tools: dict[str, Tool]
    tips: dict[str, Tip]
    outside_apps: dict[str, OutsideApp]
    lexicon: Lexicon
    conversation: Conversation
    # Where each entry came from, for messages: "tool:zoom" (its subject, as a string in
    # problems) -> (file, line).
    origins: dict[str, tuple[str, int]] = field(default_factory=dict)
    # Where each valid_until was read, for expiry warnings (bot.knowledge.expiries):
    # (tool subject, caveat index or None for the tool's own) -> (file, line).
    date_origins: dict[tuple[str, int | None], tuple[str, int]] = field(default_factory=dict)
