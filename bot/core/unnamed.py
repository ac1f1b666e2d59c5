"""An application neither the guide nor the knowledge names, found by its place in the
sentence: "l'application X", "utiliser X", "X c'est autorisé ?".

The known applications are matched by their names (apps.py). One the knowledge has never
heard of ("est-ce que je peux utiliser bidulechat ?") would get the out-of-scope reply,
though the agent asks about a tool to communicate. Its word is read as a name only where a
name stands, and only if it is no word the knowledge writes, no typo of one, and no common
word of those places ("utiliser plusieurs", "utiliser demain").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.index import Index
from bot.core.normalize import Normalized, stem

_ARTICLE = (
    r"(?:(?:le|la|les|l|un|une|des|du|mon|ma|mes|notre|nos|votre|vos|son|sa|ses|leur|leurs"
    r"|ce|cet|cette)\s+)?"
)
_NAME = r"([a-z][a-z0-9]{2,})"
# Words that stand before a name: "l'application X" (an article before it: "quelle
# application dois-je..." names none), "utiliser X", "passer par X". Never a word an
# inverted pronoun follows ("utiliser doit-on"): a verb.
_BEFORE = re.compile(
    r"(?:\b(?:l|la|le|les|une|un|cette|ce|votre|vos|mon|ma|notre)\s+(?:application|appli|app"
    r"|logiciel|plateforme|plate forme|messagerie)|\b(?:utiliser|utilise|utilises"
    r"|utilisez|utilisons|utilisent|installer|telecharger|passer par))\s+"
    + _ARTICLE
    + _NAME
    + r"\b(?!\s+(?:je|tu|il|elle|on|nous|vous|ils|elles)\b)"
)
# The words of _BEFORE: a message with none of them (most) is not searched.
_FRAMES = frozenset(
    "application appli app logiciel plateforme plate messagerie utiliser utilise utilises"
    " utilisez utilisons utilisent installer telecharger passer".split()
)
# A name that opens the message and is asked about: "X c'est autorisé ?" (not "X pour":
# "astuce pour fusionner les appels"). Bare: a word after an article there is a thing
# ("le débit est faible", "la box c'est quoi"); an application is named without one.
_OPENING = re.compile(
    r"^(?:(?:et|mais|ok|bonjour|salut|hello|hi)\s+)?"
    + _NAME
    + r"\s+(?:c est|est|est il|est elle|est ce|on peut|je peux|ca passe|is)\b"
)
# Common words that stand in those places and name nothing.
_COMMON = frozenset(
    """
    plusieurs quoi lequel laquelle lesquels lesquelles quel quelle quels quelles ensemble
    maintenant demain aujourd hui hier toujours encore aussi vraiment tout tous toute toutes
    autre autres meme seul seule perso pro chez depuis ici cela ceci celle celui celles ceux
    rien certains certaines chaque aucun aucune quelque quelques dernier derniere nouveau
    nouvelle nouveaux bon bonne mieux moins plus tres trop peu beaucoup souvent parfois
    comme alors ainsi donc car quand pourquoi combien cette cela lui elle eux
    gratuit gratuite gratuites gratuits payant payante payantes payants securise securisee
    securisees securises officiel officielle officielles officiels interne internes libre
    libres recommande recommandee recommandees recommandes conseille conseillee conseillees
    conseilles valide validee validees valides autorise autorisee autorisees autorises
    disponible disponibles compatible compatibles adapte adaptee adaptees adaptes meilleure
    meilleures meilleur meilleurs existant existante existantes existants similaire
    similaires equivalent equivalente equivalentes equivalents propre propres prefere
    preferee preferees preferes habituel habituelle habituelles habituels
    application applications appli applis app apps logiciel logiciels plateforme plateformes
    outil outils programme programmes solution solutions chose choses truc trucs machin
    machins bidule bidules
    the this that what which any some should can could would will do does did to for of
    in on with we you they it is are be my our your their best good free other another
    """.split()
)


def unnamed_app(norm: Normalized, index: Index, matched: Iterable[frozenset[str]]) -> str | None:
    """The word (folded) that names an application no knowledge names; None when there is
    none. ``matched``: the stems the scored subjects explain (a typo of a known word is
    among them)."""
    plain = norm.plain
    found = None if _FRAMES.isdisjoint(norm.words) else _BEFORE.search(plain)
    found = found or _OPENING.search(plain)
    if found is None:
        return None
    word = found.group(1)
    if (
        word.isdigit()
        or word in _COMMON
        or word in index.stopwords
        or word in index.real_words
        or word in index.abbreviations
        or stem(word) in index.idf
        or any(stem(word) in m for m in matched)
    ):
        return None
    return word
