"""What a run's proposals show of a young person the caller does not refer.

A run of an association's programmes may propose young people referred by another
association (nobody enrolled them in a programme). The caller sees of them only what it
could read through the record itself — nothing — plus the minimum to act on a proposal:
the need, the commune, the age band and the distance. Their id, score and score breakdown
(which reveal priority neighbourhood, waiting time…) are withheld; the full record reaches
the programme's association only through a committed match.
"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.service import Caller
from app.mentees.models import Mentee
from app.runs.models import RunProposal
from app.runs.schemas import ProposalRead

AGE_BANDS = ((14, "under_15"), (17, "15_17"), (25, "18_25"))


def age_band(birth_year: int, on: date) -> str:
    age = on.year - birth_year
    return next((band for upper, band in AGE_BANDS if age <= upper), "26_plus")


def render(
    session: Session, caller: Caller, run_date: date, proposals: Sequence[RunProposal]
) -> list[ProposalRead]:
    ids = {p.mentee_id for p in proposals}
    people = {
        row.id: row
        for row in session.execute(
            select(
                Mentee.id, Mentee.organisation_id, Mentee.commune_insee, Mentee.birth_year
            ).where(Mentee.id.in_(ids))
        )
    }
    rendered = []
    for proposal in proposals:
        view = ProposalRead.model_validate(proposal)
        person = people.get(proposal.mentee_id)
        if person is None:  # erased meanwhile (the proposal row goes with it)
            continue
        update: dict[str, object] = {
            "mentee_commune": person.commune_insee,
            "mentee_age_band": age_band(person.birth_year, run_date),
        }
        if not caller.is_admin and person.organisation_id != caller.organisation_id:
            update |= {
                "mentee_disclosed": False,
                "mentee_id": None,
                "score": None,
                "score_breakdown": None,
            }
        rendered.append(view.model_copy(update=update))
    return rendered
