"""``POST /v1/supports/import``: supports declared by identity, in bulk.

The conventions of the other imports (``app.imports``): CSV or JSON, upsert by the
provider's ``external_id``, atomic or partial, row errors naming the column, reports and
``Idempotency-Key``. Each row names the person by identity (hashed, never kept), a need
and dates; the importing organisation provides and records the support. Rows are
validated one by one and written in batches with a few multi-row statements.
"""

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import String, any_, bindparam, delete, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from app.auth.service import Caller
from app.config import get_settings
from app.db import utcnow
from app.errors import ValidationFailed, field_error
from app.fields import ExternalId
from app.identity import service as identity
from app.identity.keys import Key, usable
from app.identity.models import Identity, IdentityDigest
from app.identity.schemas import IdentityIn
from app.imports import bulk
from app.imports.columns import column_for
from app.imports.service import Outcome, RowError, _storable
from app.imports.sources import SourceRow
from app.imports.vocabulary import ImportFormat, ImportKind, ImportMode
from app.problems import field_path
from app.programmes.models import Programme
from app.supports.models import Support
from app.vocabulary import Need

COMPARED = ("need", "start_date", "end_date", "programme_id")


class SupportRow(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    external_id: ExternalId
    identity: IdentityIn
    need: Need
    start_date: date
    end_date: date | None = None
    programme_id: uuid.UUID | None = Field(default=None)

    @field_validator("end_date")
    @classmethod
    def _dates(cls, end: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if end is not None and start is not None and end < start:
            raise ValueError("must not be before start_date")
        return end


class SupportImporter:
    """Same interface as ``app.imports.service.Importer``: ``run(rows) -> Outcome``."""

    def __init__(
        self,
        session: Session,
        caller: Caller,
        *,
        kind: ImportKind,
        organisation_id: uuid.UUID,
        mode: ImportMode,
        file_format: ImportFormat,
        deactivate_missing: bool,
        batch_size: int,
        max_errors: int,
    ) -> None:
        if deactivate_missing:
            raise field_error(
                "deactivate_missing", "not available for supports: end them with end_date"
            )
        self.session = session
        self.caller = caller
        self.organisation_id = organisation_id
        self.mode = mode
        self.format = file_format
        self.batch_size = batch_size
        self.max_errors = max_errors
        self.outcome = Outcome()
        self.writing = True
        self.seen: dict[str, int] = {}
        self._batch: list[tuple[int, SupportRow, identity.Digests]] = []
        self._rejected: set[int] = set()
        self._keys: list[Key] | ValidationFailed | None = None
        self._programmes: dict[uuid.UUID, bool] = {}
        self._now = utcnow()

    def run(self, rows: Iterable[SourceRow]) -> Outcome:
        for source in rows:
            self.outcome.rows += 1
            self._take(source)
            if len(self._batch) >= self.batch_size:
                self._flush()
        self._flush()
        if self.outcome.rejected and self.mode is ImportMode.ATOMIC:
            self.writing = False
        if not self.writing:
            self.outcome.created = self.outcome.updated = self.outcome.unchanged = 0
        self.outcome.errors.sort(key=lambda error: error["row"])
        return self.outcome

    def _take(self, source: SourceRow) -> None:
        row, record = source.row, source.record
        external_id = record.get("external_id") if isinstance(record, dict) else None
        external_id = external_id if isinstance(external_id, str) and external_id else None
        if external_id is not None:
            first = self.seen.setdefault(external_id, row)
            if first != row:
                self._reject(
                    row,
                    "external_id",
                    f"external_id {external_id!r} already appears on row {first}",
                    external_id,
                )
                return
        for column, message in source.problems:
            self._reject(row, column, message, external_id)
        if record is None or source.problems:
            return
        try:
            data = SupportRow.model_validate(record)
        except PydanticValidationError as exc:
            for error in exc.errors():
                message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
                self._reject(row, field_path(tuple(error.get("loc", ()))), message, external_id)
            return
        keys = self._usable_keys()
        if isinstance(keys, ValidationFailed):
            for e in keys.errors:
                self._reject(row, e["field"], e["message"], external_id)
            return
        self._batch.append((row, data, identity.digests(keys, data.identity)))

    def _usable_keys(self) -> list[Key] | ValidationFailed:
        if self._keys is None:
            try:
                self._keys = usable(self.session, get_settings())
            except ValidationFailed as exc:
                self._keys = exc
        return self._keys

    def _reject(self, row: int, path: str | None, message: str, external_id: str | None) -> None:
        error: RowError = {"row": row}
        if self.format is ImportFormat.CSV:
            error["column"] = column_for(path, ImportKind.SUPPORTS) if path else None
        if path and path != "body":
            error["field"] = _storable(path)
        error["message"] = _storable(message)
        if external_id is not None:
            error["external_id"] = _storable(external_id)
        if len(self.outcome.errors) < self.max_errors:
            self.outcome.errors.append(error)
        else:
            self.outcome.errors_truncated = True
        if row not in self._rejected:
            self._rejected.add(row)
            self.outcome.rejected += 1
        if self.mode is ImportMode.ATOMIC:
            self.writing = False

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        batch = self._known_programmes(batch)
        if batch and self.writing:
            self._write(batch)

    def _known_programmes(
        self, batch: list[tuple[int, SupportRow, identity.Digests]]
    ) -> list[tuple[int, SupportRow, identity.Digests]]:
        wanted = {d.programme_id for _, d, _ in batch if d.programme_id is not None}
        unknown = wanted - self._programmes.keys()
        if unknown:
            found = set(self.session.scalars(select(Programme.id).where(Programme.id.in_(unknown))))
            self._programmes.update((pid, pid in found) for pid in unknown)
        kept = []
        for item in batch:
            _, data, _ = item
            if data.programme_id is not None and not self._programmes[data.programme_id]:
                self._reject(
                    item[0],
                    "programme_id",
                    f"unknown programme {data.programme_id}",
                    data.external_id,
                )
            else:
                kept.append(item)
        return kept

    def _member(self, external_ids: list[str]) -> ColumnElement[bool]:
        """``external_id IN (...)``; on PostgreSQL ``= ANY(array)``: one parameter, and a
        statement text that does not grow with the batch (as ``app.imports`` does)."""
        if bulk.is_postgres(self.session):
            array = bindparam("external_ids", external_ids, type_=ARRAY(String()))
            return Support.external_id == any_(array)
        return Support.external_id.in_(external_ids)

    def _write(self, batch: list[tuple[int, SupportRow, identity.Digests]]) -> None:
        table = Support.__table__
        current_version = max(batch[0][2])  # the current key has the highest version
        # external id -> (support id, mentee id, identity id, hash under the current key,
        # *COMPARED)
        stored: dict[str, tuple[Any, ...]] = {}
        for start in range(0, len(batch), 5000):
            chunk = [d.external_id for _, d, _ in batch[start : start + 5000]]
            query = (
                select(
                    Support.external_id,
                    Support.id,
                    Support.mentee_id,
                    Identity.id,
                    IdentityDigest.digest,
                    *(table.c[n] for n in COMPARED),
                )
                .outerjoin(Identity, Identity.support_id == Support.id)
                .outerjoin(
                    IdentityDigest,
                    (IdentityDigest.identity_id == Identity.id)
                    & (IdentityDigest.key_version == current_version),
                )
                .where(Support.provider_id == self.organisation_id, self._member(chunk))
            )
            stored.update((row[0], tuple(row[1:])) for row in self.session.execute(query))
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        identities: list[dict[str, Any]] = []
        digests: list[dict[str, Any]] = []
        rehashed: list[uuid.UUID] = []
        for row, data, hashes in batch:
            values = {
                "need": data.need.value,
                "start_date": data.start_date,
                "end_date": data.end_date,
                "programme_id": data.programme_id,
            }
            current = stored.get(data.external_id)
            if current is None:
                support_id, identity_id = uuid.uuid4(), uuid.uuid4()
                inserts.append(
                    {
                        "id": support_id,
                        "organisation_id": self.organisation_id,
                        "provider_id": self.organisation_id,
                        "mentee_id": None,
                        "external_id": data.external_id,
                        "created_at": self._now,
                        "updated_at": self._now,
                        **values,
                    }
                )
                identities.append(
                    {
                        "id": identity_id,
                        "support_id": support_id,
                        "mentee_id": None,
                        "mentor_id": None,
                        "detached_at": None,
                        "detached_reason": None,
                        "created_at": self._now,
                        "updated_at": self._now,
                    }
                )
                digests.extend(
                    {"identity_id": identity_id, "key_version": v, "digest": h}
                    for v, h in hashes.items()
                )
                self.outcome.created += 1
                continue
            support_id, mentee_id, identity_id, digest = current[:4]
            if mentee_id is not None:
                self._reject(
                    row,
                    "external_id",
                    "this external_id names a support recorded on a young person's record",
                    data.external_id,
                )
                continue
            same_person = identity_id is not None and digest == hashes[current_version]
            changed = dict(zip(COMPARED, current[4:], strict=True)) != values
            if changed or not same_person:
                updates.append({"b_id": support_id, "updated_at": self._now, **values})
                self.outcome.updated += 1
            else:
                self.outcome.unchanged += 1
            if not same_person:
                rehashed.append(support_id)
                digests.extend(
                    {"support_id": support_id, "key_version": v, "digest": h}
                    for v, h in hashes.items()
                )
        bulk.insert_rows(self.session, table, inserts)  # type: ignore[arg-type]
        bulk.update_rows(self.session, table, updates, key="b_id")  # type: ignore[arg-type]
        bulk.insert_rows(self.session, Identity.__table__, identities)  # type: ignore[arg-type]
        if rehashed:
            # The identity of an existing support may have been corrected: its hashes are
            # replaced (the identity row stays).
            owners = dict(
                self.session.execute(
                    select(Identity.support_id, Identity.id).where(
                        Identity.support_id.in_(rehashed)
                    )
                )
                .tuples()
                .all()
            )
            self.session.execute(
                delete(IdentityDigest).where(IdentityDigest.identity_id.in_(owners.values()))
            )
            for item in digests:
                if "support_id" in item:
                    item["identity_id"] = owners[item.pop("support_id")]
        bulk.insert_rows(self.session, IdentityDigest.__table__, digests)  # type: ignore[arg-type]
