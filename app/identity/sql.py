"""SQL helpers so that figures count people, not records.

The *person key* of a young person's record is its hash under the oldest key version in
use — every record referred since that key was introduced has one — or, for a record
without identity (or detached), its own id. Counting distinct person keys counts people.
"""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import ColumnElement

from app.identity.keys import oldest_active_version
from app.identity.models import DIGEST_LENGTH, Identity, IdentityDigest
from app.identity.service import covered_needs, elsewhere
from app.mentees.models import Mentee
from app.mentors.models import Mentor


def person_key(session: Session) -> ColumnElement[str]:
    """A SQL expression over ``Mentee``: the same value for linked records."""
    version = oldest_active_version(session)
    own_id = cast(Mentee.id, String)
    if version is None:
        return own_id.label("person_key")
    digest = (
        select(IdentityDigest.digest)
        .join(Identity, Identity.id == IdentityDigest.identity_id)
        .where(
            Identity.mentee_id == Mentee.id,
            Identity.detached_at.is_(None),
            IdentityDigest.key_version == version,
        )
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(digest, own_id).label("person_key")


def linked_elsewhere() -> ColumnElement[bool]:
    """A SQL condition over ``Mentee``: the record is linked to a record of another
    organisation."""
    mine, theirs = aliased(Identity), aliased(Identity)
    mine_d, theirs_d = aliased(IdentityDigest), aliased(IdentityDigest)
    other = aliased(Mentee)
    return exists(
        select(1)
        .select_from(mine)
        .join(mine_d, mine_d.identity_id == mine.id)
        .join(
            theirs_d,
            and_(
                theirs_d.key_version == mine_d.key_version,
                theirs_d.digest == mine_d.digest,
                theirs_d.identity_id != mine_d.identity_id,
            ),
        )
        .join(theirs, theirs.id == theirs_d.identity_id)
        .join(other, other.id == theirs.mentee_id)
        .where(
            mine.mentee_id == Mentee.id,
            mine.detached_at.is_(None),
            theirs.detached_at.is_(None),
            other.organisation_id != Mentee.organisation_id,
        )
    )


def duplicate_referrals(session: Session, *conditions: ColumnElement[bool]) -> int:
    """Records (matching ``conditions``) linked to another organisation's record."""
    stmt = select(func.count()).select_from(Mentee).where(*conditions, linked_elsewhere())
    return int(session.scalar(stmt) or 0)


def duplicate_supports_avoided(
    session: Session, day: date, *conditions: ColumnElement[bool]
) -> int:
    """Needs of the records (matching ``conditions``) that are not supported on the record
    itself but by another actor for the same person (a linked record, or a support
    declared by identity): supports that would otherwise have been given twice."""
    with_identity = exists().where(Identity.mentee_id == Mentee.id, Identity.detached_at.is_(None))
    rows = session.execute(
        select(Mentee.id, Mentee.organisation_id, Mentee.needs).where(*conditions, with_identity)
    ).all()
    if not rows:
        return 0
    found = elsewhere(session, [(r.id, r.organisation_id) for r in rows], day)
    own = covered_needs(session, [r.id for r in rows], day)
    return sum(len((set(r.needs) & set(found[r.id][1])) - own.get(r.id, set())) for r in rows)


def by_person(
    session: Session,
    rows: Sequence[Any],
    supported: dict[Any, set[str]],
    day: date,
) -> list[tuple[str, str, list[str], bool, Any]]:
    """``(id, commune, needs, qpv, rural_zone)`` rows of records → the same rows, one per
    person (keyed by the person key; the first record's commune; needs merged), with
    ``supported`` extended to the person (supports on any of its records, and those
    declared by identity)."""
    ids = [row[0] for row in rows]
    keys: dict[uuid.UUID, str] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        keys.update(
            session.execute(select(Mentee.id, person_key(session)).where(Mentee.id.in_(chunk)))
            .tuples()
            .all()
        )
    # Only records with an identity can be covered elsewhere (no organisation has the
    # nil id, so every owner counts as "elsewhere" here: the person's coverage is wanted).
    linked_ids = [i for i in ids if len(keys.get(i, "")) == DIGEST_LENGTH]
    declared = elsewhere(session, [(i, uuid.UUID(int=0)) for i in linked_ids], day)
    people: dict[str, tuple[str, str, list[str], bool, Any]] = {}
    for record_id, insee, needs, qpv, rural_zone in sorted(rows, key=lambda r: str(r[0])):
        key = keys.get(record_id, str(record_id))
        covered = supported.setdefault(key, set())
        covered.update(supported.get(record_id, set()))
        covered.update(declared.get(record_id, (False, []))[1])
        if key in people:
            first = people[key]
            merged = [*first[2], *(n for n in needs if n not in first[2])]
            people[key] = (key, first[1], merged, first[3] or qpv, first[4])
        else:
            people[key] = (key, insee, list(needs), qpv, rural_zone)
    return list(people.values())


Owner = type[Mentee] | type[Mentor]


def _live_digests(session: Session, model: Owner) -> Any:
    """Each record's live hash under the oldest key version (None: no key in use)."""
    version = oldest_active_version(session)
    if version is None:
        return None
    owner = Identity.mentee_id if model is Mentee else Identity.mentor_id
    return (
        select(owner.label("owner_id"), IdentityDigest.digest.label("digest"))
        .join(IdentityDigest, IdentityDigest.identity_id == Identity.id)
        .where(
            owner.is_not(None),
            Identity.detached_at.is_(None),
            IdentityDigest.key_version == version,
        )
        .subquery("live_identity")
    )


def keyed(session: Session, model: Owner, source: Any) -> tuple[Any, ColumnElement[str]]:
    """``source`` (a FROM clause holding ``model``) joined to each record's live hash
    under the oldest key version, and the record's person key over that join: the same
    key as :func:`person_key`, computed by a join instead of one lookup per row."""
    live = _live_digests(session, model)
    own_id = cast(model.id, String)
    if live is None:
        return source, own_id
    return source.outerjoin(live, live.c.owner_id == model.id), func.coalesce(live.c.digest, own_id)


def people(
    session: Session,
    model: Owner,
    columns: dict[str, Any],
    flags: dict[str, ColumnElement[bool]],
    *,
    where: Sequence[ColumnElement[bool]] = (),
    source: Any = None,
    per: Sequence[ColumnElement[Any]] = (),
    identity_flags: Sequence[str] = (),
) -> Any:
    """One row per person among the records of ``model`` (over ``source``, filtered by
    ``where``): ``columns`` as on the person's first record (by id), each flag as the
    number of the person's records where it holds (so ``> 0``: on any of them), and
    ``person`` (the person key). ``per``: more partition keys, e.g. the organisation,
    for one row per person and organisation. ``identity_flags``: flags that can only
    hold on a record with an identity (not evaluated on the others).

    A person's figures are read on one record (where they live) and merged from all of
    them (what they need, whether any of their records is supported): counted per place,
    every person is counted once and the places still add up. Records without identity
    are people of their own and skip the grouping (most records: the grouping sorts)."""
    base = model.__table__ if source is None else source
    live = _live_digests(session, model)

    def records(person: Any, joined: Any, *more: ColumnElement[bool], alone: bool) -> Any:
        def flag_value(name: str, flag: ColumnElement[bool]) -> Any:
            if alone and name in identity_flags:
                return literal(0).label(name)
            return case((flag, 1), else_=0).label(name)

        return (
            select(
                model.id.label("record_id"),
                person.label("person"),
                *(column.label(name) for name, column in columns.items()),
                *(flag_value(name, flag) for name, flag in flags.items()),
                *(key.label(f"per_{i}") for i, key in enumerate(per)),
            )
            .select_from(joined)
            .where(*where, *more)
            # Kept as a subquery (PostgreSQL would otherwise fold it into the query
            # above and evaluate each flag once per measure using it, not once per row).
            .offset(0)
        )

    def shown(rows: Any) -> list[Any]:
        return [rows.c.person, *(rows.c[name] for name in columns), *(rows.c[n] for n in flags)]

    if live is None:
        alone = records(cast(model.id, String), base, alone=True).subquery("records")
        return select(*shown(alone)).subquery("people")
    joined = base.outerjoin(live, live.c.owner_id == model.id)
    alone = records(cast(model.id, String), joined, live.c.digest.is_(None), alone=True)
    linked = records(live.c.digest, joined, live.c.digest.is_not(None), alone=False)
    alone, linked = alone.subquery("alone"), linked.subquery("linked")
    partition = [linked.c.person, *(linked.c[f"per_{i}"] for i in range(len(per)))]
    first = func.row_number().over(partition_by=partition, order_by=linked.c.record_id)
    ranked = select(
        linked.c.person,
        *(linked.c[name] for name in columns),
        *(func.sum(linked.c[name]).over(partition_by=partition).label(name) for name in flags),
        first.label("rank"),
    ).subquery("ranked")
    grouped = select(*shown(ranked)).where(ranked.c.rank == 1)
    return union_all(select(*shown(alone)), grouped).subquery("people")
