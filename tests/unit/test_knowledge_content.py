"""The shipped knowledge holds every fact of the guide, where a reply about it can say it."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest

from bot.knowledge import Category, Knowledge, Range
from bot.knowledge.loader import load_knowledge

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.fixture(scope="module")
def k() -> Knowledge:
    return load_knowledge(KNOWLEDGE)


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


def said(k: Knowledge, subject: str) -> str:
    """Every user-facing text of one entry (what a reply about it can show), folded."""
    kind, ident = subject.split(":", 1)
    parts: list[str] = []
    if kind == "tool":
        t = k.tools[ident]
        parts += [t.name, t.summary, *t.steps]
        parts += [f"{link.label} {link.url}" for link in t.links]
        parts += [f"{c.label} {c.email}" for c in t.contacts]
        parts += [f"{c.text} {c.expired_text or ''}" for c in t.caveats]
    elif kind == "need":
        n = k.needs[ident]
        parts += [n.title, n.summary, *n.notes, *(o.text for o in n.options)]
    elif kind == "tip":
        tip = k.tips[ident]
        parts += [tip.title, *tip.steps]
    elif kind == "conversation":
        c = k.conversation
        parts += [c.greeting, c.menu_intro, c.out_of_scope, c.clarify_intro]
        parts += [c.outside_offer_rule, c.source, *c.category_labels.values()]
    return fold(" ".join(parts))


FACTS: list[tuple[str, str]] = [
    # audio conference
    ("need:audio_conference", "2 ou 3 participants"),
    ("need:audio_conference", "4 participants"),
    ("need:audio_conference", "SFR"),
    ("tool:audioconf_ministere", "accessible depuis internet"),
    ("tool:audioconf_ministere", "services déconcentrés"),
    ("tool:mobile_phone", "mobile personnel ou professionnel"),
    ("tool:mobile_phone", "2 ou 3 participants"),
    ("tool:audioconf_ministere", "https://audio.mtes.fr/"),
    ("tool:audioconf_ministere", "SFR et OVH"),
    ("tool:audioconf_ministere", "3 à 50 personnes"),
    ("tool:audioconf_ministere", "P2R"),
    ("tool:audioconf_ministere", "administration centrale"),
    ("tool:audioconf_ministere", "géré localement"),
    ("tool:audioconf_ministere", "1er juillet"),
    ("tool:audioconf_ministere", "OVH a pris fin"),
    ("tool:audioconf_ministere", "reste servi par la société SFR"),
    ("tip:merge_calls_android", "répertoire téléphonique"),
    ("tip:merge_calls_android", "« Ajouter »"),
    ("tip:merge_calls_android", "mis en attente"),
    ("tip:merge_calls_android", "deuxième correspondant"),
    ("tip:merge_calls_android", "« Fusionner les appels »"),
    ("tip:merge_calls_android", "conférence téléphonique"),
    ("tip:merge_calls_iphone", "comme vous le faites d'habitude"),
    ("tip:merge_calls_iphone", "correspondant réponde"),
    ("tip:merge_calls_iphone", "+ nouvel appel"),
    ("tip:merge_calls_iphone", "carnet d'adresses"),
    ("tip:merge_calls_iphone", "taper son numéro de téléphone"),
    ("tip:merge_calls_iphone", "« Conférence » en forme de flèche"),
    # web conference
    ("need:web_conference", "mobile ou votre ordinateur"),
    ("tool:webconf_etat", "https://webconf.numerique.gouv.fr"),
    ("tool:webconf_etat", "nom de conférence communiqué par l'organisateur"),
    ("tool:webconf_etat", "VPN niveau 1/2/3"),
    ("tool:webconf_etat", "Chrome"),
    ("tool:webconf_etat", "Chromium"),
    ("tool:webconf_etat", "bande passante"),
    ("tool:webconf_etat", "partage d'écran"),
    ("tool:webconf_etat", "entretiens d'évaluation"),
    ("tool:webconf_etat", "vidéo peut être désactivée"),
    ("tool:webconf_etat", "fonction audio"),
    ("tool:lifesize", "plus de 50 participants"),
    ("tool:lifesize", "webinaires"),
    ("tool:lifesize", "salles virtuelles permanentes"),
    ("tool:lifesize", "serveur externe"),
    ("tool:lifesize", "confidentialité"),
    ("tool:lifesize", "soutien-it.ac@developpement-durable.gouv.fr"),
    ("tool:zoom", "failles de sécurité"),
    ("tool:zoom", "clandestins"),
    ("tool:zoom", "RGPD"),
    ("tool:zoom", "souveraineté des données"),
    ("tool:zoom", "cyber malveillance"),
    ("tool:zoom", "sensibles"),
    ("tool:scaleway", "DINUM"),
    ("tool:scaleway", "Jitsi"),
    ("tool:scaleway", "sans inscription"),
    ("tool:scaleway", "plus de 5 personnes"),
    ("tool:scaleway", "ensemble.scaleway.com"),
    ("tool:tixeo", "DINUM"),
    ("tool:tixeo", "30 jours"),
    ("tool:tixeo", "10 utilisateurs maximum"),
    ("tool:tixeo", "hautement sécurisée"),
    ("tool:tixeo", "installation"),
    ("tool:tixeo", "compte Tixéo pour chaque participant"),
    ("tool:tixeo", "tixeo.com"),
    ("need:web_conference", "ni l'assistance ni les conseils"),
    ("need:web_conference", "jugés sensibles"),
    # collaborative workspace
    ("need:collaborative_workspace", "partager des fichiers"),
    ("need:collaborative_workspace", "coéditer des documents"),
    ("need:collaborative_workspace", "gérer des projets"),
    ("need:collaborative_workspace", "stocker des documents"),
    ("tool:webmel_stockage", "(DDI)"),
    ("need:collaborative_workspace", "RGPD"),
    ("need:collaborative_workspace", "ni l'assistance ni les conseils"),
    ("tool:sharepoint", "accessible depuis internet"),
    ("tool:sharepoint", "ordinateur professionnel ou personnel"),
    ("tool:sharepoint", "internes ou externes"),
    ("tool:sharepoint", "licence"),
    ("tool:sharepoint", "URL"),
    ("tool:sharepoint", "ppcw.gpbcw.detn.uni.snum.sg@developpement-durable.gouv.fr"),
    ("tool:alfresco", "restent opérationnels"),
    ("tool:alfresco", "SharePoint"),
    ("tool:osmose", "communauté"),
    ("tool:osmose", "osmose.contact@developpement-durable.gouv.fr"),
    ("tool:webmel_stockage", "« Stockage »"),
    ("tool:webmel_stockage", "pièces jointes"),
    ("tool:webmel_stockage", "double authentification"),
    ("tool:webmel_stockage", "Ministère de l'Intérieur"),
    # email
    ("tool:mel", "« Mél » et « webMél »"),
    ("tool:mel", "https://mel.din.developpement-durable.gouv.fr"),
    ("tool:mel", "sans procédure de validation préalable"),
    ("tool:mel", "courriels, contacts et agendas"),
    ("tool:mel", "sondages de dates"),
    ("tool:mel", "« Aide »"),
    ("need:email", "grand nombre de courts messages"),
    ("need:email", "en complément d'une audio conférence"),
    # instant messaging
    ("tool:tchap", "https://www.tchap.gouv.fr"),
    ("tool:tchap", "Google Play"),
    ("tool:tchap", "App Store"),
    ("tool:tchap", "sécurisée"),
    ("tool:tchap", "suffisamment dimensionnée"),
    ("tool:ariane", "« Discussions »"),
    ("tool:ariane", "canal"),
    ("tool:ariane", "membres de votre équipe"),
    ("tool:ariane", "collectif de travail"),
    # conversation
    ("conversation:", "ni l'assistance ni les conseils"),
    ("conversation:", "sensibles"),
    ("conversation:", "confinement"),
    ("conversation:", "Recommandé (offre SNUM)"),
    ("conversation:", "Conseillé (offre DINUM)"),
]


@pytest.mark.parametrize(("subject", "fact"), FACTS)
def test_fact_is_said(k: Knowledge, subject: str, fact: str) -> None:
    assert fold(fact) in said(k, subject)


OPTIONS: dict[str, list[tuple[Category, str | None, Range | None]]] = {
    "audio_conference": [
        (Category.RECOMMANDE, "mobile_phone", Range(2, 3)),
        (Category.RECOMMANDE, "audioconf_ministere", Range(4, None)),
    ],
    "web_conference": [
        (Category.RECOMMANDE, "webconf_etat", None),
        (Category.RECOMMANDE, "lifesize", Range(51, None)),
        (Category.EVITER, "zoom", None),
        # "Les salons de plus de 5 personnes sont déconseillés"; "10 utilisateurs maximum".
        (Category.CONSEILLE, "scaleway", Range(None, 5)),
        (Category.CONSEILLE, "tixeo", Range(None, 10)),
        (Category.LIMITER, None, None),
        (Category.AUTREMENT, "audioconf_ministere", None),
        (Category.AUTREMENT, "ariane", None),
    ],
    "collaborative_workspace": [
        (Category.RECOMMANDE, "sharepoint", None),
        (Category.RECOMMANDE, "alfresco", None),
        (Category.EVITER, None, None),
        (Category.CONSEILLE, "osmose", None),
        (Category.LIMITER, None, None),
        (Category.AUTREMENT, "webmel_stockage", None),
    ],
    "email": [
        (Category.RECOMMANDE, "mel", None),
        (Category.CONSEILLE, "tchap", None),
        (Category.AUTREMENT, None, None),
    ],
    "instant_messaging": [
        (Category.RECOMMANDE, "tchap", None),
        (Category.CONSEILLE, "ariane", None),
    ],
}


@pytest.mark.parametrize("need", sorted(OPTIONS))
def test_options_follow_the_guide(k: Knowledge, need: str) -> None:
    got = [(o.category, o.tool, o.participants) for o in k.needs[need].options]
    assert got == OPTIONS[need]
    assert all(o.text for o in k.needs[need].options)


def test_tool_conditions(k: Knowledge) -> None:
    assert k.tools["mobile_phone"].participants == Range(2, 3)
    assert k.tools["audioconf_ministere"].participants == Range(3, 50)
    assert k.tools["lifesize"].participants == Range(51, None)
    assert k.tools["tixeo"].participants == Range(None, 10)
    # Lifesize's confidentiality is "not fully assured": said, not excluded.
    assert {t.id for t in k.tools.values() if not t.sensitive_ok} == {"zoom"}
    assert k.tools["scaleway"].participants == Range(None, 5)
    assert k.tools["zoom"].offer == "aucune"
    assert {t.id for t in k.tools.values() if t.offer == "DINUM"} == {
        "scaleway",
        "tixeo",
        "osmose",
    }
    # The OVH end date is on the caveat, not on the tool.
    audio = k.tools["audioconf_ministere"]
    assert audio.valid_until is None
    (ovh,) = [c for c in audio.caveats if c.valid_until]
    assert ovh.valid_until == date(2020, 7, 1) and ovh.expired_text
    (crowd,) = [c for c in k.tools["scaleway"].caveats if c.participants]
    assert crowd.participants == Range(6, None)
    assert all(t.valid_until is None for t in k.tools.values())
    assert "sensible" in {t for c in k.tools["zoom"].caveats for t in c.topics}
    assert "sensible" in {t for c in k.tools["lifesize"].caveats for t in c.topics}
    assert k.tools["ariane"].steps and "Discussions" in k.tools["ariane"].steps[0]
    assert set(k.tools["mobile_phone"].tips) == {"merge_calls_android", "merge_calls_iphone"}


def test_tips(k: Knowledge) -> None:
    assert k.tips["merge_calls_android"].device == "android"
    assert k.tips["merge_calls_iphone"].device == "iphone"
    assert len(k.tips["merge_calls_android"].steps) == 5
    assert len(k.tips["merge_calls_iphone"].steps) == 6
    assert "iphone" not in said(k, "tip:merge_calls_android")
    assert "android" not in said(k, "tip:merge_calls_iphone")


OUTSIDE_APPS = {
    "instant_messaging": {
        "whatsapp",
        "telegram",
        "signal",
        "messenger",
        "slack",
        "discord",
        "olvid",
        "wire",
        "viber",
        "google_chat",
        "mattermost",
        "rocket_chat",
    },
    "web_conference": {
        "teams",
        "skype",
        "skype_entreprise",
        "google_meet",
        "hangouts",
        "webex",
        "gotomeeting",
        "gotowebinar",
        "jitsi_public",
        "whereby",
        "facetime",
        "livestorm",
        "bigbluebutton",
        "bluejeans",
        "framatalk",
    },
    "collaborative_workspace": {
        "google_drive",
        "dropbox",
        "onedrive",
        "box",
        "icloud",
        "nextcloud",
        "wetransfer",
        "file_transfer",
        "trello",
        "notion",
        "google_docs",
        "google_sheets",
        "google_slides",
        "framapad",
        "miro",
        "klaxoon",
        "padlet",
        "kdrive",
        "pcloud",
        "mega",
        "zoho",
        "asana",
        "monday",
        "wimi",
    },
    "email": {
        "gmail",
        "outlook_com",
        "yahoo_mail",
        "laposte_net",
        "orange_mail",
        "protonmail",
        "google_agenda",
        "doodle",
        "framadate",
        "evento",
        "calendly",
    },
}


@pytest.mark.parametrize("need", sorted(OUTSIDE_APPS))
def test_outside_apps_by_main_need(k: Knowledge, need: str) -> None:
    main = {a.id for a in k.outside_apps.values() if a.needs[0] == need}
    assert main == OUTSIDE_APPS[need]


@pytest.mark.parametrize(
    ("app", "phrasing"),
    [
        ("whatsapp", "watsap"),
        ("whatsapp", "whatsap"),
        ("whatsapp", "what's app"),
        ("google_drive", "gg drive"),
        ("dropbox", "drop box"),
        ("wetransfer", "wetransfert"),
    ],
)
def test_outside_app_misspellings(k: Knowledge, app: str, phrasing: str) -> None:
    assert phrasing in k.outside_apps[app].phrasings


def test_no_outside_app_is_a_guide_tool(k: Knowledge) -> None:
    tool_words = {fold(p) for t in k.tools.values() for p in (t.name, *t.phrasings)}
    for app in k.outside_apps.values():
        assert not tool_words & {fold(p) for p in app.phrasings}, app.id


def test_lexicon(k: Knowledge) -> None:
    lx = k.lexicon
    for word, expansion in {"svp": "s il vous plait", "pr": "pour", "tel": "telephone"}.items():
        assert lx.abbreviations[word] == expansion
    assert {"samsung", "galaxy", "xiaomi"} <= set(lx.devices["android"])
    assert {"iphone", "ios"} <= set(lx.devices["iphone"])
    assert not set(lx.devices["android"]) & set(lx.devices["iphone"])
    assert {"sensible", "confidentiel", "diffusion restreinte"} <= set(lx.sensitive)
    assert lx.approximate_numbers["quinzaine"] == 15
    assert lx.approximate_numbers["centaine"] == 100
    assert not {"pas", "sans", "plus", "moins", "ne"} & set(lx.stopwords)
    # Keys are folded single words, as the core looks them up.
    assert all(fold(w) == w and " " not in w for w in lx.abbreviations)


def test_conversation(k: Knowledge) -> None:
    c = k.conversation
    assert {"bonjour", "aide", "help", "menu"} <= set(c.help_phrasings)
    assert {"météo", "congés", "rtt", "fiche de paie"} <= set(c.out_of_scope_phrasings)
    assert c.category_labels[Category.LIMITER].startswith("À limiter")
    for text in (c.greeting, c.out_of_scope, c.clarify_intro, c.outside_offer_rule):
        assert " tu " not in f" {fold(text)} ", "the bot says « vous »"


def test_every_tool_is_placed_in_a_need(k: Knowledge) -> None:
    placed = {o.tool for n in k.needs.values() for o in n.options}
    assert set(k.tools) <= placed


def test_phrasings_are_lower_case(k: Knowledge) -> None:
    everything = [p for n in k.needs.values() for p in n.phrasings]
    everything += [p for t in k.tools.values() for p in t.phrasings]
    everything += [p for t in k.tips.values() for p in t.phrasings]
    assert all(p == p.lower() for p in everything)
