"""Giving a record an identity, linking records, and what each organisation learns.

Two records are *linked* when they share a hash under some key version and neither was
detached. Only hashes are written; the clear values live for the duration of a call.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import ColumnElement

from app.config import get_settings
from app.db import in_values, utcnow
from app.errors import Conflict, NotFound
from app.identity.keys import Key, usable
from app.identity.models import Identity, IdentityDigest, IdentityEvent
from app.identity.normalise import message
from app.identity.schemas import IdentityIn
from app.identity.vocabulary import DetachReason, IdentityEventKind, Subject
from app.matches.models import Match, MatchStatus
from app.matching.problem import NEED_INDEX
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.supports.models import Support

Digests = dict[int, str]  # key version -> hex digest


def digests(keys: Iterable[Key], identity: IdentityIn) -> Digests:
    text = message(identity.first_name, identity.last_name, identity.birth_date)
    return {key.version: key.digest(text) for key in keys}


def hash_identity(session: Session, identity: IdentityIn) -> Digests:
    """The identity's hashes under every usable key (a 422 without a secret)."""
    return digests(usable(session, get_settings()), identity)


OWNER = {"mentee": "mentee_id", "mentor": "mentor_id", "support": "support_id"}


def owner_column(subject: Subject | str) -> ColumnElement[uuid.UUID | None]:
    column: ColumnElement[uuid.UUID | None] = getattr(Identity, OWNER[subject])
    return column


def attach(
    session: Session,
    subject: Subject | str,
    record_id: uuid.UUID,
    organisation_id: uuid.UUID,
    hashes: Digests,
    actor: uuid.UUID | None,
) -> None:
    """Give (or replace) the identity of one record and record the links it makes."""
    attach_many(session, subject, [(record_id, organisation_id, hashes)], actor)


def attach_many(
    session: Session,
    subject: Subject | str,
    items: list[tuple[uuid.UUID, uuid.UUID, Digests]],
    actor: uuid.UUID | None,
) -> None:
    """``attach`` for a batch of records (imports): a few statements per batch."""
    if not items:
        return
    record_ids = [record_id for record_id, _, _ in items]
    column = owner_column(subject)
    before = linked(session, subject, record_ids) if subject != "support" else {}
    existing = {
        owner: identity
        for identity, owner in session.execute(
            select(Identity, column).where(column.in_(record_ids))
        ).tuples()
    }
    if existing:
        session.query(IdentityDigest).filter(
            IdentityDigest.identity_id.in_([i.id for i in existing.values()])
        ).delete(synchronize_session=False)
    rows: list[IdentityDigest] = []
    for record_id, _, hashes in items:
        identity = existing.get(record_id)
        if identity is None:
            identity = Identity(id=uuid.uuid4(), **{OWNER[subject]: record_id})
            session.add(identity)
        else:
            # A new identity is a correction: the earlier detachment no longer applies.
            identity.detached_at = None
            identity.detached_reason = None
        rows.extend(
            IdentityDigest(identity_id=identity.id, key_version=version, digest=digest)
            for version, digest in hashes.items()
        )
    session.flush()
    session.add_all(rows)
    session.flush()
    if subject == "support":
        return
    after = linked(session, subject, record_ids)
    owners = dict(_owners(session, subject, {r for links in after.values() for r in links}))
    owners.update((record_id, organisation) for record_id, organisation, _ in items)
    now = utcnow()
    for record_id, links in after.items():
        new = links - before.get(record_id, set())
        if not new:
            continue
        for linked_id in (record_id, *sorted(new)):
            session.add(
                IdentityEvent(
                    created_at=now,
                    kind=IdentityEventKind.LINKED,
                    subject=Subject(subject),
                    record_id=linked_id,
                    organisation_id=owners[linked_id],
                    actor_organisation_id=actor,
                )
            )
    session.flush()


def _owners(
    session: Session, subject: Subject | str, record_ids: set[uuid.UUID]
) -> Iterable[tuple[uuid.UUID, uuid.UUID]]:
    if not record_ids:
        return []
    model = Mentee if subject == Subject.MENTEE else Mentor
    return list(
        session.execute(
            select(model.id, model.organisation_id).where(model.id.in_(record_ids))
        ).tuples()
    )


CHUNK = 10_000
"""Ids per ``IN`` list: within SQLite's limit of bound parameters, whatever the run size."""


def _chunks(ids: Iterable[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    items = list(ids)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def linked(
    session: Session, subject: Subject | str, record_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """For each record, the other records of the same person (only records that have
    some)."""
    out: dict[uuid.UUID, set[uuid.UUID]] = {}
    for chunk in _chunks(record_ids):
        out.update(_linked(session, subject, chunk))
    return out


def _linked(
    session: Session, subject: Subject | str, ids: list[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    if not ids:
        return {}
    mine, theirs = aliased(Identity), aliased(Identity)
    mine_digest, their_digest = aliased(IdentityDigest), aliased(IdentityDigest)
    mine_owner = getattr(mine, OWNER[subject])
    their_owner = getattr(theirs, OWNER[subject])
    stmt = (
        select(mine_owner, their_owner)
        .join(mine_digest, mine_digest.identity_id == mine.id)
        .join(
            their_digest,
            and_(
                their_digest.key_version == mine_digest.key_version,
                their_digest.digest == mine_digest.digest,
                their_digest.identity_id != mine_digest.identity_id,
            ),
        )
        .join(theirs, theirs.id == their_digest.identity_id)
        .where(
            in_values(mine_owner, ids),
            their_owner.is_not(None),
            mine.detached_at.is_(None),
            theirs.detached_at.is_(None),
        )
        .distinct()
    )
    out: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for record_id, other in session.execute(stmt).tuples():
        assert record_id is not None
        assert other is not None
        out[record_id].add(other)
    return dict(out)


def identity_supports(
    session: Session, mentee_ids: Iterable[uuid.UUID], day: date
) -> dict[uuid.UUID, list[Support]]:
    """Supports declared by identity alone, active on ``day``, that apply to each record."""
    out: dict[uuid.UUID, list[Support]] = {}
    for chunk in _chunks(mentee_ids):
        out.update(_identity_supports(session, chunk, day))
    return out


def _identity_supports(
    session: Session, ids: list[uuid.UUID], day: date
) -> dict[uuid.UUID, list[Support]]:
    if not ids:
        return {}
    record, declared = aliased(Identity), aliased(Identity)
    record_digest, declared_digest = aliased(IdentityDigest), aliased(IdentityDigest)
    stmt = (
        select(record.mentee_id, Support)
        .join(record_digest, record_digest.identity_id == record.id)
        .join(
            declared_digest,
            and_(
                declared_digest.key_version == record_digest.key_version,
                declared_digest.digest == record_digest.digest,
            ),
        )
        .join(declared, declared.id == declared_digest.identity_id)
        .join(Support, Support.id == declared.support_id)
        .where(
            in_values(record.mentee_id, ids),
            record.detached_at.is_(None),
            Support.start_date <= day,
            or_(Support.end_date.is_(None), Support.end_date >= day),
        )
    )
    out: dict[uuid.UUID, dict[uuid.UUID, Support]] = defaultdict(dict)
    for mentee_id, support in session.execute(stmt).tuples():
        assert mentee_id is not None
        out[mentee_id][support.id] = support
    return {mentee_id: list(found.values()) for mentee_id, found in out.items()}


RUNNING = (MatchStatus.ACCEPTED, MatchStatus.ACTIVE)


def covered_needs(
    session: Session, mentee_ids: Iterable[uuid.UUID], day: date
) -> dict[uuid.UUID, set[str]]:
    """Needs covered on each record itself: its active supports and running matches."""
    out: dict[uuid.UUID, set[str]] = defaultdict(set)
    for ids in _chunks(mentee_ids):
        _covered_needs(session, ids, day, out)
    return out


def _covered_needs(
    session: Session, ids: list[uuid.UUID], day: date, out: dict[uuid.UUID, set[str]]
) -> None:
    supports = select(Support.mentee_id, Support.need).where(
        in_values(Support.mentee_id, ids),
        Support.start_date <= day,
        or_(Support.end_date.is_(None), Support.end_date >= day),
    )
    running = select(Match.mentee_id, Match.need).where(
        in_values(Match.mentee_id, ids), Match.status.in_(RUNNING)
    )
    for mentee_id, need in [*session.execute(supports).tuples(), *session.execute(running)]:
        if mentee_id is not None:
            out[mentee_id].add(need)


def elsewhere(
    session: Session, records: list[tuple[uuid.UUID, uuid.UUID]], day: date
) -> dict[uuid.UUID, tuple[bool, list[str]]]:
    """For each of an organisation's records: whether another organisation follows the
    same person, and which needs are supported elsewhere (on a linked record, or by a
    support declared by identity) — nothing that says who, or which record."""
    ids = [record_id for record_id, _ in records]
    links = linked(session, Subject.MENTEE, ids)
    others = {o for found in links.values() for o in found}
    owner = dict(_owners(session, Subject.MENTEE, others))
    covered = covered_needs(session, others, day)
    declared = identity_supports(session, ids, day)
    out = {}
    for record_id, organisation_id in records:
        linked_ids = links.get(record_id, set())
        needs = {need for other in linked_ids for need in covered.get(other, ())}
        supports = declared.get(record_id, [])
        needs.update(support.need for support in supports)
        followed = any(owner.get(o) != organisation_id for o in linked_ids) or any(
            support.organisation_id != organisation_id for support in supports
        )
        out[record_id] = (followed, sorted(needs, key=_need_order))
    return out


def _need_order(need: str) -> int:
    return NEED_INDEX.get(need, len(NEED_INDEX))


def detach(
    session: Session,
    subject: Subject,
    record_id: uuid.UUID,
    organisation_id: uuid.UUID,
    reason: DetachReason,
    actor: uuid.UUID | None,
) -> Identity:
    """The organisation believes its record was wrongly linked: it stops being linked to
    anyone (until it is given an identity again)."""
    identity = session.scalars(
        select(Identity).where(owner_column(subject) == record_id).with_for_update()
    ).first()
    if identity is None:
        raise NotFound(f"{subject} {record_id} has no identity")
    if identity.detached_at is not None:
        raise Conflict(f"{subject} {record_id} is already detached")
    identity.detached_at = utcnow()
    identity.detached_reason = reason
    session.add(
        IdentityEvent(
            kind=IdentityEventKind.DETACHED,
            subject=subject,
            record_id=record_id,
            organisation_id=organisation_id,
            actor_organisation_id=actor,
            reason=reason,
        )
    )
    session.flush()
    return identity


def identity_of(session: Session, subject: Subject, record_id: uuid.UUID) -> Identity | None:
    return session.scalars(select(Identity).where(owner_column(subject) == record_id)).first()
