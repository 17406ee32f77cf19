from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path

from app.auth.deps import CallerDep
from app.db import SessionDep
from app.fields import DepartmentCode
from app.territories import service
from app.territories.schemas import TerritoryDiagnostic, TerritoryOverview

router = APIRouter(prefix="/v1/territories", tags=["territories"])


@router.get("", response_model=TerritoryOverview)
def national_overview(session: SessionDep, caller: CallerDep) -> TerritoryOverview:
    """Every department's headline figures and the nation's: young people, mentors,
    needs waiting and supported, what matching did. Small counts, and the counts that
    would reveal them by subtraction, are withheld (``null``) except for admins."""
    return service.overview(session, date.today(), exact=caller.is_admin)


@router.get("/departments/{department}", response_model=TerritoryDiagnostic)
def department_diagnostic(
    department: Annotated[DepartmentCode, Path(examples=["93"])],
    session: SessionDep,
    caller: CallerDep,
) -> TerritoryDiagnostic:
    """Young people waiting and supported per need, and mentors able to help, per commune.

    Aggregated figures only, open to every role; counts from 1 to 4, and the counts that
    would reveal them by subtraction from a published total, are withheld (``null``)
    except for admins.
    """
    return service.diagnostic(session, department, date.today(), exact=caller.is_admin)
