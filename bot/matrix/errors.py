"""Sorting homeserver errors: what to retry, how, and what must stop the bot."""

from __future__ import annotations

from typing import Any

from nio import ErrorResponse

# Errors that no retry will fix: the operator must act (new token, renewed account...).
AUTH_ERRCODES = {
    "M_UNKNOWN_TOKEN": "the access token is invalid or has been revoked",
    "M_MISSING_TOKEN": "no access token was sent",
    "ORG_MATRIX_EXPIRED_ACCOUNT": "the account has expired and must be renewed",
    "M_USER_DEACTIVATED": "the account has been deactivated",
}


class FatalAuthError(Exception):
    """The homeserver refuses the bot's credentials: stop with this message."""


def http_status(response: Any) -> int | None:
    transport = getattr(response, "transport_response", None)
    status = getattr(transport, "status", None)
    return status if isinstance(status, int) else None


def is_matrix_error(response: ErrorResponse) -> bool:
    """Whether the homeserver itself answered (a Matrix error code), not a proxy's page."""
    return bool(response.status_code)


def retry_wait(response: ErrorResponse, max_retry_after: float) -> float | None:
    """Seconds to wait at least before retrying ``response``'s request, or None when it is
    a refusal that no retry can change (a Matrix error code other than a rate limit)."""
    status = http_status(response)
    if response.status_code == "M_LIMIT_EXCEEDED" or status == 429:
        return min((response.retry_after_ms or 0) / 1000, max_retry_after)
    if not is_matrix_error(response) or (status is not None and (status >= 500 or status == 408)):
        return 0.0
    return None


def classify(response: ErrorResponse) -> str:
    """One of ``auth``, ``rate_limited``, ``http_5xx``, ``other`` (metrics' sync error kinds).
    ``auth`` only with a Matrix error code: a 401 page from a proxy is a network fault."""
    status = http_status(response)
    if response.status_code in AUTH_ERRCODES or (status == 401 and is_matrix_error(response)):
        return "auth"
    if response.status_code == "M_LIMIT_EXCEEDED" or status == 429:
        return "rate_limited"
    if status is None or status >= 500:
        return "http_5xx"
    return "other"


def auth_message(response: ErrorResponse) -> str:
    code = response.status_code or str(http_status(response))
    reason = AUTH_ERRCODES.get(code, "the homeserver refused the credentials")
    return f"{reason} ({code}: {response.message})"


class StateWriteError(Exception):
    """The state database could not be written while running: the bot stops (exit 3)."""
