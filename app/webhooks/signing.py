"""The signature scheme (documented in docs/webhooks.md, with a verification snippet).

``Binome-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``: the
timestamp is signed with the body, so a captured request cannot be replayed later than
the receiver's tolerance.
"""

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "Binome-Signature"
EVENT_ID_HEADER = "Binome-Event-Id"
EVENT_TYPE_HEADER = "Binome-Event-Type"
DELIVERY_ID_HEADER = "Binome-Delivery-Id"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (the reference for the documentation's snippet)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, timestamp, body))
