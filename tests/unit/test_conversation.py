"""Conversations through the pure core: the thread is kept from one message to the next.

Attribute questions on the subject under discussion, bare entities, picks after a
clarification, corrections, topic switches, details on demand; and the answer first.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.core import Context, Reply, answer
from bot.core.understand import decide
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import Knowledge
from bot.knowledge.subject import Subject

S = Subject.parse  # subjects as the evaluation sets write them

TODAY = date(2026, 11, 28)


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge(Path(__file__).resolve().parents[2] / "knowledge")


def talk(knowledge: Knowledge, *questions: str) -> list[Reply]:
    context = Context()
    replies = []
    for question in questions:
        reply, context = answer(question, knowledge, context, today=TODAY)
        replies.append(reply)
    return replies


@pytest.mark.parametrize(
    ("first", "follow_up", "subject", "fact", "not_said"),
    [
        ("scaleway", "c'est quoi le lien ?", "tool:scaleway", "ensemble.scaleway.com", "DINUM"),
        ("tixeo", "combien de participants au maximum ?", "tool:tixeo", "10 utilisateurs", "Jitsi"),
        ("tixeo", "c'est payant ?", "tool:tixeo", "30 jours", "installation"),
        ("le webmél", "il faut une validation ?", "tool:mel", "sans procédure", "Aide"),
        ("lifesize", "comment on réserve une salle ?", "tool:lifesize", "soutien-it", "serveur"),
        ("osmose", "à qui j'envoie la demande ?", "tool:osmose", "osmose.contact", "Jitsi"),
        ("ariane", "comment on l'utilise ?", "tool:ariane", "Discussions", "Tchap"),
        ("tchap", "où est-ce que je le télécharge ?", "tool:tchap", "App Store", "dimensionnée"),
        ("sharepoint", "qui peut créer un espace ?", "tool:sharepoint", "licence", "Osmose"),
        ("visio", "il faut un VPN ?", "tool:webconf_etat", "VPN", "Lifesize"),
    ],
)
def test_an_attribute_question_gets_the_one_fact_of_the_subject_under_discussion(
    knowledge: Knowledge, first: str, follow_up: str, subject: str, fact: str, not_said: str
) -> None:
    _, reply = talk(knowledge, first, follow_up)
    assert reply.subject == S(subject)
    assert fact in reply.text
    assert not_said not in reply.text  # the one fact asked, not the whole entry
    assert len(reply.text) < 400


def test_a_needed_question_is_answered_yes_or_no(knowledge: Knowledge) -> None:
    _, validation = talk(knowledge, "webmel", "il faut une validation ?")
    assert validation.text.startswith("Non : ")
    _, install = talk(knowledge, "tixeo", "faut-il installer quelque chose ?")
    assert install.text.startswith("Oui : Tixéo nécessite")  # a name keeps its capital


@pytest.mark.parametrize(
    ("tool", "question", "start", "fact"),
    [
        # A condition the guide sets for another tool: no "Oui" for this one's own.
        (
            "tixeo",
            "faut le vpn ?",
            "Le guide ne mentionne pas cette condition pour Tixéo.",
            "installation",
        ),
        ("tixeo", "il faut une licence ?", "Le guide ne mentionne pas", "installation"),
        # The tool's own condition, or the guide's sentence that answers it.
        ("webconf de l'état", "faut le vpn ?", "Oui : l'organisateur", "VPN niveau 1/2/3"),
        ("sharepoint", "il faut un vpn ?", "Non : la solution SharePoint", "depuis Internet"),
    ],
)
def test_a_needed_question_names_the_condition_it_asks(
    knowledge: Knowledge, tool: str, question: str, start: str, fact: str
) -> None:
    _, reply = talk(knowledge, tool, question)
    assert reply.text.startswith(start)
    assert fact in reply.text


def test_what_the_guide_does_not_give_is_said_so(knowledge: Knowledge) -> None:
    _, reply = talk(knowledge, "webconf de l'état", "c'est payant ?")
    assert reply.subject == S("tool:webconf_etat")
    assert reply.text.startswith("Le guide ne dit rien du prix")
    assert "webconf.numerique.gouv.fr" in reply.text


@pytest.mark.parametrize(
    ("first", "entity", "subject", "present", "absent"),
    [
        ("audio conférence", "nous serons 25", "tool:audioconf_ministere", "audio.mtes.fr", ""),
        ("audio conférence pour 3", "j'ai un iphone", "tip:merge_calls_iphone", "nouvel appel", ""),
        ("stocker des fichiers", "je suis dans une DDI", None, "Intérieur", ""),
        ("audioconf à 15", "je suis en administration centrale", None, "P2R", "localement"),
        ("audioconf à 15", "et en DREAL ?", None, "localement", "P2R"),
        ("visio", "et 150 ?", "tool:lifesize", "soutien-it", ""),
        ("tchap", "et sur iphone ?", "tool:tchap", "App Store", ""),
    ],
)
def test_a_bare_entity_refines_the_last_answer(
    knowledge: Knowledge, first: str, entity: str, subject: str | None, present: str, absent: str
) -> None:
    _, reply = talk(knowledge, first, entity)
    assert reply.subject != S("none")
    if subject:
        assert reply.subject == S(subject)
    assert present in reply.text
    if absent:
        assert absent not in reply.text


@pytest.mark.parametrize("pick", ["2", "la deuxième", "le 2e", "option 2", "la dernière"])
def test_a_pick_after_a_clarification_is_never_a_count(knowledge: Knowledge, pick: str) -> None:
    clarify, picked = talk(knowledge, "réunion à distance", pick)
    assert clarify.subject == S("clarify")
    assert picked.subject == clarify.candidates[-1 if "dernière" in pick else 1].subject
    assert "participant" not in picked.text.split("\n")[0]


def test_one_picks_the_first_option_and_is_no_count(knowledge: Knowledge) -> None:
    clarify, picked = talk(knowledge, "réunion", "1")
    assert picked.subject == clarify.candidates[0].subject
    assert "Pour 1 " not in picked.text
    first = talk(knowledge, "réunion", "le premier")[1]
    assert first.subject == clarify.candidates[0].subject
    # With a count said before, the reply is the option picked, for that count.
    clarify, picked, then = talk(
        knowledge, "on est 3, on se réunit comment ?", "1", "et sur iphone ?"
    )
    assert picked.subject == clarify.candidates[0].subject == S("need:audio_conference")
    assert picked.text.startswith("Pour 3 participants : Mobile")
    assert then.subject == S("tip:merge_calls_iphone")


def test_the_service_is_the_agents_department_not_an_email_word(knowledge: Knowledge) -> None:
    # "service de messagerie" once made "du service" an email word: a choice was asked.
    *_, docs = talk(
        knowledge,
        "je veux montrer l'appli à une nouvelle en partageant mon écran",
        "et pour lui donner accès aux docs du service ?",
    )
    assert docs.subject == S("need:collaborative_workspace")


def test_a_device_asked_of_the_webconf_gets_what_the_guide_says_of_it(
    knowledge: Knowledge,
) -> None:
    for then in ("et sur mon téléphone ?", "ça marche sur mobile ?"):
        *_, phone = talk(knowledge, "webconf de l'état", then)
        assert phone.subject == S("tool:webconf_etat")
        assert phone.text.startswith(
            "WebConférence de l'État : La web conférence peut être réalisée depuis votre mobile"
        )


def test_a_name_picks_an_option(knowledge: Knowledge) -> None:
    clarify, picked = talk(knowledge, "comment fusionner des appels ?", "iphone")
    assert clarify.subject == S("clarify")
    assert picked.subject == S("tip:merge_calls_iphone")
    assert "android" not in picked.text.lower()


@pytest.mark.parametrize(
    ("first", "correction", "subjects", "present"),
    [
        ("visio", "non, plutôt par téléphone", {"need:audio_conference"}, "audio.mtes.fr"),
        ("visio à 8", "non, finalement au téléphone", {"tool:audioconf_ministere"}, "audio"),
        (
            "fusionner des appels sur android",
            "en fait j'ai un iphone",
            {"tip:merge_calls_iphone"},
            "nouvel appel",
        ),
        ("visio à 30", "pardon, plutôt 80", {"tool:lifesize"}, "Lifesize"),
        (
            "conférence à trois sur iphone",
            "je voulais dire android",
            {"tip:merge_calls_android"},
            "Fusionner",
        ),
    ],
)
def test_a_correction_replaces_what_it_corrects(
    knowledge: Knowledge, first: str, correction: str, subjects: set[str], present: str
) -> None:
    before, after = talk(knowledge, first, correction)
    assert str(after.subject) in subjects
    assert after.text != before.text
    assert present in after.text


def test_a_topic_switch_starts_afresh(knowledge: Knowledge) -> None:
    _, mail = talk(
        knowledge, "visio à 6 avec des partenaires", "autre question : où lire mes mails ?"
    )
    assert str(mail.subject) in ("need:email", "tool:mel")
    assert "mel.din.developpement-durable.gouv.fr" in mail.text
    assert "6 participants" not in mail.text  # the count belonged to the visio


def test_details_give_the_rest_on_demand(knowledge: Knowledge) -> None:
    short, more = talk(knowledge, "visio", "détails")
    assert "détails" in short.text.splitlines()[-1]  # the closing line offers them
    assert "Zoom" not in short.text and "Zoom" in more.text
    assert more.subject == short.subject
    _, avoid = talk(knowledge, "partager des fichiers", "que faut-il éviter ?")
    assert "RGPD" in avoid.text


def test_alternatives_to_zoom_include_the_dinum_offers(knowledge: Knowledge) -> None:
    for replies in (
        talk(knowledge, "une alternative à zoom ?"),
        talk(knowledge, "zoom", "et à la place ?"),
    ):
        reply = replies[-1]
        assert reply.subject == S("need:web_conference")
        for name in ("WebConférence de l'État", "Scaleway", "Tixéo"):
            assert name in reply.text


def test_after_the_alternatives_the_thread_is_on_them(knowledge: Knowledge) -> None:
    _, instead, link = talk(
        knowledge, "tixeo pour 15 personnes ?", "alors on prend quoi ?", "et le lien ?"
    )
    assert instead.text.startswith("À la place de Tixéo")
    assert link.subject == S("tool:webconf_etat") and "webconf.numerique.gouv.fr" in link.text
    # For 70, the guide's tool for the count comes first.
    _, other = talk(knowledge, "zoom pour 70 personnes", "et sinon ?")
    assert other.text.index("Lifesize") < other.text.index("WebConférence de l'État")
    # "autre que": alternatives to the tool named.
    (chat,) = talk(knowledge, "une messagerie instantanée autre que tchap ?")
    assert chat.text.startswith("À la place de Tchap") and "Ariane" in chat.text


def test_the_first_line_answers_a_yes_no_question(knowledge: Knowledge) -> None:
    (vpn,) = talk(knowledge, "je n'ai pas de VPN, puis-je organiser une WebConférence de l'État ?")
    assert vpn.text.startswith("Non : l'organisateur doit être un agent doté d'un VPN")
    assert "Scaleway" in vpn.text  # what to use instead
    (licence,) = talk(knowledge, "je n'ai pas de licence, puis-je créer un SharePoint ?")
    assert licence.text.startswith("Non : le créateur d'un espace collaboratif")
    (join,) = talk(knowledge, "je n'ai pas de VPN, je peux participer à une webconf de l'état ?")
    assert not join.text.startswith("Non")  # the VPN is the organiser's
    (zoom,) = talk(knowledge, "est-ce que je peux utiliser zoom ?")
    assert zoom.text.startswith("Non : ")


def test_only_the_devices_tip_and_for_two_only_as_a_follow_up(knowledge: Knowledge) -> None:
    (three,) = talk(knowledge, "audio conférence pour 3")
    assert "Fusionner les appels" not in three.text and "nouvel appel" not in three.text
    (two,) = talk(knowledge, "appeler un collègue, nous sommes 2")
    assert "fusionner" not in two.text.lower()
    (android,) = talk(knowledge, "conférence à 3 sur mon samsung")
    assert "nouvel appel" not in android.text
    # One other person in one message: nothing to merge, whatever the phone.
    (pair,) = talk(knowledge, "moi et un collègue sur iphone")
    assert pair.subject == S("tool:mobile_phone") and "nouvel appel" not in pair.text
    # The phone said after the mobile's answer asks how: the guide's tip for it.
    *_, how = talk(knowledge, "audio à 2", "j'ai un iphone")
    assert how.subject == S("tip:merge_calls_iphone")
    # Merging asked: its steps.
    (merge,) = talk(knowledge, "j'ai un samsung, je veux mettre deux collègues dans le même appel")
    assert merge.subject == S("tip:merge_calls_android")


def test_replies_answer_first_and_stay_short(knowledge: Knowledge) -> None:
    for question in ("visio", "audio conférence", "partager des fichiers", "tixeo", "zoom ?"):
        (reply,) = talk(knowledge, question)
        assert len(reply.text) <= 1000, question
        assert reply.text.count("\n\n") <= 5, question


def test_small_talk_keeps_the_thread(knowledge: Knowledge) -> None:
    *_, link = talk(knowledge, "scaleway", "merci", "c'est quoi le lien ?")
    assert link.subject == S("tool:scaleway") and "ensemble.scaleway.com" in link.text


def test_a_count_said_first_asks_which_meeting_and_is_kept(knowledge: Knowledge) -> None:
    first, again, chosen = talk(knowledge, "on sera 30", "visio ou audio ?", "la visio")
    assert first.subject == S("clarify") and again.subject == S("clarify")
    assert chosen.text.startswith("Pour 30 participants : WebConférence de l'État")
    (vague,) = talk(knowledge, "on sera une vingtaine voire une trentaine")
    assert vague.subject == S("clarify")


def test_a_choice_between_two_needs_asks_which_one(knowledge: Knowledge) -> None:
    (reply,) = talk(knowledge, "visio ou audio ?")
    assert reply.subject == S("clarify")
    assert "Audio conférence" in reply.text and "Web conférence" in reply.text


def test_an_unaccented_where_is_no_choice_between_needs(knowledge: Knowledge) -> None:
    # "ou" for "où", and "en ligne" that is no visio: one need, answered.
    (reply,) = talk(knowledge, "un coin en ligne ou deposer mes fichiers")
    assert reply.subject == S("need:collaborative_workspace")
    # Nor between a tool and a need guessed from the verb after it.
    (where,) = talk(knowledge, "tchape sur andoid ou je le trouv")
    assert where.subject == S("tool:tchap")
    assert "Google Play" in where.text


def test_talking_inside_the_mailbox_is_ariane(knowledge: Knowledge) -> None:
    (reply,) = talk(knowledge, "discuter en équipe depuis ma boîte mail")
    assert reply.subject == S("tool:ariane")


def test_meeting_at_three_asks_which_meeting_not_which_phone(knowledge: Knowledge) -> None:
    # "réunir" is in the tips ("réunir deux appels") as in the needs; "endroit" no Android.
    for question in ("se réunir à 3", "un endroit pour se réunir à 3"):
        (reply,) = talk(knowledge, question)
        assert reply.subject == S("clarify")
        assert "Audio conférence" in reply.text and "Android" not in reply.text


def test_a_messaging_service_asks_which_one(knowledge: Knowledge) -> None:
    # The guide: "un service de messagerie de courriers électroniques ou une messagerie
    # instantanée". "Ma messagerie" is the mailbox.
    asked, picked = talk(knowledge, "je veux utiliser une messagerie", "le premier")
    assert asked.subject == S("clarify") and picked.subject == S("need:email")
    (mine,) = talk(knowledge, "comment j'accède à ma messagerie ?")
    assert mine.subject == S("need:email")
    (vague,) = talk(knowledge, "comment communiquer avec mes collègues ?")
    assert vague.subject == S("clarify") and "Audio conférence" in vague.text


def test_sensitivity_said_or_asked_after_an_answer(knowledge: Knowledge) -> None:
    _, said = talk(knowledge, "visio à 4 avec un prestataire", "les échanges sont confidentiels")
    assert said.subject == S("need:web_conference") and said.text.startswith("Pour 4 participants")
    _, why = talk(knowledge, "lifesize", "pourquoi ce n'est pas confidentiel ?")
    assert why.subject == S("tool:lifesize") and "serveur externe" in why.text


def test_an_or_with_nothing_after_it_asks_where(knowledge: Knowledge) -> None:
    # "jle trouve ou" is "je le trouve où": no choice between the call and the email.
    (reply,) = talk(knowledge, "tchap sur tel androi jle trouv ou")
    assert reply.subject == S("tool:tchap") and "Google Play" in reply.text


def test_does_it_work_on_a_phone_asks_the_tool_under_discussion(knowledge: Knowledge) -> None:
    _, on_iphone = talk(knowledge, "tchap", "ça marche sur iphone ?")
    assert on_iphone.subject == S("tool:tchap") and "App Store" in on_iphone.text
    # Without a tool under discussion, the guide's "Comment ça marche ?" tip.
    (tip,) = talk(knowledge, "comment ça marche sur iphone")
    assert tip.subject == S("tip:merge_calls_iphone")


def test_what_is_needed_to_get_in_is_no_yes_or_no(knowledge: Knowledge) -> None:
    _, access = talk(knowledge, "onglet stockage du webmel", "il faut quoi pour y accéder ?")
    assert access.subject == S("tool:webmel_stockage")
    assert "double authentification" in access.text and not access.text.startswith("Oui")


def test_something_other_than_the_tool_is_no_topic_switch(knowledge: Knowledge) -> None:
    _, other = talk(knowledge, "messagerie instantanée", "autre chose que tchap ?")
    assert other.text.startswith("À la place de Tchap") and "Ariane" in other.text
    _, switched = talk(knowledge, "visio à 15", "autre chose : où ranger les archives du service ?")
    assert switched.subject == S("need:collaborative_workspace")


def test_a_message_pointing_at_the_tool_is_about_it(knowledge: Knowledge) -> None:
    # "l'utiliser" is Tchap, whatever "smartphone" describes.
    _, on_pc = talk(
        knowledge,
        "parle-moi de Tchap",
        "je n'ai pas de smartphone, je peux l'utiliser sur mon ordinateur ?",
    )
    assert on_pc.subject == S("tool:tchap") and "tchap.gouv.fr" in on_pc.text
    # "dedans": the instant messaging that lives in webMél.
    _, inside = talk(knowledge, "j'utilise le webMél", "il y a une discussion instantanée dedans ?")
    assert inside.subject == S("tool:ariane")


@pytest.mark.parametrize(
    ("first", "follow_up", "subject", "fact"),
    [
        # A device of one's own, not the mobile phone tool that "personnel" describes.
        ("sharepoint", "et depuis mon pc perso ça marche ?", "tool:sharepoint", "personnel"),
        ("on a un espace alfresco", "il marche toujours ?", "tool:alfresco", "opérationnels"),
        ("on a un espace alfresco", "et pour en créer un nouveau ?", "tool:sharepoint", "usage"),
        ("parle-moi d'Ariane", "comment on s'en sert", "tool:ariane", "canal"),
        ("comment j'installe Tchap ?", "depuis ma tablette ?", "tool:tchap", "App Store"),
        ("tchap c'est quoi", "je le trouve où sur iphone", "tool:tchap", "tchap.gouv.fr"),
        ("osmose c'est quoi", "comment on y accède ?", "tool:osmose", "osmose.contact@"),
        # Whom to call when it fails, not what else to use.
        (
            "créer un espace sharepoint",
            "qui je contacte si ça marche pas ?",
            "tool:sharepoint",
            "ppcw.gpbcw.detn.uni.snum.sg@",
        ),
        # With no word on creating, the steps say how (« Créez un canal »).
        ("un fil de discussion dans le webmel", "je crée ça où ?", "tool:ariane", "canal"),
        # "depuis le webmel" of a big file: the Stockage tab, not the mail.
        (
            "envoyer un dossier de 200 Mo à un bureau d'études",
            "c'est possible depuis le webmel ?",
            "tool:webmel_stockage",
            "Stockage",
        ),
        # Whom it is for, where the guide says it in its presentation.
        ("tchap c'est quoi", "et c'est pour qui ?", "tool:tchap", "l'ensemble des agents"),
        ("osmose c'est quoi", "et c'est pour qui ?", "tool:osmose", "un agent de l'État"),
        # "cet onglet" points at what was just answered; "trouver" names no mail.
        (
            "je dois envoyer un fichier de 50 Mo",
            "où se trouve cet onglet ?",
            "tool:webmel_stockage",
            "Stockage",
        ),
        # Who takes part, after a need's answer: the tool it led with.
        (
            "co-écrire un rapport à plusieurs",
            "avec un bureau d'études extérieur, c'est possible ?",
            "tool:sharepoint",
            "externes",
        ),
        # Whether someone outside the ministry may get in: SharePoint's invitation.
        (
            "dropbox pour partager des plans avec un prestataire ?",
            "il est extérieur au ministère, il pourra y accéder ?",
            "tool:sharepoint",
            "externes",
        ),
        # "ça coupe" is no "coup de fil": the WebConf's advice on a weak connection.
        (
            "webconf.numerique.gouv.fr",
            "ça coupe tout le temps chez moi, le réseau sature",
            "tool:webconf_etat",
            "vidéo",
        ),
        (
            "partager des documents de travail",
            "avec des gens d'un autre ministère, c'est possible ?",
            "tool:sharepoint",
            "externes",
        ),
        # Not asked as a yes or no, who takes part still asks of the tool it led with.
        (
            "je cherche un espace pour partager nos fichiers",
            "et avec des gens hors ministère ?",
            "tool:sharepoint",
            "externes",
        ),
        # Help to set it up is the creation's accompaniment, not the bot's help.
        (
            "sharepoint",
            "et si je veux qu'on m'aide à le monter ?",
            "tool:sharepoint",
            "Le SNUM accompagne",
        ),
        # A file too heavy for the mail: the Stockage tab, then its authentication.
        (
            "mon fichier de 60 Mo ne passe pas par mail",
            "il faut une authentification particulière ?",
            "tool:webmel_stockage",
            "double authentification",
        ),
        # An alternative in webMél after a chat: the chat in webMél.
        (
            "messagerie instantanée",
            "il y a une alternative dans le webmél ?",
            "tool:ariane",
            "Ariane",
        ),
        # A need guessed from a word the tool says (« membres de votre équipe »).
        ("ariane", "comment j'ajoute mon équipe ?", "tool:ariane", "canal"),
        # The next step of the tip under discussion.
        (
            "comment ajouter un correspondant à un appel sur android",
            "et une fois que le deuxième a décroché ?",
            "tip:merge_calls_android",
            "Fusionner",
        ),
    ],
)
def test_a_pronoun_or_a_place_of_ones_own_points_at_the_tool(
    knowledge: Knowledge, first: str, follow_up: str, subject: str, fact: str
) -> None:
    _, reply = talk(knowledge, first, follow_up)
    assert reply.subject == S(subject) and fact in reply.text


def test_after_an_application_what_to_use_is_its_needs_answer(knowledge: Knowledge) -> None:
    _, instead = talk(
        knowledge,
        "on utilise Teams avec les collectivités pour nos réunions en visio",
        "qu'est-ce que vous recommandez alors ?",
    )
    assert instead.subject == S("need:web_conference")
    assert instead.text.startswith("WebConférence de l'État")  # not "À la place de" it


def test_a_sensitive_topic_said_of_a_tool_to_avoid_keeps_it(knowledge: Knowledge) -> None:
    _, sensitive, instead = talk(
        knowledge,
        "zoom pour une réunion avec les syndicats ?",
        "c'est un sujet sensible",
        "alors je prends quoi ?",
    )
    assert sensitive.subject == S("tool:zoom") and "sensibles" in sensitive.text
    assert instead.text.startswith("À la place de Zoom")


def test_an_off_topic_turn_in_a_thread_abstains(knowledge: Knowledge) -> None:
    # "se connecte" asks no condition of the WebConf: the headset is off topic.
    _, headset = talk(knowledge, "visio à 10", "au fait mon casque bluetooth ne se connecte plus")
    assert headset.subject == S("none")
    # A pronoun of the thread ("je le trouve où") around an off-topic request points at nothing.
    _, payslip = talk(
        knowledge, "audio conférence à 6", "et mon bulletin de paie, je le trouve où ?"
    )
    assert payslip.subject == S("none")
    _, coffee = talk(knowledge, "visio à 8", "au fait, c'est où la machine à café ?")
    assert coffee.subject == S("none")


def test_it_works_on_a_platform_gets_what_the_guide_says_of_devices(knowledge: Knowledge) -> None:
    # "il marche sur mac ?": that fact first, not the whole reply with a "Oui".
    _, mac = talk(knowledge, "la WebConférence de l'État", "il marche sur mac ?")
    assert mac.text.startswith("WebConférence de l'État : La web conférence peut être réalisée")


def test_a_newcomer_gets_the_help(knowledge: Knowledge) -> None:
    (hello,) = talk(knowledge, "bonjour, je suis nouvelle au bureau")
    assert hello.subject == S("help")  # not the iPhone's « nouvel appel »


def test_a_count_with_a_word_of_two_needs_refines_the_thread(knowledge: Knowledge) -> None:
    # "groupe" is a call's group as well as a chat's: the thread's web conference, for 6.
    reply = talk(
        knowledge, "webinaire pour 80 agents", "et pour le petit groupe de pilotage à 6 ?"
    )[-1]
    assert reply.subject in (S("need:web_conference"), S("tool:webconf_etat"))
    assert reply.text.startswith("Pour 6 participants")


def test_follow_ups_find_the_fact_their_words_point_at(knowledge: Knowledge) -> None:
    _, security = talk(
        knowledge,
        "envoyer un fichier trop lourd pour un mail",
        "il y a une sécurité particulière pour y accéder ?",
    )
    assert (
        security.subject == S("tool:webmel_stockage") and "double authentification" in security.text
    )
    _, new = talk(knowledge, "on a déjà un espace Alfresco", "et pour en ouvrir un nouveau ?")
    assert "SharePoint" in new.text.splitlines()[0]
    _, slow = talk(knowledge, "webconférence à 6", "ma connexion est faible, comment je fais ?")
    assert "La vidéo peut être désactivée" in slow.text and "VPN" not in slow.text
    _, how = talk(
        knowledge,
        "j'ai un iPhone et je veux faire une conférence téléphonique à trois",
        "comment je fais ?",
    )
    assert how.subject == S("tip:merge_calls_iphone") and "nouvel appel" in how.text


def test_elliptic_follow_ups_stay_with_the_tool(knowledge: Knowledge) -> None:
    # "mobile" here is where it runs, not the mobile phone tool.
    _, mobile = talk(knowledge, "whatsapp pour l'equipe ?", "ca marche sur mobile ?")
    assert mobile.subject == S("tool:tchap") and "Google Play" in mobile.text
    _, slow = talk(knowledge, "le lien de la webconf", "et si ca rame ?")
    assert "La vidéo peut être désactivée" in slow.text
    (down,) = talk(knowledge, "tchap est en panne, je fais comment pr discuter avec mon equipe ?")
    assert down.text.startswith("À la place de Tchap") and "Ariane" in down.text
    (count,) = talk(knowledge, "on sera 12 demain")
    assert count.subject == S("clarify")


def test_a_new_count_for_a_tool_asked_about_says_why_not(knowledge: Knowledge) -> None:
    # Asked about by name, the tool says why not for 12, then what instead: the answer for
    # 12 is the need's.
    _, twelve, instead = talk(
        knowledge, "scaleway c fiable ?", "et pr 12 ?", "c quoi l'alternative"
    )
    assert twelve.subject == S("need:web_conference") and "plus de 5 personnes" in twelve.text
    assert "webconf.numerique.gouv.fr" in instead.text
    # The need's own answer for 100 (Lifesize) starts again from the need for 15.
    _, fifteen = talk(knowledge, "visio à 100", "et à 15 ?")
    assert fifteen.text.startswith("Pour 15 participants : WebConférence de l'État")


def test_the_tool_under_discussion_keeps_its_own_questions(knowledge: Knowledge) -> None:
    _, _, invite = talk(
        knowledge,
        "je veux animer une communauté de pratique entre DREAL",
        "comment on demande ?",
        "on peut inviter des gens d'autres ministeres ?",
    )
    assert invite.subject == S("tool:osmose")
    _, agenda = talk(knowledge, "je peux lire mes mails pro depuis chez moi ?", "et mon agenda ?")
    assert agenda.subject == S("tool:mel") and "agendas" in agenda.text


def test_a_qualifier_stays_with_the_need_under_discussion(knowledge: Knowledge) -> None:
    # Alone, "avec des partenaires extérieurs" fits sharing files and a visio alike; after
    # sharing files, it asks of the space the answer led with, which takes outsiders.
    _, reply = talk(knowledge, "je veux partager des fichiers", "avec des partenaires extérieurs")
    assert reply.subject == S("tool:sharepoint") and "externes" in reply.text
    # A need word alone asks anew: which meeting?
    asked = talk(knowledge, "visio à 30 personnes", "bidulophone", "réunion")[-1]
    assert asked.subject == S("clarify")


def test_why_after_an_answer_gives_the_rest_of_it(knowledge: Knowledge) -> None:
    _, reply = talk(knowledge, "zoom c'est autorisé ?", "pourquoi ?")
    assert reply.subject == S("tool:zoom") and "failles de sécurité" in reply.text


def test_an_inverted_question_on_confidentiality_gets_the_caveat(knowledge: Knowledge) -> None:
    (reply,) = talk(knowledge, "lifesize est-il confidentiel")
    assert reply.text.startswith("Lifesize : Cette solution est hébergée sur un serveur externe")
    # A statement is no question: the topic is sensitive.
    stated = decide(
        "le sujet est confidentiel, quel outil pour une visio à 8", knowledge, Context(), TODAY
    )
    assert stated.entities.sensitive and not stated.attributes


def test_confidential_said_or_asked(knowledge: Knowledge) -> None:
    # Said, it tells the topic is sensitive; asked, it asks the tool's confidentiality.
    said = talk(knowledge, "visio à 15", "c'est confidentiel")[-1]
    assert said.subject == S("need:web_conference") and not said.text.startswith("Le guide")
    asked = talk(knowledge, "visio pour 60", "c'est confidentiel ?")[-1]
    assert asked.text.startswith("Lifesize : Cette solution est hébergée sur un serveur externe")
    # Outsiders are who takes part, not the "serveur externe" of a confidentiality caveat.
    external = talk(knowledge, "partager des fichiers", "et avec des externes ?")[-1]
    assert external.subject == S("tool:sharepoint") and "Lifesize" not in external.text


def test_a_choice_between_tools_keeps_the_count_said_before(knowledge: Knowledge) -> None:
    reply = talk(knowledge, "visio à 12", "tixeo ou scaleway ?")[-1]
    # Neither is for 12: the reply says why, and what fits.
    assert reply.text.startswith("Pour 12 participants, Scaleway (Jitsi) ne convient pas")
    assert "WebConférence de l'État" in reply.text


def test_a_fact_leading_to_another_tool_gives_what_this_one_lacks(knowledge: Knowledge) -> None:
    *_, contact = talk(
        knowledge,
        "on a un espace alfresco, on le garde ?",
        "et pour en créer un nouveau ?",
        "qui contacter ?",
    )
    assert contact.subject == S("tool:sharepoint")
    assert "ppcw.gpbcw.detn.uni.snum.sg@developpement-durable.gouv.fr" in contact.text
    # The follow-up asked what SharePoint is for: it says so, with SharePoint's own fact.
    *_, new = talk(knowledge, "alfresco", "et pour en créer un nouveau ?")
    assert new.subject == S("tool:sharepoint")
    assert new.text.startswith("Alfresco : Pour toute nouvelle création")
    assert "SharePoint : Le créateur d'un espace collaboratif" in new.text
    # Named again, the question stays Alfresco's (the reply still points to SharePoint).
    named = talk(knowledge, "alfresco je peux encore creer un nouvel espace ?")[-1]
    assert named.subject == S("tool:alfresco")
    assert "SharePoint" in named.text
    # No fact led anywhere: what the guide does not give is said so, of the tool itself.
    _, none = talk(knowledge, "webconf de l'état", "qui contacter ?")
    assert none.subject == S("tool:webconf_etat")
    assert none.text.startswith("Le guide ne donne pas de contact")


@pytest.mark.parametrize(
    ("tool", "then", "subject", "fact"),
    [
        # The words of one of the tool's caveats, after "et": that caveat, not the menu.
        ("webmel", "et l'aide ?", "tool:mel", "« Aide »"),
        ("tixeo", "et le compte ?", "tool:tixeo", "compte gratuit pour 30 jours"),
        # Another need named after the qualifier is no caveat of the tool ("audio").
        ("webconf de l'état", "non, plutôt en audio", "need:audio_conference", "audio.mtes.fr"),
    ],
)
def test_a_qualifier_and_a_caveats_words_ask_that_caveat(
    knowledge: Knowledge, tool: str, then: str, subject: str, fact: str
) -> None:
    _, reply = talk(knowledge, tool, then)
    assert reply.subject == S(subject)
    assert fact in reply.text


@pytest.mark.parametrize(
    ("first", "then", "subject", "start"),
    [
        # "un truc" is no application nothing names.
        (
            "tixeo",
            "faut installer un truc ?",
            "tool:tixeo",
            "Oui : Tixéo nécessite une installation",
        ),
        ("stockage webmel", "faut une double auth ?", "tool:webmel_stockage", "Oui : cet onglet"),
        # A platform after "et sur": the tool under discussion there, not the audio need.
        ("webconf de l'état", "et sur mon téléphone ?", "tool:webconf_etat", "WebConférence"),
        ("tchap", "ça marche sur mobile ?", "tool:tchap", "Tchap : Téléchargez Tchap"),
        (
            "webconf de l'état",
            "et si la connexion rame ?",
            "tool:webconf_etat",
            "WebConférence de l'État : La vidéo peut être désactivée",
        ),
        # "il faut …" of the tool under discussion asks its conditions, whatever it names.
        (
            "webconf de l'état",
            "il faut un compte ?",
            "tool:webconf_etat",
            "Le guide ne mentionne pas cette condition pour WebConférence de l'État.",
        ),
        ("lifesize", "il faut quoi ?", "tool:lifesize", "Le guide ne donne pas de condition"),
        # After an application outside the offers: the rule for help and security, the tool
        # offered instead for the rest.
        (
            "on me propose teams pour une visio",
            "vous fournissez de l'aide dessus ?",
            "need:web_conference",
            "Microsoft Teams : cette application",
        ),
        ("whatsapp c'est ok ?", "on peut l'utiliser sur mobile ?", "tool:tchap", "Tchap :"),
    ],
)
def test_short_follow_ups_on_the_tool_under_discussion(
    knowledge: Knowledge, first: str, then: str, subject: str, start: str
) -> None:
    _, reply = talk(knowledge, first, then)
    assert reply.subject == S(subject)
    assert reply.text.startswith(start)


def test_after_a_tool_ruled_out_for_the_count_its_replacement_leads(knowledge: Knowledge) -> None:
    _, ruled_out, link = talk(knowledge, "scaleway", "et à 12 ?", "c'est quoi le lien ?")
    assert ruled_out.subject == S("need:web_conference") and "ne convient pas" in ruled_out.text
    assert link.subject == S("tool:webconf_etat") and "webconf.numerique.gouv.fr" in link.text
    # What else than the tool asked about is still asked of it.
    *_, other = talk(knowledge, "scaleway", "et à 12 ?", "c quoi l'alternative")
    assert "webconf.numerique.gouv.fr" in other.text


@pytest.mark.parametrize(
    ("first", "then", "start"),
    [
        # What the guide does not say of the tool under discussion is said so of it: no
        # "Oui" for its plain answer, no out-of-scope menu.
        ("webconf de l'état", "on peut enregistrer ?", "Le guide ne dit rien de cela pour"),
        (
            "webconf de l'état",
            "est-ce qu'on peut enregistrer la réunion ?",
            "Le guide ne dit rien de cela pour WebConférence de l'État.",
        ),
        # The tool's own words answer: its steps create a channel.
        ("c quoi ariane dans webmel", "on peut creer un groupe ?", "Oui : Ariane"),
        # Small talk and known off-topic requests are still out of scope.
        ("webconf de l'état", "quelle heure est-il ?", "Je ne peux pas vous aider"),
        ("webconf de l'état", "et la cantine c'est ouvert ?", "Je ne peux pas vous aider"),
        # Short questions that name an attribute in other words.
        ("lifesize", "c'est où ?", "Le guide ne donne pas d'adresse web pour Lifesize."),
        ("visio à 8", "y a une appli ?", "WebConférence de l'État : Nous recommandons"),
    ],
)
def test_a_short_question_on_the_tool_stays_on_it(
    knowledge: Knowledge, first: str, then: str, start: str
) -> None:
    _, reply = talk(knowledge, first, then)
    assert reply.text.startswith(start)


def test_if_it_does_not_work_asks_what_else(knowledge: Knowledge) -> None:
    _, fallback = talk(knowledge, "whatsapp pour l'équipe c'est ok ?", "et si ça marche pas ?")
    assert fallback.text.startswith("À la place de Tchap") and "Ariane" in fallback.text


def test_a_device_asked_of_a_tool_is_its_caveat_not_the_devices_tip(knowledge: Knowledge) -> None:
    _, stores = talk(knowledge, "c'est quoi tchap ?", "et sur un telephone android ?")
    assert stores.subject == S("tool:tchap")
    assert "Google Play" in stores.text
    # A need named by its name is still asked instead, and a correction never asks a caveat
    # of what it corrects.
    _, audio = talk(knowledge, "webconf", "et en audio ?")
    assert audio.subject == S("need:audio_conference")
    _, phone = talk(knowledge, "visio à 6", "non, plutôt par téléphone")
    assert phone.subject in (S("need:audio_conference"), S("tool:audioconf_ministere"))


def test_a_webinar_is_lifesizes_word_its_count_still_decides(knowledge: Knowledge) -> None:
    webinar, booking = talk(
        knowledge, "je dois organiser un webinaire", "comment je réserve la salle ?"
    )
    assert webinar.subject == S("need:web_conference")
    assert "Lifesize" in webinar.text
    assert booking.subject == S("tool:lifesize")
    assert "soutien-it.ac@developpement-durable.gouv.fr" in booking.text
    (small,) = talk(knowledge, "webinaire pour 30 personnes")
    assert small.text.startswith("Pour 30 participants : WebConférence de l'État")
    assert "Lifesize (plus de 50 participants)" in small.text
    # Organising a visio is still the WebConférence's organiser condition.
    (visio,) = talk(knowledge, "organiser une visio")
    assert visio.subject == S("tool:webconf_etat")
    assert "VPN" in visio.text


@pytest.mark.parametrize(
    "question", ["c'est quoi ?", "ça sert à quoi exactement ?", "à quoi ça sert ?"]
)
def test_what_is_it_said_alone_describes_the_subject_under_discussion(
    knowledge: Knowledge, question: str
) -> None:
    _, described = talk(knowledge, "on m'a parlé d'osmose", question)
    assert described.subject == S("tool:osmose")
    assert "communauté" in described.text
    # "c'est quoi le lien ?" still asks the link.
    _, link = talk(knowledge, "on m'a parlé d'osmose", "c'est quoi le lien ?")
    assert link.subject == S("tool:osmose") and "communauté" not in link.text


def test_what_about_a_count_in_english_refines_the_answer(knowledge: Knowledge) -> None:
    _, bigger = talk(knowledge, "video meeting for 6 people", "what about 300?")
    assert bigger.text.startswith("Pour 300 participants : Lifesize")


def test_a_sensitive_file_said_of_the_tool_under_discussion_asks_of_it(
    knowledge: Knowledge,
) -> None:
    # "dossier" is the sensitive matter here, not a folder to share.
    _, zoom = talk(knowledge, "zoom", "c'est bon si on parle d'un dossier contentieux sensible ?")
    assert zoom.subject == S("tool:zoom")
    assert zoom.text.startswith("Non : Zoom")
    _, lifesize = talk(knowledge, "lifesize", "c'est sûr pour parler de dossiers sensibles ?")
    assert lifesize.subject == S("tool:lifesize")
    assert "confidentialité" in lifesize.text
    # A need said in words of its own is still asked.
    _, files = talk(knowledge, "tchap", "et pour stocker des documents sensibles ?")
    assert files.subject == S("need:collaborative_workspace")


def test_a_tool_of_another_need_named_alone_asks_for_the_threads_need_inside_it(
    knowledge: Knowledge,
) -> None:
    _, ariane = talk(knowledge, "messagerie instantanée", "y a pas un truc dans le webmel plutôt ?")
    assert ariane.subject == S("tool:ariane")
    _, tab = talk(knowledge, "partager des fichiers", "et dans le webmel ?")
    assert tab.subject == S("tool:webmel_stockage")
    # No tool of the thread's need lives in it: the tool itself.
    _, mel = talk(knowledge, "audio conférence", "et le webmel ?")
    assert mel.subject == S("tool:mel")


def test_words_the_tools_own_texts_say_stay_on_it(knowledge: Knowledge) -> None:
    _, steps = talk(knowledge, "ariane", "comment j'ajoute mes collègues ?")
    assert steps.subject == S("tool:ariane")
    assert "Créez un canal." in steps.text
    # After a tool whose texts do not say it, adding someone is still the calls' tips.
    _, tips = talk(knowledge, "tchap", "comment j'ajoute mes collègues ?")
    assert tips.subject == S("clarify")


def test_a_computer_asked_after_installing_tchap_gets_its_site(knowledge: Knowledge) -> None:
    _, site = talk(knowledge, "comment installer tchap ?", "et sur mon pc ?")
    assert site.subject == S("tool:tchap") and "https://www.tchap.gouv.fr" in site.text


def test_a_sous_direction_is_no_live_chat(knowledge: Knowledge) -> None:
    # "direction" stems like "direct" ("en direct", a chat word) and extends it.
    _, bigger, booking = talk(
        knowledge,
        "visio à 8",
        "finalement toute la sous-direction vient, on sera 120",
        "je réserve comment ?",
    )
    assert bigger.text.startswith("Pour 120 participants : Lifesize")
    assert booking.subject == S("tool:lifesize")


def test_a_question_in_a_caveats_words_only_gets_that_caveat(knowledge: Knowledge) -> None:
    _, home = talk(knowledge, "le P2R c'est quoi", "c'est accessible de chez moi ?")
    assert home.subject == S("tool:audioconf_ministere")
    assert "accessible depuis internet" in home.text
    _, inside = talk(
        knowledge,
        "je veux envoyer des petits messages rapides à mon équipe",
        "et sans sortir du webmél ?",
    )
    assert inside.subject == S("tool:ariane")


def test_a_yes_on_a_sensitive_topic_carries_the_guides_reserve(knowledge: Knowledge) -> None:
    _, lifesize = talk(knowledge, "lifesize", "c'est sûr pour parler d'un contentieux en cours ?")
    assert lifesize.text.startswith("Oui, avec réserve : Lifesize")
    assert "confidentialité de vos échanges n'est donc pas totalement assurée" in lifesize.text
    _, tchap = talk(knowledge, "tchap", "c'est ok pour des sujets sensibles ?")
    assert tchap.text.startswith("Oui : Tchap")
    # Said not to be sensitive, Zoom is still Zoom's answer.
    _, zoom = talk(knowledge, "zoom", "même si c'est juste un apéro d'équipe, rien de sensible ?")
    assert zoom.subject == S("tool:zoom")


def test_a_count_asked_of_a_tool_or_of_a_need(knowledge: Knowledge) -> None:
    _, scaleway = talk(knowledge, "scaleway", "ça marche pour 9 personnes ?")
    assert scaleway.text.startswith("Non, pas pour 9 participants")
    # Of the need's answer, the answer for the count, with no "Oui" to it.
    _, bigger = talk(knowledge, "webconf", "c'est bon pour 80 personnes ?")
    assert bigger.text.startswith("Pour 80 participants : Lifesize")
    # Another fact than the size is answered, whatever the count rules out.
    _, phone = talk(knowledge, "tixeo pour 15 personnes ?", "et ça marche sur smartphone ?")
    assert "smartphone" in phone.text and not phone.text.startswith("Non")


def test_a_yes_or_no_in_the_tools_words_gets_its_answer(knowledge: Knowledge) -> None:
    # « Ajoutez-y les membres de votre équipe »: "y mettre toute mon équipe" is asked there.
    _, team = talk(knowledge, "ariane", "je peux y mettre toute mon équipe ?")
    assert team.text.startswith("Oui : Ariane") and "Créez un canal." in team.text
    # A yes or no on what the guide does not say is still said so.
    _, record = talk(knowledge, "webconf de l'état", "est-ce qu'on peut enregistrer la réunion ?")
    assert record.text.startswith("Le guide ne dit rien de cela")


def test_a_tutorial_asked_gets_what_the_guide_says_of_its_help(knowledge: Knowledge) -> None:
    _, mel = talk(knowledge, "webmél", "y a un tuto ?")
    assert mel.subject == S("tool:mel") and "« Aide »" in mel.text
    # The guide names Tchap's manual with no address: no link that leads nowhere.
    _, tchap = talk(knowledge, "messagerie instantanée", "y a un tuto ?")
    assert tchap.subject == S("tool:tchap") and "manuel" not in tchap.text


def test_a_means_a_device_and_a_settled_count_after_an_answer(knowledge: Knowledge) -> None:
    # "par téléphone" is the audio conference, "sur mon téléphone" the same tool there.
    _, audio = talk(knowledge, "visio à 12", "et par téléphone ?")
    assert audio.text.startswith("Pour 12 participants : Service d'audio conférence")
    _, mel = talk(
        knowledge, "je veux lire mes courriels depuis chez moi", "sur mon téléphone perso"
    )
    assert mel.subject == S("tool:mel")
    # For three by phone, the device's tip, without the service for larger meetings.
    _, tip = talk(knowledge, "réunion téléphonique à 3 avec mon portable", "c'est un iPhone 11")
    assert tip.subject == S("tip:merge_calls_iphone") and "audio.mtes.fr" not in tip.text


def test_whom_a_tool_is_for_is_what_it_says_for_some_agents(knowledge: Knowledge) -> None:
    _, who = talk(knowledge, "P2R", "c'est pour qui ?")
    assert who.text.startswith("Service d'audio conférence du pôle ministériel : En administration")


def test_is_it_safe_asked_with_its_accent(knowledge: Knowledge) -> None:
    _, zoom = talk(knowledge, "zoom", "c'est sûr ?")
    assert zoom.text.startswith("Non : Zoom") and "sécurité" in zoom.text
    _, lifesize = talk(knowledge, "lifesize", "c'est sur ?")  # a question mark tells it too
    assert "confidentialité" in lifesize.text
    # Asked of the bot, or a preposition: no confidentiality.
    _, sure = talk(knowledge, "lifesize", "t'es sûr ?")
    assert "confidentialité" not in sure.text
    _, stores = talk(knowledge, "tchap", "c'est sur mon téléphone ?")
    assert "Google Play" in stores.text


def test_more_people_than_said_or_than_the_tool_takes(knowledge: Knowledge) -> None:
    # More than the tool under discussion takes: its limit, said back as the guide's bound.
    more = talk(knowledge, "scaleway c'est bien ?", "et si on est plus nombreux ?")[-1]
    assert more.text.startswith("Pour plus de 5 participants, Scaleway (Jitsi) ne convient pas")
    # More than the count said before; "plus" is no request for the rest of the reply.
    more = talk(knowledge, "audio à 3", "et si on est plus ?")[-1]
    assert more.subject == S("tool:audioconf_ministere")
    assert more.text.startswith("Pour plus de 3 participants")
    # Nothing said before to be more than: no count is made up.
    (alone,) = talk(knowledge, "et si on est plus nombreux ?")
    assert "participants" not in alone.text.split("\n")[0]
