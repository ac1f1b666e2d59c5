"""User-interactive authentication (UIA) for the few requests that need it.

Replacing the bot's cross-signing keys and deleting devices ask the account's owner to
prove who they are. Two ways exist today:

- ``m.login.password``: the homeserver checks the account's password (Synapse's own
  accounts);
- ``m.oauth`` (unstable ``org.matrix.cross_signing_reset``, MSC4312): the homeserver
  delegates authentication (Matrix Authentication Service, where Tchap is going). It gives
  a URL where the owner approves the action in a browser; the request is then retried
  with only the UIA session.

Anything else is refused with the stages named, so an operator knows what was asked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.matrix.raw_api import ApiResult

PASSWORD = "m.login.password"
OAUTH_STAGES = ("m.oauth", "org.matrix.cross_signing_reset")

Request = Callable[[dict[str, Any] | None], Awaitable[ApiResult]]
# The account's password, asked for only when the homeserver offers that flow.
Password = Callable[[], str | None]
# Shows the approval URL to the operator and returns once they say it is done.
Approve = Callable[[str], Awaitable[None]]


class UiaError(Exception):
    """The homeserver asks for an authentication this bot cannot give."""


def _stages(body: dict[str, Any]) -> list[list[str]]:
    flows = body.get("flows")
    if not isinstance(flows, list):
        return []
    return [
        [str(s) for s in flow.get("stages", [])]
        for flow in flows
        if isinstance(flow, dict) and isinstance(flow.get("stages"), list)
    ]


def needs_auth(result: ApiResult) -> bool:
    """A 401 that opens a UIA session (not a refused access token)."""
    return result.status == 401 and "flows" in result.body


async def authenticated(
    request: Request,
    *,
    user_id: str,
    password: Password,
    approve: Approve | None,
) -> ApiResult:
    """``request(None)``; if the homeserver asks for UIA, complete one single-stage flow
    (password, or the OAuth approval) and retry. Returns the final result."""
    first = await request(None)
    if not needs_auth(first):
        return first
    session = first.body.get("session")
    flows = _stages(first.body)
    if [PASSWORD] in flows:
        secret = password()
        if secret is None:
            raise UiaError(
                "the homeserver asks for the account's password (m.login.password); "
                "set TCHAP_BOT_PASSWORD or secrets.password_file, or type it when asked"
            )
        auth = {
            "type": PASSWORD,
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": secret,
            "session": session,
        }
        return await request(auth)
    for stage in OAUTH_STAGES:
        if [stage] in flows:
            params = first.body.get("params", {}).get(stage, {})
            url = params.get("url") if isinstance(params, dict) else None
            if not isinstance(url, str):
                raise UiaError(f"the homeserver asks for an approval ({stage}) without a URL")
            if approve is None:
                raise UiaError(
                    f"the homeserver asks the account's owner to approve this at {url}; "
                    "run the command in a terminal to be guided"
                )
            await approve(url)
            return await request({"session": session})
    shown = " or ".join("+".join(f) for f in flows) or "none"
    raise UiaError(f"the homeserver asks for an authentication this bot cannot do ({shown})")
