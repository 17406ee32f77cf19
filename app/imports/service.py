"""The import engine: validate rows with the single-record rules, upsert in batches.

Rows stream in (CSV or JSON, ``app.imports.sources``), are validated one by one with the API schemas
(``MentorCreate`` / ``MenteeCreate``) and the domain rules of ``app.mentors.service`` /
``app.mentees.service`` (employer, referrer, geocoding, programmes), then written in
batches: one SELECT of the batch's existing records, one multi-row INSERT for the new
ones, one executemany UPDATE for the changed ones. Lookups that repeat across rows
(geocoding, employers, programme ids) are cached for the import.

The caller owns the transaction: in atomic mode any rejected row stops the writes and the
caller rolls back; in partial mode valid rows are written and the caller commits once.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import String, Table, Uuid, any_, bindparam, delete, exists, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import TypeEngine

from app.auth.service import Caller
from app.config import get_settings
from app.db import utcnow
from app.errors import NotFound, ValidationFailed
from app.geo import GeocodingError, Place, geocode
from app.identity import service as identity
from app.identity.keys import Key, usable
from app.identity.vocabulary import Subject
from app.imports import bulk, echo
from app.imports.columns import column_for
from app.imports.sources import SourceRow
from app.imports.vocabulary import ImportFormat, ImportKind, ImportMode
from app.locations import LocationIn
from app.mentees import service as mentees
from app.mentees.models import Mentee, mentee_programmes
from app.mentees.schemas import MenteeCreate
from app.mentors import service as mentors
from app.mentors.models import Mentor, mentor_programmes
from app.mentors.schemas import MentorCreate
from app.organisations.models import Organisation
from app.problems import field_path
from app.programmes.models import Programme

RowError = dict[str, Any]


@dataclass
class Prepared:
    row: int
    external_id: str
    values: dict[str, Any]
    programme_ids: list[uuid.UUID]
    hashes: identity.Digests | None = None
    """Keyed hashes of the row's identity (the clear values are not kept)."""


@dataclass
class Outcome:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_truncated: bool = False

    @property
    def written(self) -> bool:
        return bool(self.created or self.updated or self.deactivated)


@dataclass(frozen=True)
class KindSpec:
    kind: ImportKind
    table: Table
    links: Table
    link_column: str
    schema: type[BaseModel]


SPECS = {
    ImportKind.MENTORS: KindSpec(
        ImportKind.MENTORS,
        Mentor.__table__,  # type: ignore[arg-type]
        mentor_programmes,
        "mentor_id",
        MentorCreate,
    ),
    ImportKind.MENTEES: KindSpec(
        ImportKind.MENTEES,
        Mentee.__table__,  # type: ignore[arg-type]
        mentee_programmes,
        "mentee_id",
        MenteeCreate,
    ),
}


def check_target(session: Session, kind: ImportKind, organisation_id: uuid.UUID) -> None:
    """The organisation imported into exists and may own such records."""
    if kind is ImportKind.MENTEES:
        mentees.check_referrer(session, organisation_id)
    elif session.get(Organisation, organisation_id) is None:
        raise NotFound(f"no organisation {organisation_id}")


# --- The engine ------------------------------------------------------------------------


class Importer:
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
        self.session = session
        self.caller = caller
        self.spec = SPECS[kind]
        self.organisation_id = organisation_id
        self.mode = mode
        self.format = file_format
        self.deactivate_missing = deactivate_missing
        self.batch_size = batch_size
        self.max_errors = max_errors
        self.outcome = Outcome()
        self.writing = True
        self.seen: dict[str, int] = {}  # external id -> first row
        self._places: dict[tuple[Any, ...], Place | GeocodingError] = {}
        self._employers: dict[tuple[Any, ...], uuid.UUID | ValidationFailed | None] = {}
        self._programmes: dict[uuid.UUID, bool] = {}
        self._batch: list[Prepared] = []
        self._batch_errors: list[RowError] = []
        self._batch_rejected: set[int] = set()
        self._row_errors: dict[int, int] = {}  # row -> errors found (listed or not)
        self._now = utcnow()
        self._postgres = bulk.is_postgres(session)
        self._links_exist: bool | None = None
        self._identity_keys: list[Key] | ValidationFailed | None = None
        # A first import into an empty pool needs no lookup of existing records.
        self._pool_empty = not session.scalar(
            select(exists().where(self.spec.table.c.organisation_id == organisation_id))
        )

    # Public entry point ---------------------------------------------------------------

    def run(self, rows: Iterable[SourceRow]) -> Outcome:
        for source in rows:
            self.outcome.rows += 1
            self._take(source)
            if len(self._batch) >= self.batch_size:
                self._flush_batch()
        self._flush_batch()
        if self.outcome.rejected and self.mode is ImportMode.ATOMIC:
            self.writing = False
        if self.writing and self.deactivate_missing:
            self._deactivate_missing()
        if not self.writing:
            self.outcome.created = self.outcome.updated = self.outcome.unchanged = 0
            self.outcome.deactivated = 0
        self.outcome.errors.sort(key=lambda error: error["row"])
        return self.outcome

    # One row --------------------------------------------------------------------------

    def _take(self, source: SourceRow) -> None:
        row = source.row
        external_id = source.external_id or _external_id(source.record)
        if external_id is not None:
            first = self.seen.setdefault(external_id, row)
            if first != row:
                self._reject(
                    row,
                    "external_id",
                    f"this external_id already appears on row {first}; "
                    "each person appears once per file",
                    external_id,
                )
                return
        for column, message in source.problems:
            self._reject(row, column, message, external_id)
        if source.record is None:
            return
        unreadable = {column for column, _ in source.problems}
        prepared = self._validate(row, source.record, external_id, unreadable)
        if prepared is not None and not source.problems:
            self._batch.append(prepared)

    def _validate(
        self, row: int, record: dict[str, Any], external_id: str | None, unreadable: set[Any]
    ) -> Prepared | None:
        """The row checked as the single-record API checks it; ``unreadable`` cells were
        already reported and are left out of the record."""
        try:
            data: Any = self.spec.schema.model_validate(record)
        except PydanticValidationError as exc:
            failed: list[str] = []
            for error in exc.errors():
                message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
                path = field_path(tuple(error.get("loc", ())))
                failed.append(path)
                if column_for(path, self.spec.kind) not in unreadable:
                    self._reject(row, path, message, external_id)
            unplaced = self._unplaced(record, failed)
            if unplaced is not None:
                self._reject(row, f"location.{unplaced.field}", unplaced.message, external_id)
            return None
        errors: list[tuple[str, str]] = []
        if data.organisation_id is not None and data.organisation_id != self.organisation_id:
            errors.append(("organisation_id", "must be the importing organisation, or omitted"))
        place = self._place(data.location)
        if isinstance(place, GeocodingError):
            errors.append((f"location.{place.field}", place.message))
        employer_id: uuid.UUID | None = None
        if self.spec.kind is ImportKind.MENTORS:
            employer = self._employer(data.kind, data.employer_id)
            if isinstance(employer, ValidationFailed):
                errors.extend((e["field"], e["message"]) for e in employer.errors)
            else:
                employer_id = employer
        hashes = None
        if data.identity is not None:
            keys = self._keys()
            if isinstance(keys, ValidationFailed):
                errors.extend((e["field"], e["message"]) for e in keys.errors)
            else:
                hashes = identity.digests(keys, data.identity)
        if errors:
            for path, message in errors:
                self._reject(row, path, message, data.external_id)
            return None
        assert isinstance(place, Place)
        if self.spec.kind is ImportKind.MENTORS:
            values = mentors.row_values(data, employer_id, place)
        else:
            values = mentees.row_values(data, place)
        return Prepared(row, data.external_id, values, list(data.programme_ids), hashes)

    def _keys(self) -> list[Key] | ValidationFailed:
        if self._identity_keys is None:
            try:
                self._identity_keys = usable(self.session, get_settings())
            except ValidationFailed as exc:
                self._identity_keys = exc
        return self._identity_keys

    def _unplaced(self, record: dict[str, Any], failed: list[str]) -> GeocodingError | None:
        """A row failing validation is still geocoded when its location is well formed,
        so that it reports every error at once (an unknown commune and a bad capacity)."""
        if any(path == "location" or path.startswith("location.") for path in failed):
            return None
        try:
            location = LocationIn.model_validate(record.get("location"))
        except PydanticValidationError:
            return None
        place = self._place(location)
        return place if isinstance(place, GeocodingError) else None

    def _place(self, location: LocationIn) -> Place | GeocodingError:
        key = (location.insee, location.postcode, location.lat, location.lon)
        found = self._places.get(key)
        if found is None:
            try:
                found = geocode(
                    insee=location.insee,
                    postcode=location.postcode,
                    lat=location.lat,
                    lon=location.lon,
                )
            except GeocodingError as exc:
                found = exc
            self._places[key] = found
        return found

    def _employer(self, kind: Any, employer_id: Any) -> uuid.UUID | ValidationFailed | None:
        key = (kind, employer_id)
        if key not in self._employers:
            try:
                self._employers[key] = mentors.employer_for_new(
                    self.session, self.caller, kind, employer_id
                )
            except ValidationFailed as exc:
                self._employers[key] = exc
        return self._employers[key]

    def _reject(
        self, row: int, path: str | None, message: str, external_id: str | None = None
    ) -> None:
        first = row not in self._batch_rejected
        listed = self._row_errors.get(row, 0)
        self._row_errors[row] = listed + 1
        if listed > echo.MAX_ROW_ERRORS:
            return
        error: RowError = {"row": row}
        if listed == echo.MAX_ROW_ERRORS:
            path = None
            message = f"more errors on this row are not listed (at most {echo.MAX_ROW_ERRORS})"
        if self.format is ImportFormat.CSV:
            column = column_for(path, self.spec.kind) if path else None
            error["column"] = _storable(echo.clip(column)) if column else None
        if path and path != "body":
            error["field"] = _storable(echo.clip(path))
        error["message"] = _storable(echo.clip_message(message))
        if external_id is not None and first:
            # Named once per row, cut: a row's errors do not each repeat a huge cell.
            error["external_id"] = _storable(echo.clip(external_id))
        self._batch_errors.append(error)
        if first:
            self._batch_rejected.add(row)
            self.outcome.rejected += 1
        if self.mode is ImportMode.ATOMIC:
            self.writing = False

    # One batch ------------------------------------------------------------------------

    def _flush_batch(self) -> None:
        batch = self._check_programmes(self._batch)
        self._batch = []
        if batch and self.writing:
            self._write(batch)
        self._batch_errors.sort(key=lambda error: error["row"])
        room = self.max_errors - len(self.outcome.errors)
        if len(self._batch_errors) > room:
            self.outcome.errors_truncated = True
        self.outcome.errors.extend(self._batch_errors[: max(room, 0)])
        self._batch_errors = []
        self._batch_rejected = set()
        self._row_errors = {}

    def _check_programmes(self, batch: list[Prepared]) -> list[Prepared]:
        wanted = {pid for item in batch for pid in item.programme_ids}
        unknown = wanted - self._programmes.keys()
        if unknown:
            found = set(self.session.scalars(select(Programme.id).where(Programme.id.in_(unknown))))
            self._programmes.update((pid, pid in found) for pid in unknown)
        valid = []
        for item in batch:
            missing = [
                (index, pid)
                for index, pid in enumerate(item.programme_ids)
                if not self._programmes[pid]
            ]
            for index, pid in missing:
                self._reject(
                    item.row,
                    f"programme_ids[{index}]",
                    f"unknown programme {pid}",
                    item.external_id,
                )
            if not missing:
                valid.append(item)
        return valid

    def _write(self, batch: list[Prepared]) -> None:
        spec = self.spec
        table = spec.table
        compared = list(batch[0].values)
        stored: dict[str, tuple[Any, ...]] = {}  # external id -> (id, *compared values)
        if not self._pool_empty:
            external_ids = [item.external_id for item in batch]
            query = (
                select(table.c.external_id, table.c.id, *(table.c[name] for name in compared))
                .where(table.c.organisation_id == self.organisation_id)
                .where(self._member(table.c.external_id, external_ids, String()))
            )
            stored = {row[0]: tuple(row[1:]) for row in self.session.execute(query).all()}
        stored_links = self._stored_links([row[0] for row in stored.values()], batch)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        changed_columns: set[str] = set()
        new_links: list[dict[str, Any]] = []
        relinked: list[uuid.UUID] = []
        identities: list[tuple[uuid.UUID, uuid.UUID, identity.Digests]] = []
        for item in batch:
            current = stored.get(item.external_id)
            record_id = uuid.uuid4() if current is None else current[0]
            if item.hashes is not None:
                identities.append((record_id, self.organisation_id, item.hashes))
            if current is None:
                inserts.append(
                    {
                        "id": record_id,
                        "organisation_id": self.organisation_id,
                        "external_id": item.external_id,
                        "created_at": self._now,
                        "updated_at": self._now,
                        **item.values,
                    }
                )
                new_links.extend(
                    {spec.link_column: record_id, "programme_id": pid}
                    for pid in dict.fromkeys(item.programme_ids)
                )
                continue
            changed = [
                name
                for name, old in zip(compared, current[1:], strict=True)
                if old != item.values[name]
            ]
            links = set(item.programme_ids)
            same_links = stored_links.get(record_id, set()) == links
            if not changed and same_links:
                self.outcome.unchanged += 1
                continue
            self.outcome.updated += 1
            changed_columns.update(changed)
            updates.append({"b_id": record_id, "updated_at": self._now, **item.values})
            if not same_links:
                relinked.append(record_id)
                new_links.extend(
                    {spec.link_column: record_id, "programme_id": pid} for pid in links
                )
        if updates:
            # Every row of the batch sets the same columns: those that changed in any of them.
            keep = ["b_id", "updated_at", *sorted(changed_columns)]
            updates = [{name: row[name] for name in keep} for row in updates]
        bulk.insert_rows(self.session, table, inserts)
        self.outcome.created += len(inserts)
        bulk.update_rows(self.session, table, updates, key="b_id")
        if relinked:
            links_table = spec.links
            self.session.execute(
                delete(links_table).where(
                    self._member(links_table.c[spec.link_column], relinked, Uuid())
                )
            )
        bulk.insert_rows(self.session, spec.links, new_links)
        subject = Subject.MENTOR if spec.kind is ImportKind.MENTORS else Subject.MENTEE
        identity.attach_many(self.session, subject, identities, self.caller.organisation_id)

    def _stored_links(
        self, record_ids: list[uuid.UUID], batch: list[Prepared]
    ) -> dict[uuid.UUID, set[uuid.UUID]]:
        """Programme links of the batch's stored records (none to read when neither the
        organisation's records nor the batch have any)."""
        links = self.spec.links
        owner = links.c[self.spec.link_column]
        if self._links_exist is None:
            table = self.spec.table
            self._links_exist = bool(
                self.session.scalar(
                    select(
                        exists().where(
                            owner == table.c.id, table.c.organisation_id == self.organisation_id
                        )
                    )
                )
            )
        if not record_ids or not (self._links_exist or any(i.programme_ids for i in batch)):
            return {}
        result: dict[uuid.UUID, set[uuid.UUID]] = {}
        for record_id, programme_id in self.session.execute(
            select(owner, links.c.programme_id).where(self._member(owner, record_ids, Uuid()))
        ):
            result.setdefault(record_id, set()).add(programme_id)
        return result

    def _member(
        self, column: Any, values: list[Any], item_type: TypeEngine[Any]
    ) -> ColumnElement[bool]:
        """``column IN (values)``; on PostgreSQL ``= ANY(array)``, one parameter whatever
        the batch size, so the statement text (and its preparation) is reused."""
        if self._postgres:
            return column == any_(bindparam("members", values, type_=ARRAY(item_type)))  # type: ignore[no-any-return]
        return column.in_(values)  # type: ignore[no-any-return]

    # After the last row ---------------------------------------------------------------

    def _deactivate_missing(self) -> None:
        """Deactivate (never delete) this organisation's active records whose external id
        the file does not mention; matches and other links are left as they are."""
        table = self.spec.table
        missing = [
            record_id
            for record_id, external_id in self.session.execute(
                select(table.c.id, table.c.external_id).where(
                    table.c.organisation_id == self.organisation_id, table.c.active.is_(True)
                )
            )
            if external_id not in self.seen
        ]
        for start in range(0, len(missing), self.batch_size):
            chunk = missing[start : start + self.batch_size]
            self.session.execute(
                update(table)
                .where(table.c.id.in_(chunk))
                .values(active=False, updated_at=self._now)
            )
        self.outcome.deactivated = len(missing)


def _storable(text: str) -> str:
    """Reports echo user input; PostgreSQL cannot store a NUL character in JSON or text."""
    return text.replace("\x00", "\\x00")


def _external_id(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    value = record.get("external_id")
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Not a valid external id (a string), but readable: the row mentions that record.
        return str(value)
    return value if isinstance(value, str) and value else None
