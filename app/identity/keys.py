"""Key versions of the identity hashes.

The secret never reaches the database: it comes from ``BINOME_IDENTITY_SECRET`` (with
``BINOME_IDENTITY_KEY_VERSION``, and older keys in ``BINOME_IDENTITY_PREVIOUS_SECRETS``)
or from a file of ``version:secret`` lines (``BINOME_IDENTITY_SECRET_FILE``). The
database only registers each version's fingerprint, so that a secret configured under
the wrong version number is refused instead of silently unlinking everyone.

A new identity is hashed under every configured, non-retired key: a record referred
after a rotation still links with records hashed under the older key.
"""

import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import field_error
from app.identity.models import IdentityKey

FINGERPRINT_MESSAGE = b"binome identity key fingerprint"
NO_SECRET = (
    "identities are not accepted: this service has no identity secret "
    "(BINOME_IDENTITY_SECRET) configured"
)


class KeyConfigurationError(RuntimeError):
    """The configured keys disagree with the versions registered in the database."""


@dataclass(frozen=True)
class Key:
    version: int
    secret: bytes = field(repr=False)

    def digest(self, message: bytes) -> str:
        return hmac.digest(self.secret, message, "sha256").hex()  # the one-shot C path

    @property
    def fingerprint(self) -> str:
        return self.digest(FINGERPRINT_MESSAGE)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _pairs(text: str, origin: str) -> list[Key]:
    keys = []
    for item in text.replace("\n", ",").split(","):
        item = item.strip()
        if not item or item.startswith("#"):
            continue
        version, sep, secret = item.partition(":")
        if not sep or not version.strip().isdigit() or not secret.strip():
            raise KeyConfigurationError(f"{origin}: expected version:secret entries")
        keys.append(Key(int(version), secret.strip().encode()))
    return keys


def configured(settings: Settings) -> list[Key]:
    """The configured keys, the current one first (empty: no secret configured)."""
    if settings.identity_secret_file:
        path = Path(settings.identity_secret_file)
        keys = _pairs(path.read_text(), str(path)) if path.exists() else []
        keys.sort(key=lambda key: -key.version)
    else:
        keys = []
        if settings.identity_secret is not None:
            current = settings.identity_secret.get_secret_value()
            keys.append(Key(settings.identity_key_version, current.encode()))
            if settings.identity_previous_secrets is not None:
                previous = settings.identity_previous_secrets.get_secret_value()
                keys.extend(
                    sorted(
                        _pairs(previous, "BINOME_IDENTITY_PREVIOUS_SECRETS"),
                        key=lambda key: -key.version,
                    )
                )
    versions = [key.version for key in keys]
    if len(set(versions)) != len(versions):
        raise KeyConfigurationError("an identity key version is configured twice")
    return keys


def usable(session: Session, settings: Settings) -> list[Key]:
    """The configured keys that are not retired, registered on first use; the current
    one first. A 422 naming ``identity`` when no secret is configured."""
    keys = configured(settings)
    if not keys:
        raise field_error("identity", NO_SECRET)
    out = []
    for key in keys:
        row = register(session, key)
        if row.retired_at is None:
            out.append(key)
    if not out or out[0].version != keys[0].version:
        raise KeyConfigurationError(f"the current identity key {keys[0].version} is retired")
    return out


def register(session: Session, key: Key) -> IdentityKey:
    """The version's registration; a first use registers it (a concurrent first use of
    the same key is harmless: the unique fingerprint settles it)."""
    row = session.get(IdentityKey, key.version)
    if row is None:
        try:
            with session.begin_nested():
                session.add(IdentityKey(version=key.version, fingerprint=key.fingerprint))
        except IntegrityError:
            pass
        row = session.get(IdentityKey, key.version)
        if row is None:
            raise KeyConfigurationError(
                f"identity key {key.version}: this secret is registered under another version"
            )
    if not hmac.compare_digest(row.fingerprint, key.fingerprint):
        raise KeyConfigurationError(
            f"identity key {key.version}: the configured secret is not the one registered "
            "under this version"
        )
    return row


def oldest_active_version(session: Session) -> int | None:
    """The key version every linked record has a hash under (see ``app.identity.sql``)."""
    return session.scalar(
        select(IdentityKey.version)
        .where(IdentityKey.retired_at.is_(None))
        .order_by(IdentityKey.version)
        .limit(1)
    )
