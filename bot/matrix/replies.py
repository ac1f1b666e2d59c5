"""Message contents the bot sends: answers, the greeting, the undecryptable notice.

``m.notice`` (bots speak in notices: other bots do not answer them), with the HTML the
core rendered as ``formatted_body``, a reply relation to the question and, when the
question was in a thread, the same thread.

A late answer (after a restart, a long queue, or a room key that came late) is sent as
``m.text`` instead (``notifying``): Element's default push rule ``.m.rule.suppress_notices``
comes before the mention rules, so a notice never notifies, and an agent who asked a
while ago and moved on would never learn that the answer came. ``m.mentions`` names the
agent, so in a group room only they are notified.
"""

from __future__ import annotations

import html
import json
from typing import Any

from bot.core import Reply

HTML_FORMAT = "org.matrix.custom.html"

# A Matrix event may not exceed 64 KiB (Synapse refuses it with M_TOO_LARGE). Encrypted,
# the content grows by a third (base64) plus the envelope; this leaves a wide margin.
MAX_CONTENT_BYTES = 30_000
MIN_CUT = 500  # a body this short that is still too large is not cut further
CUT_NOTE = "… (réponse abrégée : posez une question plus précise pour la suite)"

UNDECRYPTABLE_TEXT = (
    "Je n'ai pas pu déchiffrer votre message. Pouvez-vous le renvoyer ? "
    "Si cela se reproduit, fermez puis rouvrez Tchap avant de réessayer."
)

# What the agent can do, by the code of a withheld key (Matrix spec, m.room_key.withheld).
WITHHELD_TEXTS = {
    "m.unverified": (
        "Je n'ai pas pu lire votre message : votre application ne m'a pas transmis sa clé, "
        "car elle ne reconnaît pas encore mon appareil comme vérifié. Renvoyez-le dans une "
        "minute ; si cela se reproduit, signalez-le à l'équipe qui administre ce service."
    ),
    "m.blacklisted": (
        "Je n'ai pas pu lire votre message : votre application a bloqué mon appareil. "
        "Débloquez-le dans les paramètres de sécurité de cette conversation, puis renvoyez "
        "votre message."
    ),
    "m.unauthorised": (
        "Je n'ai pas pu lire votre message : votre application ne m'autorise pas à lire les "
        "messages envoyés avant mon arrivée dans la conversation. Renvoyez-le maintenant."
    ),
    "m.unavailable": (
        "Je n'ai pas pu lire votre message : sa clé n'est plus disponible. Renvoyez-le."
    ),
    "m.no_olm": (
        "Je n'ai pas pu lire votre message : votre application n'a pas pu ouvrir de canal "
        "chiffré avec moi. Renvoyez-le ; si cela se reproduit, fermez puis rouvrez Tchap."
    ),
}

MEDIA_TEXT = (
    "Je ne lis que les messages écrits : posez votre question par écrit, par exemple "
    "« visio à 12 » ou « comment fusionner des appels sur iPhone »."
)
ERROR_TEXT = (
    "Désolé, une erreur est survenue en préparant la réponse. "
    "Vous pouvez reformuler votre question."
)

DENIED_TEXT = (
    "Désolé, ce service n'est pas ouvert à votre compte : je ne réponds qu'aux agents des "
    "serveurs Tchap autorisés par l'équipe qui l'administre."
)

FLOOD_TEXT = (
    "Vous m'avez envoyé beaucoup de questions à la suite : je réponds d'abord aux "
    "précédentes. Reposez les suivantes dans un instant."
)


def _notice(text: str, html_body: str) -> dict[str, Any]:
    return {"msgtype": "m.notice", "body": text, "format": HTML_FORMAT, "formatted_body": html_body}


def _relate(
    content: dict[str, Any], question_id: str, sender: str, thread_root: str | None
) -> dict[str, Any]:
    relates: dict[str, Any] = {"m.in_reply_to": {"event_id": question_id}}
    if thread_root is not None:
        # A real reply to the question inside the thread, not a fallback for clients
        # without threads: ``is_falling_back`` is false (Matrix spec, "Threading").
        relates.update({"rel_type": "m.thread", "event_id": thread_root, "is_falling_back": False})
    content["m.relates_to"] = relates
    content["m.mentions"] = {"user_ids": [sender]}
    return content


def reply_content(
    reply: Reply, question_id: str, sender: str, thread_root: str | None = None
) -> dict[str, Any]:
    return _relate(_notice(reply.text, reply.html), question_id, sender, thread_root)


def _size(content: dict[str, Any]) -> int:
    return len(json.dumps(content, ensure_ascii=False).encode())


def fit(content: dict[str, Any], *, fraction: float = 1.0) -> dict[str, Any]:
    """``content`` if it fits in ``fraction`` of ``MAX_CONTENT_BYTES``, else a copy whose
    body is cut at a line end with a note, and whose HTML is that body escaped (cutting
    the HTML itself could leave it unbalanced). A reply is never lost for its length."""
    budget = int(MAX_CONTENT_BYTES * fraction)
    if _size(content) <= budget:
        return content
    body = str(content.get("body", ""))
    others = {k: v for k, v in content.items() if k not in ("body", "formatted_body")}
    # body and its escaped HTML each take about as much: half the budget for each.
    room = max(MIN_CUT, (budget - _size(others)) // 2 - len(CUT_NOTE.encode()) - 64)
    while True:
        cut = body.encode()[:room].decode(errors="ignore")
        if "\n" in cut[len(cut) // 2 :]:
            cut = cut[: cut.rindex("\n")]
        text = cut.rstrip() + "\n" + CUT_NOTE
        result = {**others, "body": text}
        if "formatted_body" in content:
            result["formatted_body"] = "<p>" + html.escape(text).replace("\n", "<br>") + "</p>"
        if _size(result) <= budget or room <= MIN_CUT:  # escapes or multi-byte text: again
            return result
        room = max(MIN_CUT, room * 3 // 4)


def notifying(content: dict[str, Any]) -> dict[str, Any]:
    """The same reply, as a message that notifies the agent it mentions (see above)."""
    return {**content, "msgtype": "m.text"}


def greeting_content(reply: Reply) -> dict[str, Any]:
    return _notice(reply.text, reply.html)


def undecryptable_notice(
    question_id: str, sender: str, withheld: str | None = None
) -> dict[str, Any]:
    """To the sender of a message whose room key never came, or was withheld with the code
    ``withheld`` (see ``bot.matrix.crypto``)."""
    text = WITHHELD_TEXTS.get(withheld or "", UNDECRYPTABLE_TEXT)
    content = _notice(text, f"<p>{html.escape(text)}</p>")
    return _relate(content, question_id, sender, None)


def denied_notice(question_id: str, sender: str) -> dict[str, Any]:
    """Once, in a direct chat, to a sender the invitation rules refuse."""
    content = _notice(DENIED_TEXT, f"<p>{html.escape(DENIED_TEXT)}</p>")
    return _relate(content, question_id, sender, None)


def flood_notice(question_id: str, sender: str) -> dict[str, Any]:
    """To an agent over the per-agent cap of replies waiting (see the router)."""
    content = _notice(FLOOD_TEXT, f"<p>{html.escape(FLOOD_TEXT)}</p>")
    return _relate(content, question_id, sender, None)


def media_notice(question_id: str, sender: str) -> dict[str, Any]:
    """To an agent who sent the bot a photo, a file, a voice message or a location."""
    content = _notice(MEDIA_TEXT, f"<p>{html.escape(MEDIA_TEXT)}</p>")
    return _relate(content, question_id, sender, None)


def error_notice(question_id: str, sender: str, thread_root: str | None = None) -> dict[str, Any]:
    """The reply to a question whose answer could not be prepared (the handler failed)."""
    content = _notice(ERROR_TEXT, f"<p>{html.escape(ERROR_TEXT)}</p>")
    return _relate(content, question_id, sender, thread_root)
