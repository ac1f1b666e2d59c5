"""The answering core on the shipped knowledge: conditions, follow-ups, clarifications,
applications outside the offers, sensitivity, dated offers and escaping."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

import pytest

from bot.core import Context, Reply, answer
from bot.core.decision import read_question
from bot.evaluation import load_set
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import Knowledge
from bot.knowledge.subject import Subject

S = Subject.parse  # subjects as the evaluation sets write them

TODAY = date(2026, 11, 28)
ALLOWED_TAGS = {"p", "br", "b", "strong", "i", "em", "a", "ul", "ol", "li", "code"}


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge(Path(__file__).resolve().parents[2] / "knowledge")


def ask(knowledge: Knowledge, question: str, context: Context | None = None) -> Reply:
    return answer(question, knowledge, context, today=TODAY)[0]


def conversation(knowledge: Knowledge, *questions: str) -> list[Reply]:
    context = Context()
    replies = []
    for question in questions:
        reply, context = answer(question, knowledge, context, today=TODAY)
        replies.append(reply)
    return replies


@pytest.mark.parametrize(
    ("question", "subject", "present", "absent"),
    [
        # The guide's participant ranges choose the tool.
        ("audio conférence à deux", "tool:mobile_phone", "mobile", "audio.mtes.fr"),
        ("réunion téléphonique à 3", "tool:mobile_phone", "fusionner", "audio.mtes.fr"),
        ("audioconf pour une vingtaine d'agents", "tool:audioconf_ministere", "audio.mtes.fr", ""),
        ("conférence téléphonique à quarante", "tool:audioconf_ministere", "audio.mtes.fr", ""),
        ("visio avec plus de cent personnes", "tool:lifesize", "confidentialit", ""),
        # A device picks its tip, and only its tip.
        ("fusionner des appels sur mon Pixel", "tip:merge_calls_android", "Fusionner", "iphone"),
        (
            "ajouter un collègue à un appel, iPhone",
            "tip:merge_calls_iphone",
            "nouvel appel",
            "android",
        ),
    ],
)
def test_conditions_choose_the_answer(
    knowledge: Knowledge, question: str, subject: str, present: str, absent: str
) -> None:
    reply = ask(knowledge, question)
    assert reply.subject == S(subject)
    assert present.lower() in reply.text.lower()
    if absent:
        assert absent.lower() not in reply.text.lower()


def test_a_count_filters_the_tools_instead_of_warning(knowledge: Knowledge) -> None:
    reply = ask(knowledge, "visio à 8 personnes")
    assert reply.subject == S("need:web_conference")
    assert "Lifesize" not in reply.text  # over 50 only
    assert "Scaleway" not in reply.text  # salons of more than 5 are discouraged
    assert "Tixéo" in reply.text and "Attention" not in reply.text
    twelve = ask(knowledge, "visio à 12")
    assert "Scaleway" not in twelve.text and "Tixéo" not in twelve.text  # 10 at most


def test_asked_about_a_tool_the_count_rules_out_says_why(knowledge: Knowledge) -> None:
    reply = ask(knowledge, "peut-on utiliser scaleway à 12 ?")
    assert reply.subject == S("tool:scaleway")
    first = reply.text.splitlines()[0]
    assert first.startswith("Non") and "5 personnes" in first
    assert "webconf.numerique.gouv.fr" in reply.text  # what fits instead
    assert "ensemble.scaleway.com" not in reply.text


def test_sensitive_topic_keeps_lifesize_with_its_confidentiality_warning(
    knowledge: Knowledge,
) -> None:
    # The guide says Lifesize's confidentiality is not fully assured; it does not exclude it.
    reply = ask(knowledge, "visio sur un dossier confidentiel avec 80 personnes")
    assert reply.subject == S("tool:lifesize")
    assert "pas totalement assurée" in reply.text
    assert "exclut" not in reply.text
    zoom = ask(knowledge, "zoom pour un sujet sensible ?")
    assert zoom.subject == S("tool:zoom")
    assert zoom.text.index("sensible") < zoom.text.index("webconf.numerique.gouv.fr")
    assert "proscrire" in zoom.text.splitlines()[0]


def test_unnamed_application_gets_the_outside_offer_rule(knowledge: Knowledge) -> None:
    reply = ask(knowledge, "on peut utiliser WhatsApp entre collègues ?")
    assert reply.subject == S("need:instant_messaging")
    assert "WhatsApp" in reply.text
    assert "ni de l'offre" in reply.text or "ni dans l'offre" in reply.text
    assert "Tchap" in reply.text
    drive = ask(knowledge, "je mets mes fichiers sur dropbox, c'est ok ?")
    assert drive.subject == S("need:collaborative_workspace")
    assert "SharePoint" in drive.text


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("on voudrait mettre la doc du bureau sur notion", True),
        ("signal c'est sécurisé ?", True),
        ("je range mes fichiers sur box", True),
        # After a determiner, the name is the common word it also is.
        ("le wifi de ma box est trop lent", False),
        ("une notion de base sur la visio", False),
        ("quel signal pour une visio ?", False),
    ],
)
def test_an_app_named_by_a_common_word_only_where_it_names(
    knowledge: Knowledge, question: str, named: bool
) -> None:
    reply = ask(knowledge, question)
    assert ("cette application n'est pas dans l'offre" in reply.text) is named


def test_a_misspelt_question_on_a_named_tool_gets_its_fact(knowledge: Knowledge) -> None:
    browsers = ask(knowledge, "webkonf etat kel navigater")
    assert browsers.subject == S("tool:webconf_etat") and "Chrome" in browsers.text
    # A word the knowledge writes is no misspelt cue: no address asked here.
    speech = ask(knowledge, "webconf pour s'adresser à tous les agents")
    assert not speech.text.startswith("WebConférence de l'État : ")


@pytest.mark.parametrize(
    ("question", "subject", "first"),
    [
        # A wish, not a question on the tool's address: its ordinary answer.
        (
            "discuter en équipe dans un canal sans installer d'appli, dans la messagerie",
            "tool:ariane",
            "Ariane (discussion instantanée de webMél) — Conseillé",
        ),
        # The tool that needs an installation is no answer to one who wants none.
        (
            "une visio sans installer de logiciel",
            "tool:webconf_etat",
            "WebConférence de l'État : Nous recommandons l'utilisation des navigateurs",
        ),
        # "un logiciel" names no application.
        (
            "faut il installer un logiciel pour la visio ?",
            "tool:webconf_etat",
            "WebConférence de l'État : Nous recommandons l'utilisation des navigateurs",
        ),
    ],
)
def test_no_installation_wished_or_asked(
    knowledge: Knowledge, question: str, subject: str, first: str
) -> None:
    reply = ask(knowledge, question)
    assert reply.subject == S(subject)
    assert reply.text.startswith(first)


def test_a_comparison_sets_the_tools_side_by_side(knowledge: Knowledge) -> None:
    reply = ask(knowledge, "quelle différence entre tixeo et scaleway ?")
    assert reply.subject == S("tool:scaleway")  # the guide lists it first
    assert "10 utilisateurs maximum" in reply.text and "plus de 5 personnes" in reply.text
    # In the guide's order, recommended first, whatever the order typed.
    reply = ask(knowledge, "comparer osmose et sharepoint")
    assert reply.text.index("SharePoint — Recommandé") < reply.text.index("Osmose — Conseillé")
    # "webconf" names the need: compared, it is the WebConférence de l'État.
    reply = ask(knowledge, "différence entre zoom et webconf")
    assert reply.text.startswith("WebConférence de l'État — Recommandé")
    assert reply.text.count("failles de sécurité") == 1
    # An "or" still asks which one to use: one answer.
    assert "Tixéo —" not in ask(knowledge, "tixeo ou scaleway ?").text


def test_a_tool_described_not_named_gives_way_to_the_count(knowledge: Knowledge) -> None:
    # "sécurisée" describes Tixéo (10 at most); for 30, the web conference's tool for 30.
    reply = ask(knowledge, "visio sécurisée pour un sujet sensible à 30")
    assert reply.text.startswith("Pour 30 participants : WebConférence de l'État")
    assert "Tixéo" not in reply.text.splitlines()[0]
    assert ask(knowledge, "visio sécurisée à 8").subject == S("tool:tixeo")
    # Named, it says why not.
    assert ask(knowledge, "tixeo pour 30 ?").text.startswith("Pour 30 participants, Tixéo ne")


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        # "sans se voir" holds "se voir": the longer phrase is what is said.
        ("on veut se parler à quatre sans se voir", "tool:audioconf_ministere"),
        ("une assemblée générale où tout le monde se voit, une soixantaine", "tool:lifesize"),
        ("faire passer un oral à un candidat qui ne peut pas se déplacer", "need:web_conference"),
        ("rédiger à six mains une note pour le cabinet", "need:collaborative_workspace"),
        # A document everyone edits: "planning" is no agenda here.
        (
            "il nous faut un planning des permanences que tout le service puisse modifier",
            "need:collaborative_workspace",
        ),
        ("un fichier excel que toute l'équipe complète", "need:collaborative_workspace"),
        # Who follows a conference behind a screen is connected to it.
        (
            "on organise une conférence de 90 minutes suivie par soixante personnes connectées",
            "tool:lifesize",
        ),
        # Short exchanges all day in a common thread: a chat.
        (
            "comment garder un fil commun avec mon équipe toute la journée, pour des échanges"
            " courts ?",
            "need:instant_messaging",
        ),
        # A round table by voice, no picture: a call, for the agent and three colleagues.
        (
            "chaque matin je fais un tour de table oral avec 3 collègues, sans image",
            "tool:audioconf_ministere",
        ),
        # A report sent to a list of recipients: email.
        (
            "je dois diffuser le compte rendu du séminaire à une trentaine de destinataires",
            "need:email",
        ),
        # "je me demandais" asks nothing of anyone: no quick message; no webcam, a call.
        (
            "la plupart n'ont pas de webcam, du coup je me demandais ce qu'on pouvait utiliser"
            " pour juste se parler tous ensemble, on est 11",
            "tool:audioconf_ministere",
        ),
        # A disciplinary board at a distance is a hearing: on screen.
        (
            "conseil de discipline à distance à 9 personnes, le sujet est très sensible",
            "need:web_conference",
        ),
        # A document projected to people at home: on screen.
        (
            "le CHSCT se tient jeudi, les représentants sont tous chez eux, on sera une"
            " quinzaine et il faudra projeter le document unique",
            "need:web_conference",
        ),
        # The off-topic word is the tool's own caveat when the tool is named.
        ("jpeu pa lancer la webconf il me di vpn", "tool:webconf_etat"),
        # Many short emails: the guide advises Tchap.
        ("on s'envoie trop de petits mails dans l'équipe", "tool:tchap"),
        (
            "on s'envoie 50 courriels par jour de deux lignes chacun, ça encombre tout",
            "tool:tchap",
        ),
        # A weak reading that explains one word more is no reason to abstain: which need?
        ("j'ai besoin d'un outil pour bosser avec mon équipe", "clarify"),
        # A need the message partly denies gives way to one it wants.
        (
            "on voudrait s'envoyer des petits messages dans la journée sans remplir la boîte"
            " mail de tout le monde",
            "need:instant_messaging",
        ),
        # "pj" is "pièces jointes": the Stockage tab's own phrasing.
        ("ou mettre mes pj pour les partager ?", "tool:webmel_stockage"),
        # A situation said in full beats one word of another need ("discute").
        (
            "que trois collègues voient mes diapositives pendant qu'on discute",
            "need:web_conference",
        ),
        # "demander" is no request to make here: a quick message.
        (
            "demander vite fait à ma voisine de bureau si elle a reçu le dossier",
            "need:instant_messaging",
        ),
        ("transmettre un courrier officiel à un partenaire", "need:email"),
        ("ma webcam reste noire quand je la branche", "none"),
        (
            "le préfet veut s'adresser en direct à deux cents agents derrière leur écran",
            "tool:lifesize",
        ),
        # The DDI's storage fact is for storing, not for co-editing a spreadsheet.
        (
            "ma collègue en DDT et moi devons travailler sur le même tableur",
            "need:collaborative_workspace",
        ),
        ("je suis en DDT, comment je stocke mes fichiers ?", "tool:webmel_stockage"),
        # An application used for calls, named with a call: the audio conference's rule.
        ("d'habitude on fait nos conf tel sur skype, a 9", "need:audio_conference"),
        ("je dois envoyer un courrier recommandé papier à un usager", "none"),
        ("comment partager la voiture de service avec un collègue ?", "none"),
        ("faire voir mon tableau Excel aux collègues restés à la maison", "need:web_conference"),
        (
            "juste une petite question à ma voisine, sans passer par un courriel",
            "need:instant_messaging",
        ),
        ("transmettre une note à un partenaire, qui la lira quand il pourra", "need:email"),
        # Whom the agent adds is no size of the call.
        ("ajouté 1 pers ds mon apel sur iphon", "tip:merge_calls_iphone"),
        ("sur iphone je fais comment pr ajouter qqn a un appel en cours", "tip:merge_calls_iphone"),
        (
            "mon dossier de 300 Mo est refusé quand je l'attache à un courriel",
            "tool:webmel_stockage",
        ),
        ("ma boîte aux lettres est pleine, je ne reçois plus de courriels", "none"),
    ],
)
def test_situations_said_in_the_agents_words(
    knowledge: Knowledge, question: str, subject: str
) -> None:
    assert ask(knowledge, question).subject == S(subject)


def test_a_tool_of_the_need_the_question_describes_is_shown_too(knowledge: Knowledge) -> None:
    # Sending a big file: the need's answer (SharePoint) and the Stockage tab it fits.
    big = ask(knowledge, "envoyer un gros fichier")
    assert "Stockage" in big.text
    assert "Stockage" not in ask(knowledge, "partager des fichiers").text
    heavy = ask(knowledge, "j'ai un fichier de 300 Mo à faire passer à un collègue")
    assert heavy.subject == S("tool:webmel_stockage")


def test_follow_ups_refine_the_previous_answer(knowledge: Knowledge) -> None:
    first, device, count = conversation(
        knowledge, "conférence téléphonique", "et sur iPhone ?", "et pour 30 personnes ?"
    )
    assert first.subject == S("need:audio_conference")
    assert device.subject == S("tip:merge_calls_iphone")
    assert count.subject == S("tool:audioconf_ministere")
    web, bigger = conversation(knowledge, "je veux faire une visio", "et pour 80 personnes ?")
    assert web.subject == S("need:web_conference")
    assert bigger.subject == S("tool:lifesize")


def test_a_count_asked_of_the_tool_gets_its_yes_or_no(knowledge: Knowledge) -> None:
    _, asked = conversation(knowledge, "scaleway c'est quoi", "on peut être 20 dessus ?")
    assert asked.subject == S("tool:scaleway")
    assert asked.text.startswith("Non, pas pour 20 participants")
    assert "webconf.numerique.gouv.fr" in asked.text  # what to use instead


@pytest.mark.parametrize(
    ("first", "then", "subject"),
    [
        # One word of the tool's own need: still the tool, not the need's overview.
        ("réunion téléphonique à 8", "c'est quoi le numéro ?", "tool:audioconf_ministere"),
        # A word as much of another need as of the tool's ("groupe"): still the tool.
        ("c quoi ariane dans webmel", "on peut creer un groupe ?", "tool:ariane"),
        # Who takes part qualifies the tool under discussion; it names no other need.
        ("webconf de l'état", "et si il y a des externes ?", "tool:webconf_etat"),
        (
            "créer un espace pour partager des docs",
            "et si il y a des externes ?",
            "tool:sharepoint",
        ),
    ],
)
def test_a_message_naming_nothing_new_stays_on_the_tool(
    knowledge: Knowledge, first: str, then: str, subject: str
) -> None:
    assert conversation(knowledge, first, then)[1].subject == S(subject)


def test_another_need_named_leaves_the_tool(knowledge: Knowledge) -> None:
    _, other = conversation(knowledge, "webconf de l'état", "et pour partager des fichiers ?")
    assert other.subject == S("need:collaborative_workspace")


def test_sensitive_follow_up_keeps_the_thread(knowledge: Knowledge) -> None:
    first, sensitive = conversation(knowledge, "visio à 60 ?", "et sur un sujet sensible ?")
    assert first.subject == S("tool:lifesize")
    assert sensitive.subject == S("tool:lifesize")  # the count of 60 is kept
    assert "confidentialité" in sensitive.text and "Zoom" not in sensitive.text
    # Applications outside the offers are "à proscrire" for sensitive topics: not offered.
    plain = conversation(knowledge, "visio", "détails")[1]
    sensitive_details = conversation(knowledge, "visio", "c'est un sujet sensible", "détails")[2]
    assert "hors offres" in plain.text and "hors offres" not in sensitive_details.text


def test_numbered_choice_after_a_clarification(knowledge: Knowledge) -> None:
    choices = (S("need:audio_conference"), S("need:web_conference"))
    context = Context(subject=S("clarify"), choices=choices)
    reply, _ = answer("2", knowledge, context, today=TODAY)
    assert reply.subject == S("need:web_conference")


def test_clarification_lists_numbered_needs(knowledge: Knowledge) -> None:
    reply, context = answer("réunion", knowledge, today=TODAY)
    assert reply.subject == S("clarify")  # a meeting: by phone or by video?
    assert set(context.choices) >= {S("need:audio_conference"), S("need:web_conference")}
    assert "<ol>" in reply.html
    picked, _ = answer("1", knowledge, context, today=TODAY)
    assert picked.subject == context.choices[0]


@pytest.mark.parametrize("question", ["bonjour", "aide", "Salut !"])
def test_greeting_shows_the_menu(knowledge: Knowledge, question: str) -> None:
    reply = ask(knowledge, question)
    assert reply.subject == S("help")
    for need in knowledge.needs.values():
        assert need.title in reply.text


@pytest.mark.parametrize(
    "question",
    [
        "quel temps fera-t-il demain ?",
        "qsdfqsdf",
        "comment poser un jour de congé",
        # Level with the merge tip, but in words the tip does not say.
        "transférer un appel sur iPhone",
        "comment envoyer un fax depuis chez moi ?",
    ],
)
def test_out_of_scope_says_so_and_shows_the_menu(knowledge: Knowledge, question: str) -> None:
    reply = ask(knowledge, question)
    assert reply.subject == S("none")
    assert knowledge.conversation.out_of_scope.split()[0] in reply.text
    assert all(n.title in reply.text for n in knowledge.needs.values())


def test_expired_tool_is_no_longer_recommended(knowledge: Knowledge) -> None:
    tools = dict(knowledge.tools)
    tools["scaleway"] = dataclasses.replace(tools["scaleway"], valid_until=date(2026, 1, 1))
    dated = dataclasses.replace(knowledge, tools=tools)
    assert "Scaleway" in ask(knowledge, "je veux faire une visio").text
    assert "Scaleway" not in ask(dated, "je veux faire une visio").text
    direct = ask(dated, "scaleway ?")
    assert "pris fin" in direct.text


def test_expired_caveat_says_the_offer_ended(knowledge: Knowledge) -> None:
    reply = ask(knowledge, "l'offre OVH est valable jusqu'à quand ?")
    assert "pris fin" in reply.text and "juillet" in reply.text
    before = answer("l'offre OVH est valable jusqu'à quand ?", knowledge, today=date(2020, 4, 1))
    assert "pris fin" not in before[0].text


def test_html_is_the_safe_subset_and_user_text_never_leaks(knowledge: Knowledge) -> None:
    for question in ["<script>alert(1)</script> zoom", "visio <b onmouseover=x>", "bonjour"]:
        reply = ask(knowledge, question)
        assert "<script" not in reply.html and "onmouseover" not in reply.html
        assert set(re.findall(r"</?([a-z0-9]+)", reply.html)) <= ALLOWED_TAGS


def test_replies_are_deterministic_and_json_ready(knowledge: Knowledge) -> None:
    first = ask(knowledge, "tixeo ?")
    assert first == ask(knowledge, "tixeo ?")
    data = first.to_json()
    assert set(data) == {"subject", "candidates", "text", "html"}
    assert all(0 <= c["score"] <= 1 for c in data["candidates"])


@pytest.mark.parametrize("question", ["merci", "Merci beaucoup !", "au revoir"])
def test_thanks_get_a_short_friendly_reply(knowledge: Knowledge, question: str) -> None:
    reply = ask(knowledge, question)
    assert reply.subject == S("help")
    assert reply.text == knowledge.conversation.thanks


def test_thanks_with_a_question_answers_the_question(knowledge: Knowledge) -> None:
    reply = ask(knowledge, "merci ! et pour une audio à 30 ?")
    assert reply.subject == S("tool:audioconf_ministere")


def test_a_tool_header_names_one_placement(knowledge: Knowledge) -> None:
    for question in ("tchap ?", "le service d'audio conférence du ministère", "ariane"):
        header = ask(knowledge, question).text.splitlines()[0]
        labels = knowledge.conversation.category_labels.values()
        assert sum(label in header for label in labels) == 1, header
        assert " ; " not in header


def test_merging_calls_without_a_device_asks_which_phone(knowledge: Knowledge) -> None:
    reply, context = answer("comment fusionner des appels ?", knowledge, today=TODAY)
    assert reply.subject == S("clarify")
    assert set(context.choices) == {S("tip:merge_calls_android"), S("tip:merge_calls_iphone")}
    iphone = context.choices.index(S("tip:merge_calls_iphone")) + 1
    picked, _ = answer(str(iphone), knowledge, context)
    assert picked.subject == S("tip:merge_calls_iphone")


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("fusioner appel ipone", "tip:merge_calls_iphone"),
        ("fusionner appels andoid", "tip:merge_calls_android"),
        ("conférence à trois sur mon samsoung", "tip:merge_calls_android"),
    ],
)
def test_misspelt_devices_still_pick_their_tip(
    knowledge: Knowledge, question: str, subject: str
) -> None:
    assert ask(knowledge, question).subject == S(subject)


@pytest.mark.parametrize(
    "question", ["navigateur pour la webconf ?", "l'organisateur de la webconf a besoin de quoi"]
)
def test_question_on_a_tools_condition_is_about_that_tool(
    knowledge: Knowledge, question: str
) -> None:
    reply = ask(knowledge, question)
    assert reply.subject == S("tool:webconf_etat")


def test_a_word_of_a_complementary_tools_caveat_leaves_the_need(knowledge: Knowledge) -> None:
    # The audio conference is listed under the web conference "en complément"; its date
    # caveat ("quand") is no reason to answer with it a question that says "quand même".
    reply = ask(knowledge, "entretien à distance, on voudrait quand même se voir")
    assert reply.subject == S("need:web_conference")


def test_a_call_said_in_more_words_than_a_chat_stays_a_call(knowledge: Knowledge) -> None:
    # "discute" names instant messaging, but the call and its three people say more.
    reply = ask(knowledge, "téléphoner à deux collègues en même temps pour qu'on discute")
    assert reply.subject == S("tool:mobile_phone")
    assert reply.text.startswith("Pour vous et 2 collègues")
    assert ask(knowledge, "visio depuis mon tel").subject == S("need:web_conference")


def test_elision_typed_without_apostrophe(knowledge: Knowledge) -> None:
    assert ask(knowledge, "webconf de letat c koi ladresse").subject == S("tool:webconf_etat")


def test_half_an_off_topic_phrase_is_not_out_of_scope(knowledge: Knowledge) -> None:
    # "fiche de paie" is off topic; "fichier" alone is not a reason to say so.
    assert ask(knowledge, "partager un fichier avec mon équipe").subject != S("none")


def test_naming_the_ministry_service_answers_with_it(knowledge: Knowledge) -> None:
    reply = ask(knowledge, "le service d'audio conférence du ministère c'est quoi")
    assert reply.subject == S("tool:audioconf_ministere")
    assert "50" in reply.text
    # The mobile is offered for 2 or 3 only: without a count the need itself answers.
    assert ask(knowledge, "conférence téléphonique").subject == S("need:audio_conference")


def test_a_denied_word_matches_phrasings_that_deny_it(knowledge: Knowledge) -> None:
    reply = ask(knowledge, "on est une douzaine, on veut juste s'appeler, pas besoin de vidéo")
    assert str(reply.subject) in ("need:audio_conference", "tool:audioconf_ministere")
    assert "audio.mtes.fr" in reply.text


def test_a_denied_tool_gets_its_alternatives(knowledge: Knowledge) -> None:
    # The reply is about what to use instead: the need's tools.
    reply = ask(knowledge, "pas de zoom svp, autre chose ?")
    assert reply.subject == S("need:web_conference")
    assert reply.text.startswith("À la place de Zoom")
    assert "webconf.numerique.gouv.fr" in reply.text


@pytest.mark.parametrize(
    ("question", "subjects"),
    [
        # Situations described without the domain's words (issue 11).
        ("montrer mes diapos aux collègues qui sont chez eux", {"need:web_conference"}),
        ("le jury doit auditionner les candidats à distance", {"need:web_conference"}),
        ("nous corrigeons ensemble le même compte rendu", {"need:collaborative_workspace"}),
        ("trouver un créneau qui convient à tous", {"tool:mel", "need:email"}),
        ("prévenir vite fait mon binôme", {"need:instant_messaging"}),
        ("animer un réseau de référents dans toutes les régions", {"tool:osmose"}),
        ("je veux voir mes collègues en réunion depuis chez moi", {"need:web_conference"}),
        ("le directeur veut s'adresser à tous les agents en même temps", {"need:web_conference"}),
        ("retransmettre une plénière", {"need:web_conference"}),
        ("comment faire pour que tout le monde voie mes slides", {"need:web_conference"}),
        ("comment joindre rapidement un collègue en télétravail", {"need:instant_messaging"}),
        (
            "recevoir les contributions de chaque service dans un document commun",
            {"need:collaborative_workspace"},
        ),
        ("tenir notre assemblée générale en ligne avec 250 agents", {"tool:lifesize"}),
        # Co-writing said in one word; "la note" is no "c'est noté".
        ("on doit co-rédiger la note", {"need:collaborative_workspace"}),
        ("coécrire un rapport à plusieurs", {"need:collaborative_workspace"}),
        ("quelle date convient le mieux à tous pour le pot de départ", {"tool:mel", "need:email"}),
        ("le directeur veut s'adresser en direct aux 300 agents", {"tool:lifesize"}),
        (
            "on est 7, tout le monde doit suivre mes diapos pendant que je parle",
            {"need:web_conference"},
        ),
        ("matinée d'information pour environ deux cents partenaires extérieurs", {"tool:lifesize"}),
        ("qu'un collègue voie ce que je fais sur mon poste pour l'aider", {"need:web_conference"}),
        ("quel outil pour 30 personnes ?", {"clarify"}),
        ("je dois montrer un diaporama en direct à 300 personnes", {"tool:lifesize"}),
        (
            "on sera 7 et je veux voir la tête de chacun pendant qu'on discute",
            {"need:web_conference"},
        ),
        ("comment faire une conf à trois avec mon portable pro", {"tool:mobile_phone"}),
        ("la directrice veut s'adresser à ses 200 agents en même temps", {"tool:lifesize"}),
        ("je voudrais que mes 9 collègues me voient pendant la réunion", {"need:web_conference"}),
        (
            "je dois faire passer les plans du chantier, 300 Mo, à un collègue",
            {"tool:webmel_stockage", "need:collaborative_workspace"},
        ),
        (
            "montrer un tableau en direct à mes 6 collègues pendant qu'on discute",
            {"need:web_conference"},
        ),
        ("I'm abroad on mission, how can I read my ministry email from the hotel?", {"need:email"}),
        ("une réunion à cinq, chacun devant son ordi", {"need:web_conference"}),
        (
            "faire le bilan annuel de mon adjointe, confinée chez ses parents",
            {"need:web_conference"},
        ),
        (
            "en mission, je voudrais que mon chef voie ce qu'il y a sur mon ordi",
            {"need:web_conference", "tool:webconf_etat"},
        ),
        ("proposer 4 créneaux à 12 collègues et qu'ils cochent ceux qui leur vont", {"tool:mel"}),
        (
            "une trentaine d'agents suivent la réunion en écoutant et parlant, sans ordinateur",
            {"tool:audioconf_ministere"},
        ),
        (
            "un point avec l'exploitant et son avocat, nous serons donc trois en tout, et "
            "personne n'a besoin de se voir",
            {"tool:mobile_phone"},
        ),
        (
            "avec mon samsung, avoir mes deux correspondants sur la même ligne",
            {"tip:merge_calls_android"},
        ),
        # Versions that go back and forth by mail: a document to edit together.
        (
            "un tableau que trois services remplissent, on se le renvoie en pièce jointe",
            {"need:collaborative_workspace"},
        ),
        (
            "on est 6 sur le même tableau excel et on s'envoie des versions par mail",
            {"need:collaborative_workspace"},
        ),
        # A service of the DDI does not make co-editing a matter of storage.
        (
            "nous rédigeons à quatre l'arrêté avec la DDPP, chacun corrige le même fichier",
            {"need:collaborative_workspace"},
        ),
        ("retrouver les adresses de mes contacts du bureau", {"need:email", "tool:mel"}),
        # Many short messages that fill the mailboxes: a chat (the guide's Tchap).
        (
            "on se transmet plein de petites infos entre collègues, ça encombre les boîtes",
            {"need:instant_messaging", "tool:tchap"},
        ),
        (
            "dans l'équipe on se renvoie des dizaines de petits mots, nos boîtes débordent",
            {"need:instant_messaging", "tool:tchap"},
        ),
        # An "ou" in what the story quotes is no choice between needs.
        (
            "on s'envoie des dizaines de courriels pour dire ok ou je m'en occupe, ça encombre "
            "les boîtes, il existe quelque chose de plus léger ?",
            {"need:instant_messaging", "tool:tchap"},
        ),
        ("on est 6 inspecteurs, il faut qu'on se parle au téléphone", {"tool:audioconf_ministere"}),
        # A "oui ou non" is no choice, and a need denied ("sans… un mail") no option.
        (
            "juste demander oui ou non à ma collègue sans lui envoyer un mail",
            {"need:instant_messaging", "tool:tchap"},
        ),
        (
            "présenter les résultats avec des diapos à une cinquantaine de collègues",
            {"need:web_conference", "tool:webconf_etat"},
        ),
        (
            "besoin d'un shared space pour bosser en team sur les slides",
            {"need:collaborative_workspace"},
        ),
        ("un outil pour des questions rapides entre collègues", {"need:instant_messaging"}),
        ("voir mes messages du boulot sur la tablette de ma fille", {"need:email", "tool:mel"}),
        (
            "on sera vingt-deux au bout du fil pour la cellule de crise",
            {"tool:audioconf_ministere"},
        ),
        (
            "faire défiler mes tableaux devant la DAF pendant qu'on en discute, on sera six",
            {"need:web_conference", "tool:webconf_etat"},
        ),
        (
            "une conférence de presse en ligne pour environ soixante-dix journalistes",
            {"tool:lifesize"},
        ),
        (
            "montrer la carte du tracé à une douzaine d'élus, chacun restant dans sa mairie",
            {"need:web_conference", "tool:webconf_etat"},
        ),
        ("demander à trois collègues quel vendredi de juin leur convient", {"tool:mel"}),
        # "sans forcément se voir" denies the image as "sans se voir" does.
        (
            "réunir l'équipe, on est une dizaine, juste se parler au téléphone sans forcément "
            "se voir",
            {"tool:audioconf_ministere", "need:audio_conference"},
        ),
        # "depuis chez moi" is the distance of every need, not the mail's own words.
        (
            "chaque lundi je fais le point avec mes 6 agents, chacun depuis chez soi",
            {"tool:audioconf_ministere", "need:audio_conference", "need:web_conference", "clarify"},
        ),
        ("je peux lire mes mails depuis chez moi ?", {"tool:mel"}),
        # The phone's contacts are not the mail's.
        (
            "sur iphone la personne que je veux ajouter n'est pas dans mes contacts",
            {"tip:merge_calls_iphone"},
        ),
    ],
)
def test_described_situations_find_their_need(
    knowledge: Knowledge, question: str, subjects: set[str]
) -> None:
    assert str(ask(knowledge, question).subject) in subjects


@pytest.mark.parametrize(
    "question",
    [
        "mon casque audio ne fonctionne plus",
        "l'écran de mon ordinateur est cassé",
        "je veux acheter un téléphone portable",
        "réserver une salle de réunion pour jeudi",
        "où est le formulaire de remboursement",
        "ma messagerie vocale est pleine",
        "ma webcam ne fonctionne pas",
        "mon micro ne marche pas en visio",
        "comment transférer mon fixe sur mon portable",
        "numéro du support informatique",
        "quelle est l'adresse du ministère",
        "comment signaler un mail de phishing",  # "signaler" is no Signal
        "le réseau est lent au bureau",  # a network, not a network of peers
        "réserver un train pour une réunion à Lyon",
        "c'est à quel étage ?",  # "étage" is no "état" of the WebConférence de l'État
        # Situation words alone ("depuis chez moi", "session") anchor no answer beside an
        # off-topic request said in full.
        "mot de passe de ma session windows expiré, je fais comment depuis chez moi ?",
        # "rendant" is no "rendez-vous" of the agenda.
        "Je voudrais déclarer un accident de trajet survenu en me rendant à une réunion.",
        # Help asked for an off-topic request is off topic.
        "Je dois rédiger le compte rendu de la réunion d'hier, tu peux m'aider à le formuler ?",
        "bonjour vous pouvez m'aider, mon écran est cassé",
        "ma webcam n'est plus reconnue par mon pc portable",
        "le stockage de mon téléphone est plein, comment libérer de la place ?",
        # A count does not make a room booking a meeting tool's question.
        "réserver une salle de réunion pour 12 personnes",
        "comment rédiger un courrier de réponse à un usager mécontent ?",
        "je voudrais m'inscrire à une conférence sur le changement climatique à Bordeaux",
        "mon ordi pro met 10 minutes à démarrer le matin",  # no getting started
        "mon chat a marché sur le clavier et tout s'écrit en majuscules",  # no chat tool
        "où trouver le texte du décret sur le télétravail dans la fonction publique ?",
        "le fichier excel du budget plante quand j'active les macros",
        "je vais partager mon bureau avec un collègue, qui décide de l'aménagement ?",
        # A request of the domain's words ("demande") is no tool's caveat on a need guessed
        # from a verb.
        "où trouver le formulaire de demande de congés annuels ?",
        # Public communication and the documents themselves are no tool to communicate.
        "je dois rédiger un message pour la page Facebook de la préfecture",
        "comment publier une actualité sur la page d'accueil de l'intranet ?",
        "comment modifier et signer un document PDF ?",
        "quel logiciel pour monter une vidéo pour la communication ?",
        "organiser un team building pour le service en juin",
        "un filtre de confidentialité pour l'écran de mon portable",
        "où trouver le catalogue des formations de cette année ?",
        "quel resto réserver pour le déjeuner d'équipe de vendredi ?",
    ],
)
def test_off_topic_sharing_the_domains_words_abstains(knowledge: Knowledge, question: str) -> None:
    assert ask(knowledge, question).subject == S("none")


@pytest.mark.parametrize(
    "question",
    [
        # Two words the knowledge writes are no brand broken in two.
        "personne ne sera au bureau, on se voit en ligne ?",
        "visio a 15 perssonnes stp",
    ],
)
def test_two_words_join_into_no_ordinary_name(knowledge: Knowledge, question: str) -> None:
    q = read_question(question, knowledge)
    assert "personnel" not in {t for s in q.scored for t in s.matched}


def test_a_breakdown_the_guide_speaks_of_gets_its_caveat(knowledge: Knowledge) -> None:
    reply = ask(knowledge, "la webconf ne marche pas sous firefox")
    assert reply.text.startswith("WebConférence de l'État : Nous recommandons l'utilisation")
    # "la marche à suivre" is no breakdown.
    steps = ask(knowledge, "pourriez-vous m'indiquer la marche à suivre pour une audio conférence")
    assert steps.subject != S("none")


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("skalway", "tool:scaleway"),
        ("charepoin", "tool:sharepoint"),
        ("odyo conf a 5", None),
        ("tcahp", "tool:tchap"),  # two letters swapped
        ("sharepiont", "tool:sharepoint"),
        # A brand typed in two words.
        ("tic séo c'est payant", "tool:tixeo"),
        ("comment réserver une salle live size", "tool:lifesize"),
        ("os mose c'est quoi", "tool:osmose"),
        ("skelway on peu etre combien dessus", "tool:scaleway"),  # its "e" is not heard
    ],
)
def test_phonetic_spellings(knowledge: Knowledge, question: str, subject: str | None) -> None:
    reply = ask(knowledge, question)
    if subject:
        assert reply.subject == S(subject)
    else:
        assert "audio.mtes.fr" in reply.text


def test_a_common_english_word_names_no_application(knowledge: Knowledge) -> None:
    assert "WhatsApp" not in ask(knowledge, "what is the best chat app?").text
    assert ask(knowledge, "what's up").subject == S("help")


@pytest.mark.parametrize(
    ("question", "subject", "first"),
    [
        # "devait" is no "devis" (both stem to "dev"): forms of "devoir" are stopwords.
        ("on devait faire la réunion en présentiel", "need:web_conference", "WebConf"),
        ("on est devant nos écrans pour une visio", "need:web_conference", "WebConf"),
        (
            "ça devait se faire en salle, on sera 80 à devoir voir les intervenants",
            "tool:lifesize",
            "Pour 80 participants : Lifesize",
        ),
        # "on fait comment" with a need: the need's answer, not what else than a tool its
        # words only describe ("salle").
        (
            "on devait se réunir en salle, on fait comment à 20 ?",
            "need:web_conference",
            "Pour 20 participants : WebConférence de l'État",
        ),
    ],
)
def test_a_verb_of_the_message_is_no_other_request(
    knowledge: Knowledge, question: str, subject: str, first: str
) -> None:
    reply = ask(knowledge, question)
    assert reply.subject == S(subject)
    assert reply.text.startswith(first)


@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("tchap ne marche plus", "À la place de Tchap :"),
        ("la webconf ne marche plus", "À la place de WebConférence de l'État :"),
        ("la visio est en panne", "À la place de WebConférence de l'État :"),
        # Hardware that breaks down is still out of scope; a room is no virtual room.
        (
            "l'équipement de visioconférence de la salle du conseil ne s'allume pas, le"
            " boîtier reste éteint",
            "Je ne peux pas vous aider sur ce sujet",
        ),
        ("quand ont lieu les prochaines élections professionnelles ?", "Je ne peux pas"),
        ("mon écran ne marche plus", "Je ne peux pas vous aider sur ce sujet"),
        ("mon téléphone ne fonctionne plus", "Je ne peux pas vous aider sur ce sujet"),
    ],
)
def test_what_no_longer_works_asks_what_else(
    knowledge: Knowledge, question: str, first: str
) -> None:
    assert ask(knowledge, question).text.startswith(first)


def test_an_application_and_a_need_get_the_outside_offer_rule(knowledge: Knowledge) -> None:
    reply = ask(knowledge, "dropbox pour mes dossiers d'équipe")
    assert reply.subject == S("need:collaborative_workspace")
    assert "Dropbox" in reply.text and "ni dans l'offre" in reply.text
    sheets = ask(knowledge, "google sheets à plusieurs c'est ok ?")
    assert "Google Sheets" in sheets.text and "Google Docs" not in sheets.text
    # What the application is used for, where the need's title does not say it.
    # An application for voice meetings: the audio conference's tools.
    discord = ask(knowledge, "un collègue propose Discord pour nos réunions vocales à 7")
    assert discord.subject == S("need:audio_conference") and "Discord" in discord.text
    doodle = ask(knowledge, "je lance un Doodle pour caler la réunion ?")
    assert "À la place, pour les sondages de dates :" in doodle.text
    assert "mel.din.developpement-durable.gouv.fr" in doodle.text
    # A tool only described ("trouver une date": Mél's polls) does not hide the application.
    date_poll = ask(knowledge, "Doodle pour trouver une date de réunion, ça passe ?")
    assert date_poll.text.startswith("Doodle") and "ni dans l'offre" in date_poll.text
    # Each product of a family is named as asked.
    webinar = ask(knowledge, "GoToWebinar pour une conférence en ligne de 200 personnes ?")
    assert "GoToWebinar" in webinar.text and "GoToMeeting" not in webinar.text
    for question, name in [
        ("zoho workdrive pour partager les documents du service ?", "Zoho"),
        ("on peut mettre nos fichiers sur kDrive d'Infomaniak ?", "kDrive"),
        # "ou autre chose" names no tool of the guide: still the application's rule.
        ("on a un mattermost au labo, ou faut passer par autre chose pour chatter ?", "Mattermost"),
    ]:
        reply = ask(knowledge, question)
        assert reply.text.startswith(name) and "ni dans l'offre" in reply.text, question
    # The public Jitsi is not Scaleway's, which the DINUM advises instead.
    public = ask(knowledge, "l'instance publique meet.jit.si, ça passe pour une réunion à 4 ?")
    assert public.text.startswith("Jitsi Meet (instance publique") and "Scaleway" in public.text


@pytest.mark.parametrize(
    "question",
    [
        "appel vidéo avec 30 personnes",
        "what should I use for a video call with 30 people?",
        "jury de concours en visio, c'est possible ?",  # a jury is no exam registration
    ],
)
def test_a_need_named_in_words_is_not_outweighed_by_the_count_or_a_side_word(
    knowledge: Knowledge, question: str
) -> None:
    # "personnes" after a count asks nothing about the mobile's limit (2 or 3 participants).
    assert ask(knowledge, question).subject == S("need:web_conference")


def test_a_count_said_in_parts_is_said_back_in_parts(knowledge: Knowledge) -> None:
    reply = ask(knowledge, "on est 5 dans la salle et 3 à distance, quel outil ?")
    assert reply.text.startswith("Pour 5 + 3 participants : WebConférence de l'État")
    assert "5 participants" not in reply.text and "8 participants" not in reply.text


def test_a_reply_never_states_a_count_not_given(knowledge: Knowledge) -> None:
    assert "51" not in ask(knowledge, "visio pour plus de 50 personnes").text
    assert "3 participants" not in ask(knowledge, "visio au 3e étage avec l'équipe").text


@pytest.mark.parametrize(
    "question", ["combien ça coûte tixeo", "tixeo c'est combien", "tixeo c'est payant ?"]
)
def test_the_words_that_ask_an_attribute_do_not_pick_another_fact(
    question: str, knowledge: Knowledge
) -> None:
    # "combien" asks the price here: the limit caveat (topic "combien") is not the answer.
    reply, _ = answer(question, knowledge, Context(), today=TODAY)
    assert reply.text.startswith("Tixéo : La solution propose de souscrire un compte gratuit")
    assert "10 utilisateurs" not in reply.text


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("visio sur mon portable", "need:web_conference"),
        ("mail sur mon smartphone", "need:email"),
        ("audio sur mon portable", "tool:mobile_phone"),  # the phone is the audio tool
        (
            "écrire en direct à des collègues depuis mon téléphone, de façon sécurisée",
            "need:instant_messaging",
        ),
    ],
)
def test_a_phone_named_with_another_need_is_where_not_what(
    question: str, subject: str, knowledge: Knowledge
) -> None:
    reply, _ = answer(question, knowledge, Context(), today=TODAY)
    assert str(reply.subject) == subject


@pytest.mark.parametrize(
    ("question", "first"),
    [
        # The guide's order for the case, among the tools named: Scaleway is for 5 at most.
        ("tixeo ou scaleway pour 8 personnes ?", "Pour 8 participants : Tixéo"),
        ("webconf ou lifesize ?", "WebConférence de l'État"),  # Lifesize: over 50 only
        ("lifesize ou webconf pour 80", "Pour 80 participants : Lifesize"),
        ("webconf de l'état ou lifesize pour 80 personnes ?", "Pour 80 participants : Lifesize"),
        ("zoom ou webconf ?", "WebConférence de l'État"),  # Zoom: to avoid
        ("tchap ou whatsapp ?", "Tchap"),  # WhatsApp: outside both offers
        ("dropbox ou sharepoint", "SharePoint"),
        ("visio : où trouver zoom ?", "Zoom"),  # "où" asks where, it offers no choice
    ],
)
def test_a_choice_between_named_tools_follows_the_guides_order(
    question: str, first: str, knowledge: Knowledge
) -> None:
    reply, _ = answer(question, knowledge, Context(), today=TODAY)
    assert reply.text.startswith(first), reply.text[:120]


def test_asked_whether_forbidden_the_reply_says_no_opposite_verdict(knowledge: Knowledge) -> None:
    # "Non" to "interdit ?" would say Zoom is fine; the guide asks to avoid it.
    assert ask(knowledge, "zoom est-il interdit ?").text.startswith("Zoom — À éviter")
    assert ask(knowledge, "zoom c'est autorisé ?").text.startswith("Non : Zoom — À éviter")


@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("jveu fer 1 visio avk 12 perssonnes", "Pour 12 participants : WebConférence"),
        ("une réu tel avc 6 collègues", "Pour vous et 6 collègues : Service d'audio conférence"),
        ("stp aide moi pr 1 réu a distance", "Votre question peut concerner plusieurs sujets"),
        # "combien de temps" asks how long, not how many ("combien").
        ("tixeo gratui combien de tps", "Tixéo : La solution propose de souscrire un compte"),
        ("webconf de leta marche pa sur fire fox", "WebConférence de l'État : Nous recommandons"),
    ],
)
def test_sms_spellings_of_the_lexicon(knowledge: Knowledge, question: str, first: str) -> None:
    assert ask(knowledge, question).text.startswith(first)


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        # The best reading explains all another explains, and more: no ambiguity.
        ("rendez-vous téléphonique avec 2 collègues", "tool:mobile_phone"),
        ("fusionné lé apel sur andrwa", "tip:merge_calls_android"),
        ("webmail stokage", "tool:webmel_stockage"),  # more than webMél alone
        # "faire" says nothing of the medium: a meeting at a distance is still either.
        ("je veux faire une réunion à distance", "clarify"),
        # Nor does the unit of a count ("personnes", in a phrasing of calls).
        ("une réunion de 2 heures avec 25 personnes dont 10 à distance", "clarify"),
    ],
)
def test_a_reading_that_explains_more_is_no_ambiguity(
    knowledge: Knowledge, question: str, subject: str
) -> None:
    assert ask(knowledge, question).subject == S(subject)


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        # A need asked inside a tool of another need: the need's tool that lives there.
        ("discuter en direct avec mon équipe depuis le webmél", "tool:ariane"),
        ("chatter avec mes collègues dans webmel", "tool:ariane"),
        # The tool named is the need's own: nothing to look inside (the need, or the
        # tool named).
        ("envoyer un courriel depuis le webmél", "need:email tool:mel"),
    ],
)
def test_a_need_inside_a_named_tool_is_its_tool_there(
    knowledge: Knowledge, question: str, subject: str
) -> None:
    assert ask(knowledge, question).subject in {S(s) for s in subject.split()}


def test_a_count_is_said_back_only_where_it_changes_the_answer(knowledge: Knowledge) -> None:
    poll = ask(knowledge, "je dois caler une date de réunion avec 8 personnes, un sondage ?")
    assert poll.subject == S("tool:mel") and "8 participants" not in poll.text
    assert ask(knowledge, "visio pour 8").text.startswith("Pour 8 participants : ")


@pytest.mark.parametrize(
    ("question", "subject", "said", "not_said"),
    [
        ("quels outils éviter ?", "tool:zoom", ["Zoom", "risques de sécurité"], []),
        ("que faut-il éviter en visio", "tool:zoom", ["Zoom"], ["risques de sécurité"]),
        ("quelles applications sont interdites", "tool:zoom", ["Zoom"], []),
    ],
)
def test_what_to_avoid_answers_first(
    knowledge: Knowledge, question: str, subject: str, said: list[str], not_said: list[str]
) -> None:
    reply = ask(knowledge, question)
    assert reply.subject == S(subject) and reply.text.startswith("À éviter :")
    assert all(s in reply.text for s in said) and not any(s in reply.text for s in not_said)
    # A tool named is its own reply: why Zoom is to be avoided.
    assert ask(knowledge, "pourquoi éviter zoom").text.startswith("Zoom — À éviter")


def test_no_yes_the_guide_does_not_give_for_people_outside(knowledge: Knowledge) -> None:
    # The guide says Tchap is for the ministries' agents; nothing of people outside.
    outside = ask(knowledge, "on peut utiliser Tchap avec des personnes extérieures ?")
    assert outside.subject == S("tool:tchap") and not outside.text.startswith("Oui")
    assert ask(knowledge, "on peut utiliser tchap ?").text.startswith("Oui : Tchap")
    # A "Non" the guide gives stays.
    assert ask(knowledge, "zoom c'est ok avec des partenaires externes ?").text.startswith("Non")


def test_zoom_replies_say_its_rule_for_sensitive_subjects(knowledge: Knowledge) -> None:
    # The guide's own rule for Zoom goes with every reply on it, not only when asked.
    reply = ask(knowledge, "le préfet veut tenir sa réunion sur zoom, ça pose problème ?")
    assert reply.subject == S("tool:zoom")
    assert "sensibles" in reply.text.split("\n")[0]


def test_a_meeting_counted_on_a_named_need_is_in_scope_wherever_it_is(
    knowledge: Knowledge,
) -> None:
    question = "je suis au 4e étage du bâtiment B, on voudrait faire une visio à 6"
    reply = ask(knowledge, question)
    assert reply.subject in (S("need:web_conference"), S("tool:webconf_etat"))
    assert reply.text.startswith("Pour 6 participants : WebConférence de l'État")
    # Without a meeting asked, the building is still off topic.
    assert ask(knowledge, "quelle est l'adresse du bâtiment B ?").subject == S("none")


def test_a_tool_named_for_a_situation_of_its_own_need_stays_the_tool(
    knowledge: Knowledge,
) -> None:
    # "point d'équipe" is a meeting by phone or on screen: Zoom's own need is one of them.
    reply = ask(knowledge, "zoom pour le point d'équipe de lundi ?")
    assert reply.subject == S("tool:zoom")
    assert "éviter" in reply.text.split("\n")[0]


def test_no_reply_says_a_paragraph_twice(knowledge: Knowledge) -> None:
    # "tchape ... ou je le trouv": Tchap fitting the question and Tchap the advised
    # alternative of the email need once made the same line twice.
    root = Path(__file__).resolve().parents[2]
    questions = [
        c.q for path in sorted((root / "tests" / "eval").glob("*.yaml")) for c in load_set(path)[0]
    ]
    repeated = []
    for question in questions:
        paragraphs = [p for p in ask(knowledge, question).text.split("\n\n") if p.strip()]
        if len(paragraphs) != len(set(paragraphs)):
            repeated.append(question)
    assert repeated == []


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        # Common words that typo tolerance once read as a word of the guide.
        ("entre collègues on veut s'écrire vite", "need:instant_messaging"),  # entretien
        ("je dois organiser une réunion avec mon service la semaine prochaine", "clarify"),
        ("c'était pour savoir où partager des fichiers", "need:collaborative_workspace"),
    ],
)
def test_common_words_are_no_typos(knowledge: Knowledge, question: str, subject: str) -> None:
    assert str(ask(knowledge, question).subject) == subject
    matched = {t for s in read_question(question, knowledge).scored for t in s.matched}
    assert not matched & {"entretien", "seminair", "etat"}


@pytest.mark.parametrize(
    ("question", "subject", "present"),
    [
        (
            "Where can I download the government messaging app on my iPhone?",
            "tool:tchap",
            "App Store",
        ),
        ("hi, what's the web address of the webmail?", "tool:mel", "mel.din.developpement-durable"),
    ],
)
def test_english_words_agents_use(
    knowledge: Knowledge, question: str, subject: str, present: str
) -> None:
    reply = ask(knowledge, question)
    assert str(reply.subject) == subject
    assert present in reply.text


def test_a_heavy_file_the_mailbox_refuses_is_where_to_put_it(knowledge: Knowledge) -> None:
    # "boîte mail" names the email need only by words off-topic requests share: no
    # ambiguity beside a described need; the heavy archive is the Stockage tab's case.
    reply = ask(knowledge, "ma boîte mail me renvoie mon zip de 80 Mo trop lourd, je le mets où ?")
    assert reply.subject in (S("need:collaborative_workspace"), S("tool:webmel_stockage"))
    assert "Stockage" in reply.text


def test_a_tool_denied_beside_its_need_leaves_the_needs_answer(knowledge: Knowledge) -> None:
    reply = ask(knowledge, "Une visio à 12 mais pas Zoom svp, ma DDT l'a interdit.")
    assert reply.text.startswith("Pour 12 participants : WebConférence de l'État")
    # "pourquoi pas" denies nothing: it asks about Zoom.
    assert ask(knowledge, "pourquoi pas zoom ?").subject == S("tool:zoom")


def test_a_counted_meeting_beside_the_equipment_it_uses_is_in_scope(knowledge: Knowledge) -> None:
    question = (
        "Ma cheffe veut faire un point chaque matin à 9h avec les neuf chefs d'unité, chacun "
        "chez soi. Ils n'ont pas tous un ordinateur mais ils ont tous leur portable pro."
    )
    reply = ask(knowledge, question)
    assert reply.subject == S("tool:audioconf_ministere")
    assert reply.text.startswith("Pour vous et 9 collègues :")
    # Hardware asked about, with no meeting counted, is still off topic.
    assert ask(knowledge, "mon ordinateur portable pro ne démarre plus").subject == S("none")


def test_what_follows_a_contrast_is_asked(knowledge: Knowledge) -> None:
    question = (
        "J'utilise déjà Tchap et le webmél tous les jours sans problème. Par contre jeudi je "
        "dois réunir 40 collègues avec partage d'écran."
    )
    assert ask(knowledge, question).text.startswith("Pour 40 participants : WebConférence")
    # A count said before the contrast still counts; a contrast naming nothing changes nothing.
    before = ask(knowledge, "nous serons 80. En revanche il faut partager l'écran")
    assert before.text.startswith("Pour 80 participants : Lifesize")
    assert ask(knowledge, "tchap marche bien, par contre merci").subject == S("tool:tchap")


def test_a_need_said_in_many_words_outweighs_one_off_topic_word(knowledge: Knowledge) -> None:
    question = (
        "Je viens d'arriver, on m'a donné mes identifiants mais pas encore de poste de travail. "
        "J'aimerais lire mes courriels et consulter mon agenda depuis mon PC perso."
    )
    assert ask(knowledge, question).subject in (S("need:email"), S("tool:mel"))
    assert ask(knowledge, "rdv avec mon chef demain, je l'envoie comment ?").subject == S(
        "need:email"
    )


def test_which_asks_no_yes_or_no(knowledge: Knowledge) -> None:
    # "convient" asks whether, "quelle date … convient" asks which.
    reply = ask(
        knowledge, "je voudrais demander à mes collègues quelle date leur convient le mieux"
    )
    assert reply.subject in (S("tool:mel"), S("need:email"))
    assert not reply.text.startswith("Oui")
    # "convient" alone still asks whether.
    assert ask(knowledge, "tchap convient pour mon équipe ?").text.startswith("Oui : Tchap")


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("tchap plutôt que le mail ?", "tool:tchap"),  # not the alternatives to Tchap
        ("une visio à 12 plutôt que zoom", "need:web_conference"),
        ("plutôt que zoom, quoi ?", "need:web_conference"),  # the alternatives to Zoom
        # The yardstick of a wish is not what is asked, though the message names no tool.
        (
            "on se pose des questions courtes toute la journée, il faut plus rapide que le mail",
            "need:instant_messaging",
        ),
        (
            "mon tuteur préfère que je lui pose mes petites questions au fil de l'eau plutôt "
            "que de lui écrire des mails",
            "need:instant_messaging",
        ),
        # A need whose phrasing denies the word ("sans caméra") keeps it: for 15, its tool.
        (
            "réunir 15 personnes par téléphone, beaucoup n'ont pas de caméra",
            "tool:audioconf_ministere",
        ),
    ],
)
def test_what_is_preferred_to_something_else(
    knowledge: Knowledge, question: str, subject: str
) -> None:
    assert str(ask(knowledge, question).subject) == subject


@pytest.mark.parametrize(
    ("question", "first"),
    [
        (
            "ma connexion est faible, l'image se fige en réunion",
            "WebConférence de l'État : La vidéo",
        ),
        (
            "l'audioconférence du ministère accepte jusqu'à combien de personnes ?",
            "Service d'audio",
        ),
        ("une matinée d'information avec 3 intervenants et environ 80 inscrits", "Pour 3 + 80"),
        # From how many: the guide's threshold, not the booking's range.
        (
            "à partir de combien de participants passer par le service d'audio conférence "
            "plutôt que par son portable ?",
            "Service d'audio conférence du pôle ministériel : Le guide recommande ce service "
            "à partir de 4 participants",
        ),
        # A name given by the organiser to join: the WebConf's « nom de conférence ».
        (
            "l'organisateur m'a donné un nom de salle pour rejoindre sa réunion",
            "WebConférence de l'État",
        ),
        ("stockage", "Onglet « Stockage » de webMél"),  # the tab's own name
        # What it requires, not a request to send.
        (
            "le stockage du webmel ça demande quoi ?",
            "Onglet « Stockage » de webMél : Cet onglet nécessite une double authentification",
        ),
    ],
)
def test_facts_asked_in_other_words(knowledge: Knowledge, question: str, first: str) -> None:
    assert ask(knowledge, question).text.startswith(first)


@pytest.mark.parametrize(
    ("question", "services"),
    [
        ("je suis en DDT, où partager des fichiers ?", {"ddi", "services_deconcentres"}),
        ("agent de la DREAL", {"services_deconcentres"}),
        # A service worked with is the partner's, not the agent's.
        ("partager des fichiers avec la DDT", set()),
        ("une réunion avec les DDPP de la région", set()),
    ],
)
def test_the_agents_own_service_only(
    knowledge: Knowledge, question: str, services: set[str]
) -> None:
    assert read_question(question, knowledge).entities.services == services


def test_a_device_said_with_a_tool_gets_what_the_guide_says_of_devices(
    knowledge: Knowledge,
) -> None:
    reply = ask(knowledge, "webconférence de l'État depuis mon iPhone, c'est possible ?")
    assert "depuis votre mobile ou votre ordinateur" in reply.text
