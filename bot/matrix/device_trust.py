"""Whether an admin's command comes from a device that the admin's own identity signed.

An admin command changes what every agent is told (``recharger``) or shows what agents
asked (``non-repondues``). A stolen session or a device added by someone who got the
password is, to the bot, the admin. Element's answer is cross-signing: a device the
owner verified is signed by the owner's self-signing key. So with
``encryption.admin_trust: cross_signed`` (the default) a command runs only if:

- it came encrypted, and the Megolm session that decrypted it came from a device whose
  Curve25519 key is the event's ``sender_key`` (nio found the session under that key:
  it was received over an Olm channel with that very device);
- that device's keys, as ``/keys/query`` serves them, carry a valid signature of the
  admin's self-signing key, itself signed by the admin's master key (signedjson).

Ordinary questions are answered from any device (``encryption.trust`` is about room keys).
"""

from __future__ import annotations

import logging

from nio import AsyncClient

from bot.config import AdminTrust
from bot.matrix.identity import IdentityError, query_keys

log = logging.getLogger(__name__)


NOT_ENCRYPTED = (
    "Les commandes d'administration ne sont acceptées que dans une conversation chiffrée "
    "avec le bot. Ouvrez une conversation privée chiffrée, puis recommencez."
)
NOT_SIGNED = (
    "Commande refusée : elle vient d'une session que vous n'avez pas vérifiée. Vérifiez "
    "cette session depuis une autre de vos sessions Tchap (Paramètres > Sécurité), puis "
    "recommencez."
)
UNKNOWN_DEVICE = (
    "Commande refusée : je ne retrouve pas la session qui l'a envoyée parmi les vôtres. "
    "Recommencez dans un instant."
)
UNCHECKED = (
    "Commande refusée : je n'ai pas pu vérifier votre session auprès du serveur. "
    "Recommencez dans un instant."
)


async def refusal(
    client: AsyncClient, policy: AdminTrust, sender: str, sender_key: str | None
) -> str | None:
    """None when the command may run; else why not, in French, for the admin."""
    if policy is AdminTrust.ANY:
        return None
    if sender_key is None:
        return NOT_ENCRYPTED
    try:
        account = await query_keys(client, sender)
    except (IdentityError, OSError, TimeoutError) as exc:
        log.warning("cannot check the device of %s: %s", sender, exc)
        return UNCHECKED
    device_id = account.device_with_curve_key(sender_key)
    if device_id is None:
        log.info("admin command from %s: sending device not among theirs", sender)
        return UNKNOWN_DEVICE
    if not account.device_cross_signed(device_id):
        log.info("admin command from %s refused: device %s not cross-signed", sender, device_id)
        return NOT_SIGNED
    return None
