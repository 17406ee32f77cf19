"""Rotating the identity secret, and the demo's own secret.

Re-keying a hash needs the clear values, which the service never keeps: a rotation adds
a key version instead. Records keep their hashes under the older keys (still linked);
every identity given from then on is hashed under the new key *and* the older ones still
configured, so new referrals link with old ones. Retiring a version deletes its hashes:
records that only have a hash under it (not re-referred since the rotation) lose their
links, so a version is retired once every record concerned was re-referred.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db import utcnow
from app.identity.keys import Key, KeyConfigurationError, configured, new_secret, register
from app.identity.models import IdentityDigest, IdentityKey


@dataclass(frozen=True)
class Rotated:
    key: Key
    previous: list[Key]
    secret_file: Path | None


def _write_keys(path: Path, keys: list[Key]) -> None:
    lines = [
        f"{key.version}:{key.secret.decode()}" for key in sorted(keys, key=lambda k: -k.version)
    ]
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("\n".join(lines) + "\n")
    temporary.chmod(0o600)
    temporary.replace(path)


def rotate(session: Session, settings: Settings, secret_file: Path | None) -> Rotated:
    """Register a new key version; the caller commits. With a key file, the new key is
    written to it (the older ones kept); otherwise the caller prints the new settings."""
    keys = configured(settings)
    registered = session.scalar(select(func.max(IdentityKey.version))) or 0
    version = max([registered, *(k.version for k in keys)]) + 1
    key = Key(version, new_secret().encode())
    for old in keys:  # the configured keys must be the registered ones
        register(session, old)
    register(session, key)
    active = {
        row.version
        for row in session.scalars(select(IdentityKey).where(IdentityKey.retired_at.is_(None)))
    }
    previous = [k for k in keys if k.version in active]
    if secret_file is not None:
        _write_keys(secret_file, [key, *previous])
    return Rotated(key, previous, secret_file)


def retire(session: Session, settings: Settings, version: int, secret_file: Path | None) -> int:
    """Retire a key version: its hashes are deleted. Returns how many records had no
    other hash (they are no longer linked until re-referred)."""
    keys = configured(settings)
    if keys and keys[0].version == version:
        raise KeyConfigurationError(f"key {version} is the current key: rotate first")
    row = session.get(IdentityKey, version, with_for_update=True)
    if row is None:
        raise KeyConfigurationError(f"no identity key version {version}")
    others = select(IdentityDigest.identity_id).where(IdentityDigest.key_version != version)
    orphaned = session.scalar(
        select(func.count())
        .select_from(IdentityDigest)
        .where(IdentityDigest.key_version == version, IdentityDigest.identity_id.not_in(others))
    )
    session.execute(delete(IdentityDigest).where(IdentityDigest.key_version == version))
    row.retired_at = row.retired_at or utcnow()
    if secret_file is not None and secret_file.exists():
        _write_keys(secret_file, [k for k in keys if k.version != version])
    return int(orphaned or 0)


def demo_secret_file(database_url: str) -> Path:
    """Where the demo keeps the identity key of its database: beside a SQLite file
    (``binome.db`` → ``binome.db.identity-keys``), else in the working directory."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(f"{url.database}.identity-keys")
    return Path("binome-demo.identity-keys")


def ensure_demo_secret() -> Path | None:
    """With no identity secret configured, the demo creates one for its own database
    (once; later starts find it again) and configures this process (and the processes
    it starts) to use it: in ``BINOME_IDENTITY_SECRET_FILE`` when it names a file that
    does not exist yet, else in ``demo_secret_file``. Returns the key file used, if any."""
    settings = get_settings()
    if configured(settings):
        return Path(settings.identity_secret_file) if settings.identity_secret_file else None
    path = Path(settings.identity_secret_file or demo_secret_file(settings.database_url))
    if not path.exists():
        _write_keys(path, [Key(1, new_secret().encode())])
    os.environ["BINOME_IDENTITY_SECRET_FILE"] = str(path.resolve())
    get_settings.cache_clear()
    return path
