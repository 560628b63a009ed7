"""API keys: every ``/v1`` request carries one (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``).

A key belongs to one tenant; only its sha256 is stored (see :func:`service.storage.hash_key` for why a fast
hash is right for 256-bit random keys). A missing, unknown or revoked key answers 401.
"""

from __future__ import annotations

from flask import current_app, g, request

from service.errors import ApiError


def presented_key() -> str | None:
    """The key the request carries, if any."""
    auth = request.headers.get("Authorization", "")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = request.headers.get("X-API-Key", "").strip()
    return key or None


def require_key() -> None:
    """``before_request`` hook of the API blueprint: sets ``g.tenant_id`` or answers 401."""
    key = presented_key()
    challenge = {"WWW-Authenticate": 'Bearer realm="matchmaker"'}
    if key is None:
        raise ApiError(401, "missing API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY' "
                            "(create one with 'matchmaker keys create TENANT')", headers=challenge)
    tenant_id = current_app.extensions["matchmaker"].store.tenant_for_key(key)
    if tenant_id is None:
        raise ApiError(401, "invalid or revoked API key", headers=challenge)
    g.tenant_id = tenant_id
