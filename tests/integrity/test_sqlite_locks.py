"""``SELECT … FOR UPDATE`` is a real lock on SQLite as on PostgreSQL: a read-decide-write
section (run claim, cancellation, failure report, match transition) excludes writers
until it commits."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.db import make_engine
from app.organisations.models import Organisation
from app.vocabulary import OrganisationKind


def test_a_locked_read_keeps_other_writers_out(tmp_path: Path) -> None:
    # SQLite only: PostgreSQL's FOR UPDATE is a row lock already.
    db_url = f"sqlite:///{tmp_path / 'locks.db'}"
    engine = make_engine(db_url)
    Organisation.__table__.create(engine)
    with Session(engine) as setup:
        setup.add(Organisation(name="Proxité", kind=OrganisationKind.ASSOCIATION))
        setup.commit()
    other = create_engine(db_url, connect_args={"timeout": 0.2})
    with Session(engine) as session:
        locked = session.scalars(select(Organisation).with_for_update()).one()
        with other.begin() as connection, pytest.raises(OperationalError, match="locked"):
            connection.execute(update(Organisation).values(name="changed behind its back"))
        locked.name = "Proxité 93"
        session.commit()
    with other.connect() as connection:
        assert connection.execute(text("SELECT name FROM organisations")).scalar() == "Proxité 93"
    other.dispose()
    engine.dispose()
