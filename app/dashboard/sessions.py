"""Dashboard sessions: a signed, expiring token naming an API key, never the key itself.

The token is ``<key id>.<expiry>.<signature>``; the signature is an HMAC-SHA256 keyed
with the setting ``session_secret`` and the key's stored digest. The digest never
leaves the server, so nobody can forge a token without the database; with the secret
set, the database alone is not enough either. Revoking the API key ends its sessions,
and every worker process verifies tokens alike without sharing any state.
"""

import base64
import hashlib
import hmac
import time
import uuid

from sqlalchemy.orm import Session

from app.auth.models import ApiKey
from app.auth.service import Caller, authenticate
from app.config import get_settings

COOKIE = "binome_session"


def _signature(key: ApiKey, message: str) -> str:
    secret = get_settings().session_secret.encode() + key.digest.encode()
    mac = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def sign_in(session: Session, plaintext: str) -> tuple[Caller, str, int]:
    """Authenticate a key (401 when unknown or revoked); the caller, a session token
    and its lifetime in seconds."""
    caller = authenticate(session, plaintext)
    key = session.get(ApiKey, caller.key_id)
    assert key is not None  # authenticate just found it
    lifetime = int(get_settings().session_hours * 3600)
    message = f"{key.id}.{int(time.time()) + lifetime}"
    return caller, f"{message}.{_signature(key, message)}", lifetime


def caller_of(session: Session, token: str | None) -> Caller | None:
    """The caller a token stands for, or ``None`` when it is malformed, forged, expired
    or its key revoked."""
    if not token:
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return None
    key_id, expiry, signature = parts
    try:
        key = session.get(ApiKey, uuid.UUID(key_id))
        expires = int(expiry)
    except ValueError:
        return None
    if key is None or key.revoked_at is not None or expires < time.time():
        return None
    if not hmac.compare_digest(signature, _signature(key, f"{key_id}.{expiry}")):
        return None
    return Caller(key_id=key.id, organisation_id=key.organisation_id, role=key.role)
